// -network values: the Controller to use and the chain the RPC must serve.
import { getAddress, isAddress, type Address } from 'viem';
import { EthConfigError } from './errors.ts';

export const ARBITRUM_ONE_CHAIN_ID = 42161;
export const ARBITRUM_ONE_CONTROLLER: Address = '0xD8E8328501E9645d16Cf49539efC04f734606ee4';

export interface OnchainNetwork {
  name: string;
  offchain: false;
  controller: Address;
  /** The chain id the RPC must report; undefined for custom networks (any chain accepted). */
  chainId?: number;
  /** Arbitrum counts rounds in L1 blocks and redeems at L2 gas costs. */
  arbitrum: boolean;
}

export interface OffchainNetwork {
  name: 'offchain';
  offchain: true;
}

export type Network = OnchainNetwork | OffchainNetwork;

interface KnownNetwork {
  controller: Address;
  chainId: number;
  arbitrum: boolean;
}

const KNOWN: Record<string, KnownNetwork> = {
  'arbitrum-one-mainnet': { controller: ARBITRUM_ONE_CONTROLLER, chainId: ARBITRUM_ONE_CHAIN_ID, arbitrum: true },
};

/** Resolves -network and -ethController the way go-livepeer does. */
export function resolveNetwork(name: string, ethController = ''): Network {
  const network = name.trim() || 'offchain';
  if (network === 'offchain') return { name: 'offchain', offchain: true };
  const controller = ethController.trim();
  if (controller && !isAddress(controller, { strict: false })) {
    throw new EthConfigError(`-ethController ${controller} is not an Ethereum address (expected 0x followed by 40 hex digits)`);
  }
  const known = KNOWN[network];
  if (known) {
    return {
      name: network,
      offchain: false,
      controller: controller ? getAddress(controller) : known.controller,
      chainId: known.chainId,
      arbitrum: known.arbitrum,
    };
  }
  if (!controller) {
    throw new EthConfigError(
      `-network ${network} is not a known network, so its Controller address is unknown: pass -ethController <address>, ` +
        `or use -network arbitrum-one-mainnet (or offchain)`,
    );
  }
  // Custom networks (devnets, Arbitrum forks): any chain id is accepted; Arbitrum's rules apply.
  return { name: network, offchain: false, controller: getAddress(controller), arbitrum: true };
}

export function knownNetworkNames(): string[] {
  return ['offchain', ...Object.keys(KNOWN)];
}
