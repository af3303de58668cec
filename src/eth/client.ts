// The read side of Ethereum: a viem public client over the -ethUrl endpoints (comma list) that fails over
// between them with backoff, counts its HTTP requests, and has checked that the RPC serves the right chain.
import {
  BaseError,
  createPublicClient,
  createTransport,
  defineChain,
  HttpRequestError,
  http,
  LimitExceededRpcError,
  TimeoutError,
  type Address,
  type Chain,
  type PublicClient,
  type Transport,
} from 'viem';
import { redactText, redactUrl } from '../lib/redact.ts';
import { MULTICALL3_ADDRESS } from './abi/multicall3.ts';
import { installPlainReadFallback } from './plainReads.ts';
import { ChainIdMismatchError, EthConfigError, EthUnreachableError, unwrapEthError } from './errors.ts';
import { ARBITRUM_ONE_CHAIN_ID, type OnchainNetwork } from './networks.ts';

export { redactText, redactUrl };

/** Counts of what the client sent, for tests and metrics. */
export interface RpcStats {
  /** HTTP requests sent (one JSON-RPC call, or one multicall, each). */
  requests: number;
  /** Requests that failed at one endpoint and were retried at another. */
  failovers: number;
  /** HTTP requests per endpoint, keyed by the redacted URL. */
  byEndpoint: Map<string, number>;
}

export function newRpcStats(): RpcStats {
  return { requests: 0, failovers: 0, byEndpoint: new Map() };
}

/** Splits -ethUrl (comma list) and checks each entry is an http(s) URL. */
export function parseEthUrls(value: string): string[] {
  const urls = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (urls.length === 0) {
    throw new EthConfigError('Need to specify an Ethereum node JSON-RPC URL using -ethUrl (an Arbitrum One RPC; a comma list fails over)');
  }
  for (const url of urls) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new EthConfigError(`-ethUrl entry ${redactUrl(url)} is not a URL (expected e.g. https://arb1.arbitrum.io/rpc)`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new EthConfigError(`-ethUrl entry ${redactUrl(url)} must be an http:// or https:// JSON-RPC URL`);
    }
  }
  return urls;
}

export interface FailoverOptions {
  /** Per-request timeout in ms (default 10 000). */
  timeoutMs?: number;
  /** First backoff after an endpoint fails, ms (default 1 000); doubles per failure up to maxBackoffMs. */
  backoffMs?: number;
  /** Default 60 000. */
  maxBackoffMs?: number;
  stats?: RpcStats;
  /** Called when an endpoint fails and another one is tried (for a log line). */
  onFailover?: (from: string, to: string, reason: string) => void;
}

/** Connection-level failures move to the next endpoint; answers from a working node (reverts) do not. */
function isEndpointFailure(err: unknown): boolean {
  if (err instanceof HttpRequestError || err instanceof TimeoutError || err instanceof LimitExceededRpcError) return true;
  if (err instanceof BaseError) {
    return err.walk((e) => e instanceof HttpRequestError || e instanceof TimeoutError) !== null;
  }
  return false;
}

/** A short reason without URLs or request bodies. */
function failureReason(err: unknown): string {
  if (err instanceof HttpRequestError) {
    const cause = (err.cause as Error | undefined)?.message;
    const deeper = ((err.cause as { cause?: Error } | undefined)?.cause as { code?: string } | undefined)?.code;
    if (err.status) return `HTTP ${err.status}`;
    return deeper ?? cause ?? err.shortMessage;
  }
  if (err instanceof TimeoutError) return 'request timed out';
  if (err instanceof BaseError) return err.shortMessage;
  return err instanceof Error ? err.message : String(err);
}

interface Endpoint {
  url: string;
  label: string;
  failures: number;
  retryAt: number;
}

/**
 * A viem transport over several HTTP endpoints. Requests go to the first healthy endpoint in -ethUrl
 * order; an endpoint that fails is skipped for a backoff that doubles with each failure, and requests
 * move on to the next one. When every endpoint is backing off, all are tried anyway (soonest first),
 * so a request never fails without each endpoint having had a chance.
 */
export function failoverTransport(urls: readonly string[], opts: FailoverOptions = {}): Transport {
  const timeout = opts.timeoutMs ?? 10_000;
  const backoff = opts.backoffMs ?? 1_000;
  const maxBackoff = opts.maxBackoffMs ?? 60_000;
  const stats = opts.stats;
  const endpoints: Endpoint[] = urls.map((url) => ({ url, label: redactUrl(url), failures: 0, retryAt: 0 }));
  const list = endpoints.map((e) => e.label).join(', ');
  const httpTransports = endpoints.map((e) =>
    http(e.url, {
      retryCount: 0,
      timeout,
      onFetchRequest: () => {
        if (!stats) return;
        stats.requests++;
        stats.byEndpoint.set(e.label, (stats.byEndpoint.get(e.label) ?? 0) + 1);
      },
    }),
  );

  return ({ chain }) => {
    const instances = httpTransports.map((t) => t({ chain, retryCount: 0, timeout }));
    return createTransport({
      key: 'failover',
      name: 'Ethereum RPC (failover)',
      type: 'failover',
      retryCount: 0,
      timeout,
      request: (async ({ method, params }: { method: string; params?: unknown }): Promise<unknown> => {
        const now = Date.now();
        const order = endpoints
          .map((e, i) => ({ e, i }))
          .sort((a, b) => {
            const ah = a.e.retryAt <= now;
            const bh = b.e.retryAt <= now;
            if (ah !== bh) return ah ? -1 : 1;
            return ah ? a.i - b.i : a.e.retryAt - b.e.retryAt;
          });
        let lastReason = '';
        for (let k = 0; k < order.length; k++) {
          const { e, i } = order[k]!;
          try {
            const result = await instances[i]!.request({ method, params } as never);
            e.failures = 0;
            e.retryAt = 0;
            return result;
          } catch (err) {
            if (!isEndpointFailure(err)) throw err;
            e.failures++;
            e.retryAt = Date.now() + Math.min(maxBackoff, backoff * 2 ** (e.failures - 1));
            lastReason = `${e.label}: ${failureReason(err)}`;
            const next = order[k + 1];
            if (next) {
              if (stats) stats.failovers++;
              opts.onFailover?.(e.label, next.e.label, failureReason(err));
            }
          }
        }
        throw new EthUnreachableError(`cannot reach the Ethereum RPC at ${list}: ${lastReason}; check -ethUrl (an Arbitrum One JSON-RPC URL) and the network`);
      }) as never,
    });
  };
}

