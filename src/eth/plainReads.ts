// Chains without Multicall3 at its canonical address. Every multi-read of the node goes through the public
// client's multicall(); on such a chain it fails as a whole (viem reports every call as failed, or the
// batch throws). The first time that happens the canonical address is checked once (eth_getCode): if it
// holds no code, this and every later multi-read runs as plain eth_calls, a few at a time, with the
// results in multicall's shape. On chains that have Multicall3 nothing changes, not even a request.
import type { Address, PublicClient } from 'viem';

/** Plain eth_calls in flight at once for one multi-read. */
export const PLAIN_READ_CONCURRENCY = 8;

interface Call {
  address: Address;
  abi: unknown;
  functionName: string;
  args?: readonly unknown[];
}

interface MulticallParams {
  contracts: readonly Call[];
  allowFailure?: boolean;
  blockNumber?: bigint;
  blockTag?: string;
}

type CallResult = { status: 'success'; result: unknown; error?: undefined } | { status: 'failure'; result?: undefined; error: Error };

/**
 * Wraps `client.multicall` so that on a chain without code at `multicall3` it falls back to plain calls.
 * `onFallback` hears once when that happens (the node logs it).
 */
export function installPlainReadFallback(client: PublicClient, multicall3: Address, onFallback?: (message: string) => void): void {
  const batched = client.multicall.bind(client) as (p: MulticallParams) => Promise<unknown[]>;
  // unknown until a multi-read fails as a whole; then settled by one eth_getCode
  let mode: 'unknown' | 'multicall' | 'plain' = 'unknown';
  let probing: Promise<void> | undefined;
  // read after an await: settle() may have changed the mode meanwhile
  const isPlain = (): boolean => mode === 'plain';

  const settle = (): Promise<void> => {
    probing ??= client.getCode({ address: multicall3 }).then(
      (code) => {
        if (code !== undefined && code !== '0x') {
          mode = 'multicall';
          return;
        }
        mode = 'plain';
        onFallback?.(
          `chain has no Multicall3 contract at its canonical address ${multicall3}: chain reads go out as plain eth_calls (${PLAIN_READ_CONCURRENCY} at a time)`,
        );
      },
      () => {
        probing = undefined; // the RPC is down: ask again next time
      },
    );
    return probing;
  };

  const plain = async (p: MulticallParams): Promise<unknown[]> => {
    const block = p.blockNumber !== undefined ? { blockNumber: p.blockNumber } : p.blockTag !== undefined ? { blockTag: p.blockTag } : {};
    const one = async (c: Call): Promise<CallResult> => {
      try {
        // Multicall3's own helper has a plain RPC equivalent.
        if (c.address.toLowerCase() === multicall3.toLowerCase() && c.functionName === 'getEthBalance') {
          return {
            status: 'success',
            result: await client.getBalance({ address: c.args?.[0] as Address, ...block } as Parameters<PublicClient['getBalance']>[0]),
          };
        }
        const result = await client.readContract({ ...c, ...block } as unknown as Parameters<PublicClient['readContract']>[0]);
        return { status: 'success', result };
      } catch (err) {
        if (p.allowFailure === false) throw err;
        return { status: 'failure', error: err as Error };
      }
    };
    const results = await mapBounded(p.contracts, PLAIN_READ_CONCURRENCY, one);
    return p.allowFailure === false ? results.map((r) => r.result) : results;
  };

  const wrapped = async (p: MulticallParams): Promise<unknown[]> => {
    if (mode === 'plain') return plain(p);
    if (mode === 'multicall' || p.contracts.length === 0) return batched(p);
    let results: unknown[];
    try {
      results = await batched(p);
    } catch (err) {
      await settle();
      if (isPlain()) return plain(p);
      throw err;
    }
    if (p.allowFailure === false || !results.every((r) => (r as CallResult).status === 'failure')) {
      mode = 'multicall';
      return results;
    }
    await settle();
    return isPlain() ? plain(p) : results;
  };
  // The same method, so every caller (contracts, rounds, pool walk, sender info, price feed) gets it.
  (client as unknown as { multicall: typeof wrapped }).multicall = wrapped;
}

/** `fn` over `items`, at most `limit` at once; results in order. A rejection rejects the whole. */
async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
