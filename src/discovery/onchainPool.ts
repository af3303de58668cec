// On-chain orchestrator discovery: the active orchestrators of the BondingManager pool with a usable
// service URI. Serves the cached pool at once after a restart, then refreshes from the chain on an
// interval and whenever the round changes.
import type { Address } from 'viem';
import { isActiveInRound, type PoolOrchestrator } from '../eth/transcoderPool.ts';
import type { Logger } from '../lib/log.ts';
import type { PoolCache } from '../store/poolCache.ts';
import type { CandidateSource } from './sources.ts';

/** What selection needs about an on-chain orchestrator. */
export interface OnchainCandidate {
  address: Address;
  serviceURI: string;
  /** LPT wei; the weight of stake-weighted selection. */
  stake: bigint;
}

/** The part of RoundsWatcher the pool uses. */
export interface RoundSource {
  snapshot(): { currentRound: bigint } | undefined;
  on(event: 'round', listener: (...args: never[]) => void): unknown;
  off(event: 'round', listener: (...args: never[]) => void): unknown;
}

export interface OnchainPoolOptions {
  /** Reads the pool from the chain; `hint` is the last known order (see eth/transcoderPool.ts). */
  read: (hint: readonly Address[]) => Promise<PoolOrchestrator[]>;
  cache?: PoolCache;
  rounds?: RoundSource;
  /** Default 10 min. */
  refreshIntervalMs?: number;
  log: Logger;
}

export type PoolSource = 'none' | 'cache' | 'chain';

export interface PoolStatus {
  source: PoolSource;
  /** Date.now() of the chain read behind the current list (0 when none). */
  updatedAt: number;
  size: number;
  candidates: number;
  /** The last refresh failure, cleared by a successful one. */
  lastError?: string;
}

export const DEFAULT_POOL_REFRESH_MS = 10 * 60_000;

export class OnchainPool {
  private list: PoolOrchestrator[] = [];
  private round: bigint | undefined;
  private source: PoolSource = 'none';
  private updatedAt = 0;
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<PoolOrchestrator[]> | undefined;
  /** stop() was called: a read still running is not cached (the node closes its store next) nor logged */
  private stopped = false;
  private readonly onRound = (): void => {
    this.refresh().catch(() => undefined);
  };

  constructor(private readonly opts: OnchainPoolOptions) {}

  /**
   * Loads the cached pool (available to candidates() when this resolves), then refreshes from the chain
   * in the background, on the interval and on every round change.
   */
  async start(): Promise<void> {
    this.stopped = false;
    const cached = await this.opts.cache?.load().catch(() => undefined);
    if (cached && this.source === 'none') {
      this.list = cached.orchestrators;
      this.round = cached.round;
      this.updatedAt = cached.updatedAt;
      this.source = 'cache';
      this.opts.log.info({ orchestrators: cached.orchestrators.length, ageMs: Date.now() - cached.updatedAt }, 'Orchestrator pool loaded from cache');
    }
    this.opts.rounds?.on('round', this.onRound);
    if (!this.timer) {
      this.timer = setInterval(this.onRound, this.opts.refreshIntervalMs ?? DEFAULT_POOL_REFRESH_MS);
      this.timer.unref();
    }
    this.onRound();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.opts.rounds?.off('round', this.onRound);
  }

  /** Reads the pool from the chain now (concurrent callers share one read) and caches it. */
  refresh(): Promise<PoolOrchestrator[]> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<PoolOrchestrator[]> {
    try {
      const list = await this.opts.read(this.list.map((o) => o.address));
      if (this.stopped) return list;
      this.list = list;
      this.round = this.opts.rounds?.snapshot()?.currentRound ?? this.round;
      this.updatedAt = Date.now();
      this.source = 'chain';
      this.lastError = undefined;
      const unusable = list.filter((o) => !o.usable);
      this.opts.log.info(
        { orchestrators: list.length, candidates: this.candidates().length, unusable: unusable.length },
        'Orchestrator pool read from the chain',
      );
      for (const o of unusable) this.opts.log.warn({ orchestrator: o.address, reason: o.unusableReason }, 'Orchestrator skipped');
      await this.opts.cache
        ?.save({ orchestrators: list, updatedAt: this.updatedAt, ...(this.round !== undefined ? { round: this.round } : {}) })
        .catch((err: unknown) => this.opts.log.warn({ err: (err as Error).message }, 'Could not cache the orchestrator pool'));
      return list;
    } catch (err) {
      if (this.stopped) throw err;
      this.lastError = (err as Error).message;
      this.opts.log.warn({ err: this.lastError, cached: this.list.length }, 'Could not read the orchestrator pool; keeping the last one');
      throw err;
    }
  }

  /** Active orchestrators with a usable service URI, in pool order (largest stake first). */
  candidates(): OnchainCandidate[] {
    const round = this.opts.rounds?.snapshot()?.currentRound;
    return this.list
      .filter((o) => o.usable && (round !== undefined ? isActiveInRound(o, round) : o.active))
      .map((o) => ({ address: o.address, serviceURI: o.serviceURI, stake: o.stake }));
  }

  /** The candidates in the shape selection takes: score 0 (untrusted, as go-livepeer scores the chain), URI as registered. */
  asCandidateSource(): CandidateSource {
    return {
      kind: 'onchain',
      candidates: async () => this.candidates().map((c) => ({ uri: c.serviceURI.trim(), score: 0, address: c.address, stake: c.stake })),
    };
  }

  /** The whole pool as last read (for /registeredOrchestrators), usable or not. */
  orchestrators(): readonly PoolOrchestrator[] {
    return this.list;
  }

  status(): PoolStatus {
    const s: PoolStatus = { source: this.source, updatedAt: this.updatedAt, size: this.list.length, candidates: this.candidates().length };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }
}
