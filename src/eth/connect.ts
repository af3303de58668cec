// Connecting to the Livepeer protocol from the gateway's flags: network → Controller, RPC client with
// failover and chain check, contract addresses from the Controller.
import { connectEthClient, newRpcStats, parseEthUrls, type EthClient, type RpcStats } from './client.ts';
import { resolveContracts, type LivepeerContracts } from './contracts.ts';
import { EthConfigError } from './errors.ts';
import { resolveNetwork, type OnchainNetwork } from './networks.ts';

export interface EthSettings {
  /** -network */
  network: string;
  /** -ethUrl (comma list) */
  ethUrl: string;
  /** -ethController */
  ethController?: string;
  /** Receipt polling, ms (default 1 000). */
  pollingIntervalMs?: number;
  /** Per-request RPC timeout, ms (default 10 000). */
  rpcTimeoutMs?: number;
  stats?: RpcStats;
  onFailover?: (from: string, to: string, reason: string) => void;
  /** Hears once if the chain has no Multicall3 and reads go out as plain calls. */
  onPlainReads?: (message: string) => void;
}

export interface EthConnection {
  network: OnchainNetwork;
  client: EthClient;
  contracts: LivepeerContracts;
}

/** The on-chain network a settings object names; EthConfigError for offchain or bad values. */
export function onchainNetwork(s: Pick<EthSettings, 'network' | 'ethController'>): OnchainNetwork {
  const network = resolveNetwork(s.network, s.ethController);
  if (network.offchain) {
    throw new EthConfigError('this needs an on-chain network: pass -network arbitrum-one-mainnet (and -ethUrl <Arbitrum One RPC>)');
  }
  return network;
}

export async function connectEth(s: EthSettings): Promise<EthConnection> {
  const network = onchainNetwork(s);
  const urls = parseEthUrls(s.ethUrl);
  const client = await connectEthClient({
    urls,
    network,
    pollingIntervalMs: s.pollingIntervalMs,
    stats: s.stats ?? newRpcStats(),
    failover: { timeoutMs: s.rpcTimeoutMs, onFailover: s.onFailover },
    ...(s.onPlainReads ? { onPlainReads: s.onPlainReads } : {}),
  });
  const contracts = await resolveContracts(client);
  return { network, client, contracts };
}

/**
 * A connection made on first use and retried on later uses until it succeeds, so a node can start from
 * cached state while the RPC is down.
 */
export function lazyConnection(s: EthSettings): () => Promise<EthConnection> {
  let ok: EthConnection | undefined;
  let pending: Promise<EthConnection> | undefined;
  return () => {
    if (ok) return Promise.resolve(ok);
    pending ??= connectEth(s).then(
      (c) => (ok = c),
      (err) => {
        pending = undefined;
        throw err;
      },
    );
    return pending;
  };
}
