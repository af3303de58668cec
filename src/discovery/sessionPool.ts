// One stream's pool of orchestrator sessions: parallel GetOrchestrator over the candidates, the
// filters, the choice for a segment, and what happens when an orchestrator fails.
//
// Talking to orchestrators and judging their replies are injected (`probe`, `evaluate`), so this file
// holds only the policy: go-livepeer's discovery timings, sticky sessions, suspension on failure.
import type { Address } from 'viem';
import type { OrchestratorInfo } from '../wire/lpRpc.ts';
import type { Logger } from '../lib/log.ts';
import { ratToDecimal, type Rat } from '../lib/rat.ts';
import { drawCandidate, filterByMaxPrice, type SelectionWeights, DEFAULT_SELECTION_WEIGHTS } from './selection.ts';
import type { Candidate, CandidateSource } from './sources.ts';
import { Suspensions } from './suspension.ts';

export interface OrchSession {
  /** the URI the candidate was probed at */
  uri: string;
  /** OrchestratorInfo.transcoder: where segments go */
  transcoder: string;
  info: OrchestratorInfo;
  /** ticket recipient (on-chain), used for stake-weighted selection */
  address?: Address;
  stake: bigint;
  /** wei per pixel, as quoted now */
  price?: Rat;
  /** wei per pixel when the session began (the 2× rule) */
  initialPrice?: Rat;
  trusted: boolean;
  /** GetOrchestrator round trip */
  latencyMs: number;
}

export type Evaluation = { ok: true; session: OrchSession } | { ok: false; reason: string };

export interface CandidateStatus {
  uri: string;
  state: 'usable' | 'excluded' | 'suspended' | 'unreachable' | 'pending';
  reason?: string;
  /** wei per pixel as "num/den" (go-livepeer's shape) */
  price?: string;
  /** the same as a decimal string, for people (6 decimals, rounded down) */
  pricePerPixelWei?: string;
  latencyMs?: number;
  address?: string;
}

export interface SessionPoolOptions {
  source: CandidateSource;
  probe: (uri: string) => Promise<OrchestratorInfo>;
  /** judges a reply: transcoder, blocklist, capabilities, price, ticket params, auth token */
  evaluate: (candidate: Candidate, info: OrchestratorInfo, latencyMs: number) => Evaluation;
  /** on-chain: stake/price/random draw; off-chain: lowest latency first */
  onchain: boolean;
  weights?: SelectionWeights;
  /** wei per pixel now (it can follow the ETH price or the control API); undefined = any price */
  maxPrice?: () => Rat | undefined;
  ignoreMaxPriceIfNeeded?: boolean;
  /** -discoveryTimeout, go-livepeer 500 ms: first tick of the wait loop */
  discoveryTimeoutMs?: number;
  /** go-livepeer: 6 s */
  hardCutoffMs?: number;
  suspensions?: Suspensions;
  /** clock, for tests */
  now?: () => number;
  /** an orchestrator was suspended for a failure (the node reports it on its event feed) */
  onSuspended?: (uri: string, reason: string) => void;
  /** Discovery's decisions are logged at debug level. */
  log: Logger;
}

/** Trusted pools are asked for this many good replies: 2 × 8 s / 2 s in go-livepeer. */
export const TRUSTED_REQUEST_COUNT = 8;

/**
 * A pool running low refreshes in the background at most this often. go-livepeer refreshes before every
 * segment while it is low, which polls every candidate every 2 s and makes suspensions (counted in
 * refreshes) lapse within seconds.
 */
export const LOW_POOL_REFRESH_INTERVAL_MS = 10_000;

export class SessionPool {
  private readonly sessions = new Map<string, OrchSession>();
  private readonly tried = new Set<string>();
  private readonly statuses = new Map<string, CandidateStatus>();
  private current: OrchSession | undefined;
  private refreshing: Promise<void> | undefined;
  private lastRefreshAt = -Infinity;
  private requested = TRUSTED_REQUEST_COUNT;
  readonly suspensions: Suspensions;

