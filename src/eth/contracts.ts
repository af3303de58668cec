// Protocol contract addresses, looked up live in the Controller registry (getContract(keccak256(name))),
// all in one Multicall3 request, as go-livepeer does at start-up.
import { keccak256, toHex, zeroAddress, type Address, type Hex } from 'viem';
import { controllerAbi } from './abi/controller.ts';
import type { EthClient } from './client.ts';
import { ContractNotFoundError, EthUnreachableError, unwrapEthError } from './errors.ts';

export const CONTRACT_NAMES = ['TicketBroker', 'BondingManager', 'RoundsManager', 'ServiceRegistry', 'LivepeerToken', 'Minter'] as const;
export type ContractName = (typeof CONTRACT_NAMES)[number];

export interface LivepeerContracts {
  controller: Address;
  ticketBroker: Address;
  bondingManager: Address;
  roundsManager: Address;
  serviceRegistry: Address;
  livepeerToken: Address;
  minter: Address;
}

/** The Controller id of a registry name. */
export function contractId(name: string): Hex {
  return keccak256(toHex(name));
}

const FIELD: Record<ContractName, Exclude<keyof LivepeerContracts, 'controller'>> = {
  TicketBroker: 'ticketBroker',
  BondingManager: 'bondingManager',
  RoundsManager: 'roundsManager',
  ServiceRegistry: 'serviceRegistry',
  LivepeerToken: 'livepeerToken',
  Minter: 'minter',
};

const cache = new WeakMap<EthClient, Map<Address, Promise<LivepeerContracts>>>();

/** Resolves (once per client and Controller) the addresses of the contracts the gateway uses. */
export function resolveContracts(eth: EthClient, controller: Address = eth.network.controller): Promise<LivepeerContracts> {
  let perClient = cache.get(eth);
  if (!perClient) {
    perClient = new Map();
    cache.set(eth, perClient);
  }
  let pending = perClient.get(controller);
  if (!pending) {
    pending = lookUp(eth, controller);
    perClient.set(controller, pending);
    // A failed look-up (RPC down) is retried on the next call.
    pending.catch(() => perClient.delete(controller));
  }
  return pending;
}

async function lookUp(eth: EthClient, controller: Address): Promise<LivepeerContracts> {
  const read = () =>
    eth.publicClient.multicall({
      allowFailure: true,
      contracts: CONTRACT_NAMES.map((name) => ({
        address: controller,
        abi: controllerAbi,
        functionName: 'getContract' as const,
        args: [contractId(name)] as const,
      })),
    });
  let results: Awaited<ReturnType<typeof read>>;
  try {
    results = await read();
  } catch (err) {
    const e = unwrapEthError(err);
    if (e instanceof EthUnreachableError) throw e;
    await refuseWithoutMulticall3(eth);
    throw new ContractNotFoundError(
      `cannot read the Livepeer Controller at ${controller} on chain ${eth.chainId}: is Multicall3 deployed at ${eth.multicall3} ` +
        `and is -ethController right? (${(e as Error).message.split('\n')[0]})`,
    );
  }
  const out = { controller } as LivepeerContracts;
  const missing: string[] = [];
  CONTRACT_NAMES.forEach((name, i) => {
    const r = results[i]!;
    if (r.status !== 'success' || r.result === zeroAddress) missing.push(name);
    else out[FIELD[name]] = r.result;
  });
  if (missing.length === CONTRACT_NAMES.length) {
    // Without Multicall3 every batched read fails as if the Controller were missing: say which it is.
    await refuseWithoutMulticall3(eth);
    throw new ContractNotFoundError(
      `no Livepeer Controller at ${controller} on chain ${eth.chainId} (it knows none of ${CONTRACT_NAMES.join(', ')}): check -ethController and -network`,
    );
  }
  if (missing.length > 0) {
    throw new ContractNotFoundError(`the Livepeer Controller at ${controller} has no address for ${missing.join(', ')}: check -ethController and -network`);
  }
  return out;
}

/** Throws a ContractNotFoundError that says so when the chain has no contract at Multicall3's canonical address. */
async function refuseWithoutMulticall3(eth: EthClient): Promise<void> {
  const code = await eth.publicClient.getCode({ address: eth.multicall3 }).catch(() => 'unknown' as const);
  if (code !== undefined && code !== '0x') return;
  throw new ContractNotFoundError(
    `chain ${eth.chainId} has no Multicall3 contract at its canonical address ${eth.multicall3}; this node batches its chain reads through it. ` +
      'Deploy Multicall3 there (see https://github.com/mds1/multicall), or use a chain that has it (Arbitrum One does)',
  );
}

/** go-livepeer's /contractAddresses map (its key set; the faucet only exists on testnets). */
export function contractAddressMap(c: LivepeerContracts): Record<string, Address> {
  return {
    BondingManager: c.bondingManager,
    Controller: c.controller,
    LivepeerToken: c.livepeerToken,
    LivepeerTokenFaucet: zeroAddress,
    Minter: c.minter,
    RoundsManager: c.roundsManager,
    TicketBroker: c.ticketBroker,
  };
}