// Arbitrum One written out here rather than taken from viem/chains: that module loads every chain viem
// knows, about 7 MB of heap that each full garbage collection walks again, and 0.3 s of start-up.
const ARBITRUM_ONE = {
  name: 'Arbitrum One',
  blockTime: 250,
  rpcUrls: { default: { http: ['https://arb1.arbitrum.io/rpc'] } },
  blockExplorers: { default: { name: 'Arbiscan', url: 'https://arbiscan.io' } },
} as const;

/** The viem chain for a chain id: Arbitrum One's definition for 42161, a plain one otherwise; Multicall3 at its canonical address. */
export function chainFor(chainId: number, name: string): Chain {
  return defineChain({
    id: chainId,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    ...(chainId === ARBITRUM_ONE_CHAIN_ID ? ARBITRUM_ONE : { name, rpcUrls: { default: { http: [] } } }),
    contracts: { multicall3: { address: MULTICALL3_ADDRESS } },
  });
}

export interface EthClientOptions {
  /** -ethUrl entries (see parseEthUrls). */
  urls: readonly string[];
  network: OnchainNetwork;
  /** How often viem polls for receipts, ms (default 1 000; Arbitrum makes a block every 250 ms). */
  pollingIntervalMs?: number;
  failover?: Omit<FailoverOptions, 'stats'>;
  stats?: RpcStats;
  /** Hears once if the chain turns out to have no Multicall3 and reads fall back to plain calls. */
  onPlainReads?: (message: string) => void;
}

export interface EthClient {
  readonly publicClient: PublicClient<Transport, Chain>;
  readonly transport: Transport;
  readonly chain: Chain;
  readonly chainId: number;
  /** Multicall3, which every multi-read goes through (viem finds it in the chain definition); plain calls on a chain without it. */
  readonly multicall3: Address;
  readonly network: OnchainNetwork;
  readonly urls: readonly string[];
  readonly stats: RpcStats;
  /** The endpoints, redacted, for messages. */
  readonly endpoints: string;
}

/**
 * Connects: asks the RPC for its chain id (EthUnreachableError when no endpoint answers) and checks it
 * against the network (ChainIdMismatchError), then builds the client.
 */
export async function connectEthClient(opts: EthClientOptions): Promise<EthClient> {
  const stats = opts.stats ?? newRpcStats();
  const transport = failoverTransport(opts.urls, { ...opts.failover, stats });
  const endpoints = opts.urls.map(redactUrl).join(', ');
  let chainId: number;
  try {
    const raw = await transport({ retryCount: 0 }).request({ method: 'eth_chainId' });
    chainId = Number(BigInt(raw as string));
  } catch (err) {
    const e = unwrapEthError(err);
    if (e instanceof EthUnreachableError) throw e;
    throw new EthUnreachableError(
      `cannot read the chain id from the Ethereum RPC at ${endpoints}: ${redactText(failureReason(e), opts.urls)}; is -ethUrl a JSON-RPC endpoint?`,
    );
  }
  const expected = opts.network.chainId;
  if (expected !== undefined && chainId !== expected) {
    throw new ChainIdMismatchError(
      expected,
      chainId,
      `the Ethereum RPC at ${endpoints} serves chain id ${chainId}, but -network ${opts.network.name} is chain id ${expected}` +
        (expected === ARBITRUM_ONE_CHAIN_ID ? ' (Arbitrum One)' : '') +
        '; point -ethUrl at an RPC of that chain, or change -network',
    );
  }
  const chain = chainFor(chainId, opts.network.name);
  const publicClient = createPublicClient({
    chain,
    transport,
    pollingInterval: opts.pollingIntervalMs ?? 1_000,
    // No implicit batching: reads are grouped explicitly with Multicall3 where it pays, so the number of
    // requests stays predictable (viem would otherwise nest multicalls inside multicalls).
    cacheTime: 0,
  });
  installPlainReadFallback(publicClient, MULTICALL3_ADDRESS, opts.onPlainReads);
  return { publicClient, transport, chain, chainId, multicall3: MULTICALL3_ADDRESS, network: opts.network, urls: opts.urls, stats, endpoints };
}