  constructor(private readonly opts: SessionPoolOptions) {
    this.suspensions = opts.suspensions ?? new Suspensions();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Runs discovery now (or joins the one running). */
  refresh(): Promise<void> {
    if (!this.refreshing) this.lastRefreshAt = (this.opts.now ?? Date.now)();
    this.refreshing ??= this.discover().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async discover(): Promise<void> {
    this.suspensions.tick();
    let cands: Candidate[];
    try {
      cands = await this.opts.source.candidates();
    } catch (err) {
      this.opts.log.debug({ err: (err as Error).message }, 'orchestrator discovery failed');
      return;
    }
    const trusted = cands.every((c) => c.score >= 1);
    this.requested = trusted ? Math.min(cands.length, TRUSTED_REQUEST_COUNT) : cands.length;
    const active = cands.filter((c) => !this.suspensions.isSuspended(c.uri));
    const suspended = cands.filter((c) => this.suspensions.isSuspended(c.uri));
    for (const c of suspended) this.statuses.set(c.uri, { uri: c.uri, state: 'suspended', reason: this.suspensions.reason(c.uri) ?? 'suspended' });
    const good = await this.probeAll(
      active.filter((c) => !this.sessions.has(c.uri)),
      this.requested - this.sessions.size,
    );
    // Suspended orchestrators fill a shortage only, least penalised first.
    if (this.sessions.size + good === 0 && suspended.length > 0) {
      suspended.sort((a, b) => this.suspensions.remaining(a.uri) - this.suspensions.remaining(b.uri));
      await this.probeAll(suspended, 1);
    }
  }

  /** Probes all candidates at once; returns when enough are good, on the timer ticks, or at the cut-off. */
  private probeAll(cands: Candidate[], wanted: number): Promise<number> {
    if (cands.length === 0) return Promise.resolve(0);
    const first = this.opts.discoveryTimeoutMs ?? 500;
    const cutoff = this.opts.hardCutoffMs ?? 6000;
    return new Promise((resolve) => {
      let good = 0;
      let replied = 0;
      let done = false;
      const timers: NodeJS.Timeout[] = [];
      const finish = () => {
        if (done) return;
        done = true;
        for (const t of timers) clearTimeout(t);
        resolve(good);
      };
      // go-livepeer's ticks: 0.5 s, 1 s, 2 s, 4 s cumulative — stop at a tick once anything is good
      for (let t = first; t < cutoff; t *= 2) timers.push(setTimeout(() => good > 0 && finish(), t));
      timers.push(setTimeout(finish, cutoff));
      for (const c of cands) {
        this.statuses.set(c.uri, { uri: c.uri, state: 'pending' });
        const started = performance.now();
        this.opts
          .probe(c.uri)
          .then((info) => {
            const latencyMs = performance.now() - started;
            const verdict = this.opts.evaluate(c, info, latencyMs);
            if (!verdict.ok) {
              this.statuses.set(c.uri, { uri: c.uri, state: 'excluded', reason: verdict.reason, latencyMs });
              this.opts.log.debug({ uri: c.uri, reason: verdict.reason }, 'orchestrator excluded');
              return;
            }
            const s = verdict.session;
            this.statuses.set(c.uri, {
              uri: c.uri,
              state: 'usable',
              latencyMs,
              ...(s.price ? { price: `${s.price.num}/${s.price.den}`, pricePerPixelWei: ratToDecimal(s.price, 6) } : {}),
              ...(s.address ? { address: s.address } : {}),
            });
            if (done && this.sessions.size >= this.requested) return;
            if (![...this.sessions.values()].some((x) => x.transcoder === s.transcoder)) {
              this.sessions.set(c.uri, s);
              good++;
            }
          })
          .catch((err: Error) => {
            this.statuses.set(c.uri, { uri: c.uri, state: 'unreachable', reason: err.message });
            this.opts.log.debug({ uri: c.uri, err: err.message }, 'orchestrator unreachable');
          })
          .finally(() => {
            replied++;
            if (good >= wanted || replied === cands.length) finish();
          });
      }
    });
  }

  /**
   * The session for the next segment: the stream's current one while it works, else a new one
   * (off-chain: lowest latency; on-chain: price filter + stake/price/random draw). Starts a background
   * refresh when the pool runs low.
   */
  select(exclude: ReadonlySet<string> = new Set()): OrchSession | undefined {
    const low = this.sessions.size < Math.min(TRUSTED_REQUEST_COUNT, Math.ceil(this.requested / 2));
    if (low && (this.opts.now ?? Date.now)() - this.lastRefreshAt >= LOW_POOL_REFRESH_INTERVAL_MS) void this.refresh();
    if (this.current && this.sessions.has(this.current.uri) && !exclude.has(this.current.uri)) return this.current;
    const usable = [...this.sessions.values()].filter((s) => !exclude.has(s.uri));
    const untried = usable.filter((s) => !this.tried.has(s.uri));
    const pool = untried.length > 0 ? untried : usable;
    let chosen: OrchSession | undefined;
    if (this.opts.onchain) {
      const cands = pool.map((s) => ({ key: s.uri, stake: s.stake, session: s, ...(s.price ? { price: s.price } : {}) }));
      const { kept, dropped } = filterByMaxPrice(cands, this.opts.maxPrice?.(), this.opts.ignoreMaxPriceIfNeeded);
      for (const [uri, reason] of dropped) {
        const st = this.statuses.get(uri);
        this.statuses.set(uri, { ...(st ?? { uri }), uri, state: 'excluded', reason });
      }
      chosen = drawCandidate(kept, this.opts.weights ?? DEFAULT_SELECTION_WEIGHTS)?.session;
    } else {
      chosen = [...pool].sort((a, b) => a.latencyMs - b.latencyMs)[0];
    }
    if (chosen) {
      this.tried.add(chosen.uri);
      this.current = chosen;
    }
    return chosen;
  }

  /** Replaces a session's OrchestratorInfo (refresh or TranscodeResult.info). */
  update(session: OrchSession, info: OrchestratorInfo, price: Rat | undefined): void {
    session.info = info;
    if (price) session.price = price;
  }

  /** A failure that is the orchestrator's: drop the session and suspend it for a while. */
  fail(session: OrchSession, reason: string): void {
    this.sessions.delete(session.uri);
    if (this.current?.uri === session.uri) this.current = undefined;
    const penalty = Math.ceil(Math.max(1, this.statuses.size) / Math.max(1, this.requested));
    this.suspensions.suspend(session.uri, penalty, reason);
    this.statuses.set(session.uri, { uri: session.uri, state: 'suspended', reason });
    this.opts.log.debug({ uri: session.uri, reason, refreshes: penalty }, 'orchestrator suspended');
    this.opts.onSuspended?.(session.uri, reason);
  }

  /** Drops a session without suspending it (e.g. it changed its mind about price). */
  remove(session: OrchSession): void {
    this.sessions.delete(session.uri);
    if (this.current?.uri === session.uri) this.current = undefined;
  }

  /** Everything to end at stream end. */
  all(): OrchSession[] {
    return [...this.sessions.values()];
  }

  currentSession(): OrchSession | undefined {
    return this.current;
  }

  status(): CandidateStatus[] {
    return [...this.statuses.values()].map((s) =>
      s.state !== 'suspended' && this.suspensions.isSuspended(s.uri) ? { ...s, state: 'suspended', reason: this.suspensions.reason(s.uri) } : s,
    );
  }
}
