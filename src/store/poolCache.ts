// The last orchestrator pool read from the chain, kept in the node's level database so discovery has
// candidates at once after a restart, even while the RPC is down.
import { getAddress, isAddress } from 'viem';
import type { PoolOrchestrator } from '../eth/transcoderPool.ts';
import { checkOrStoreChainId, openNodeDb, type DbHandle } from './level.ts';

export interface CachedPool {
  orchestrators: PoolOrchestrator[];
  /** Current round when the pool was read, if known. */
  round?: bigint;
  /** Date.now() of the read. */
  updatedAt: number;
}

const POOL_KEY = 'pool:onchain';
const FORMAT = 1;

type Stored = {
  format: number;
  updatedAt: number;
  round?: string;
  orchestrators: Record<string, unknown>[];
};

const BIGINT_FIELDS = ['stake', 'activationRound', 'deactivationRound', 'lastRewardRound', 'lastActiveStakeUpdateRound', 'rewardCut', 'feeShare'] as const;

function encode(pool: CachedPool): string {
  const stored: Stored = {
    format: FORMAT,
    updatedAt: pool.updatedAt,
    orchestrators: pool.orchestrators.map((o) => {
      const row: Record<string, unknown> = { ...o };
      for (const f of BIGINT_FIELDS) row[f] = o[f].toString();
      return row;
    }),
  };
  if (pool.round !== undefined) stored.round = pool.round.toString();
  return JSON.stringify(stored);
}

/** Never throws: a cache that cannot be read is treated as absent. */
function decode(text: string): CachedPool | undefined {
  try {
    const s = JSON.parse(text) as Stored;
    if (s.format !== FORMAT || !Array.isArray(s.orchestrators)) return undefined;
    const orchestrators: PoolOrchestrator[] = [];
    for (const row of s.orchestrators) {
      if (typeof row.address !== 'string' || !isAddress(row.address, { strict: false })) continue;
      const o = {
        address: getAddress(row.address),
        serviceURI: typeof row.serviceURI === 'string' ? row.serviceURI : '',
        active: row.active === true,
        status: row.status === 'Registered' ? 'Registered' : 'Not Registered',
        usable: row.usable === true,
      } as PoolOrchestrator;
      for (const f of BIGINT_FIELDS) o[f] = BigInt(String(row[f] ?? '0'));
      if (typeof row.unusableReason === 'string') o.unusableReason = row.unusableReason;
      orchestrators.push(o);
    }
    const pool: CachedPool = { orchestrators, updatedAt: Number(s.updatedAt) || 0 };
    if (s.round !== undefined) pool.round = BigInt(s.round);
    return pool;
  } catch {
    return undefined;
  }
}

export class PoolCache {
  private constructor(private readonly handle: DbHandle) {}

  /**
   * Opens the cache in `<datadir>`. With a chain id, it is stored on first use and checked later
   * (DatadirChainMismatchError); without one (RPC not reachable yet), nothing is checked.
   */
  static async open(datadir: string, opts: { chainId?: number } = {}): Promise<PoolCache> {
    const handle = await openNodeDb(datadir);
    try {
      if (opts.chainId !== undefined) await checkOrStoreChainId(handle.db, opts.chainId);
    } catch (err) {
      await handle.close();
      throw err;
    }
    return new PoolCache(handle);
  }

  /** Checks (or stores) the chain id once it is known. */
  checkChainId(chainId: number): Promise<void> {
    return checkOrStoreChainId(this.handle.db, chainId);
  }

  async load(): Promise<CachedPool | undefined> {
    const text = await this.handle.db.get(POOL_KEY);
    return text === undefined ? undefined : decode(text);
  }

  async save(pool: CachedPool): Promise<void> {
    await this.handle.db.put(POOL_KEY, encode(pool));
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
