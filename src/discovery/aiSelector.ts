// Selection for one AI (capability, model): every candidate is asked with GetOrchestrator, replies
// that serve the model are split into warm and cold pools, and each request takes a session from them
// (docs/ai.md, sessions and selection). Talking to orchestrators and judging replies are injected.
import { modelOffer, type ModelOffer } from '../net/aiCapabilities.ts';
import { cmp, type Rat } from '../lib/rat.ts';
import type { OrchestratorInfo } from '../wire/lpRpc.ts';
import { DEFAULT_SELECTION_WEIGHTS, drawCandidate, type SelectionWeights } from './selection.ts';
import type { Evaluation, OrchSession } from './sessionPool.ts';
import type { Candidate, CandidateSource } from './sources.ts';
import { Suspensions } from './suspension.ts';
import type { Logger } from '../lib/log.ts';

export interface AiSession extends OrchSession {
  cap: number;
  modelId: string;
  /** the model's state at the orchestrator when it was discovered */
  offer: ModelOffer;
  /** requests running on this session now */
  inUse: number;
  /** seconds per unit of the last job (off-chain selection); 0 = never used */
  latencyScore: number;
}

export type AiCandidateState = 'warm' | 'cold' | 'excluded' | 'suspended' | 'unreachable' | 'set-aside' | 'pending';

/** One candidate as `/status` shows it: whether it is used for this model, and why not. */
export interface AiCandidateStatus {
  uri: string;
  state: AiCandidateState;
  reason?: string;
  /** wei per unit as "num/den" */
  price?: string;
  latencyScore?: number;
  inUse?: number;
  capacity?: number;
  address?: string;
}

export interface AiSelectorOptions {
  cap: number;
  modelId: string;
  source: CandidateSource;
  probe: (uri: string) => Promise<OrchestratorInfo>;
  /** judges a reply (transcoder, blocklist, capabilities, price, ticket params, auth token) */
  evaluate: (candidate: Candidate, info: OrchestratorInfo, latencyMs: number) => Evaluation;
  /** on-chain: price filter + stake/price/random draw; off-chain: lowest latency score */
  onchain: boolean;
  weights?: SelectionWeights;
  /** wei per unit for this (capability, model); undefined = any price */
  maxPrice?: () => Rat | undefined;
  /** -discoveryTimeout: first tick of the wait loop (default 500 ms) */
  discoveryTimeoutMs?: number;
  /** default 6 s */
  hardCutoffMs?: number;
  suspensions?: Suspensions;
  now?: () => number;
  /** random in [0, 1), for tests */
  random?: () => number;
  /** Discovery's decisions are logged at debug level. */
  log: Logger;
}

/** Pools are re-discovered this often even when they look healthy. */
export const AI_POOL_REFRESH_MS = 10 * 60_000;
/** A failed orchestrator sits out this many refreshes. */
export const AI_SUSPENSION_REFRESHES = 3;
/** An empty pool is not re-discovered more often than this (a request storm must not become a probe storm). */
export const AI_EMPTY_POOL_RETRY_MS = 1000;
const MAX_WANTED = 8;

const ratString = (r: Rat): string => `${r.num}/${r.den}`;

export class AiSelector {
  private readonly warm = new Map<string, AiSession>();
  private readonly cold = new Map<string, AiSession>();
  private readonly statuses = new Map<string, AiCandidateStatus>();
  private refreshing: Promise<void> | undefined;
  private lastRefreshAt = -Infinity;
  private poolSize = 0;
  private lastFound = 0;
  readonly suspensions: Suspensions;

  constructor(private readonly opts: AiSelectorOptions) {
    this.suspensions = opts.suspensions ?? new Suspensions();
  }

  get cap(): number {
    return this.opts.cap;
  }

  get modelId(): string {
    return this.opts.modelId;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  get size(): number {
    return this.warm.size + this.cold.size;
  }

  private needsRefresh(): boolean {
    const age = this.now() - this.lastRefreshAt;
    if (age >= AI_POOL_REFRESH_MS) return true;
    if (this.size === 0) return age >= AI_EMPTY_POOL_RETRY_MS;
    return this.size < Math.min(MAX_WANTED, Math.ceil(Math.min(this.poolSize, this.lastFound) / 2));
  }

  /** Re-discovers now (or joins the discovery running). */
  refresh(): Promise<void> {
    this.refreshing ??= this.discover().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async discover(): Promise<void> {
    this.lastRefreshAt = this.now();
    if (this.size === 0) this.suspensions.releaseAll();
    this.suspensions.tick();
    let cands: Candidate[];
    try {
      cands = await this.opts.source.candidates();
    } catch (err) {
      this.opts.log.debug({ err: (err as Error).message }, 'AI orchestrator discovery failed');
      return;
    }
    this.poolSize = cands.length;
    const found = new Map<string, AiSession>();
    const active = cands.filter((c) => {
      if (!this.suspensions.isSuspended(c.uri)) return true;
      this.statuses.set(c.uri, { uri: c.uri, state: 'suspended', reason: this.suspensions.reason(c.uri) ?? 'suspended' });
      return false;
    });
    await this.probeAll(active, found);
    this.lastFound = found.size;
    // Sessions in use keep their counters; everything else is replaced by what discovery found now.
    const old = new Map([...this.warm, ...this.cold]);
    this.warm.clear();
    this.cold.clear();
    for (const [uri, s] of found) {
      const prev = old.get(uri);
      if (prev) {
        s.inUse = prev.inUse;
        s.latencyScore = prev.latencyScore;
      }
      (s.offer.warm ? this.warm : this.cold).set(uri, s);
    }
  }

  /** GetOrchestrator on every candidate at once; returns at a tick once one is good, when all replied, or at the cut-off. */
  private probeAll(cands: readonly Candidate[], found: Map<string, AiSession>): Promise<void> {
    if (cands.length === 0) return Promise.resolve();
    const first = this.opts.discoveryTimeoutMs ?? 500;
    const cutoff = this.opts.hardCutoffMs ?? 6000;
    return new Promise((resolve) => {
      let replied = 0;
      let done = false;
      const timers: NodeJS.Timeout[] = [];
      const finish = (): void => {
        if (done) return;
        done = true;
        for (const t of timers) clearTimeout(t);
        resolve();
      };
      for (let t = first; t < cutoff; t *= 2) timers.push(setTimeout(() => found.size > 0 && finish(), t));
      timers.push(setTimeout(finish, cutoff));
      for (const c of cands) {
        this.statuses.set(c.uri, { uri: c.uri, state: 'pending' });
        const started = performance.now();
        this.opts
          .probe(c.uri)
          .then((info) => {
            if (done) return;
            const latencyMs = performance.now() - started;
            const verdict = this.judge(c, info, latencyMs);
            if (!verdict.ok) {
              this.statuses.set(c.uri, { uri: c.uri, state: 'excluded', reason: verdict.reason });
              return;
            }
            found.set(c.uri, verdict.session);
            this.statuses.set(c.uri, this.describe(verdict.session));
          })
          .catch((err: Error) => {
            if (!done) this.statuses.set(c.uri, { uri: c.uri, state: 'unreachable', reason: err.message });
          })
          .finally(() => {
            replied++;
            if (replied === cands.length) finish();
          });
      }
    });
  }

  private judge(c: Candidate, info: OrchestratorInfo, latencyMs: number): { ok: true; session: AiSession } | { ok: false; reason: string } {
    const offer = modelOffer(info.capabilities, this.opts.cap, this.opts.modelId);
    if (!offer) return { ok: false, reason: `does not serve model ${this.opts.modelId}` };
    const verdict = this.opts.evaluate(c, info, latencyMs);
    if (!verdict.ok) return verdict;
    return { ok: true, session: { ...verdict.session, cap: this.opts.cap, modelId: this.opts.modelId, offer, inUse: 0, latencyScore: 0 } };
  }

  private describe(s: AiSession, extra: Partial<AiCandidateStatus> = {}): AiCandidateStatus {
    return {
      uri: s.uri,
      state: s.offer.warm ? 'warm' : 'cold',
      ...(s.price ? { price: ratString(s.price) } : {}),
      latencyScore: s.latencyScore,
      inUse: s.inUse,
      capacity: s.offer.capacity,
      ...(s.address ? { address: s.address } : {}),
      ...extra,
    };
  }

  /** Sessions of a pool this request may use: not tried yet in it, and (on-chain) within the max price. */
  private usable(pool: Map<string, AiSession>, exclude: ReadonlySet<string>): AiSession[] {
    const max = this.opts.onchain ? this.opts.maxPrice?.() : undefined;
    const out: AiSession[] = [];
    for (const s of pool.values()) {
      if (exclude.has(s.uri)) continue;
      if (max && max.num > 0n && s.price && cmp(s.price, max) > 0) {
        this.statuses.set(s.uri, {
          ...this.describe(s),
          state: 'excluded',
          reason: `price ${ratString(s.price)} wei/unit above the max ${ratString(max)} (-maxPricePerCapability)`,
        });
        continue;
      }
      out.push(s);
    }
    return out;
  }

  private pick(sessions: AiSession[]): AiSession | undefined {
    const idle = sessions.filter((s) => s.inUse === 0);
    if (idle.length === 0) {
      if (sessions.length === 0) return undefined;
      return sessions[Math.floor((this.opts.random ?? Math.random)() * sessions.length)] ?? sessions[0];
    }
    if (this.opts.onchain) {
      const cands = idle.map((s) => ({ key: s.uri, stake: s.stake, session: s, ...(s.price ? { price: s.price } : {}) }));
      return drawCandidate(cands, this.opts.weights ?? DEFAULT_SELECTION_WEIGHTS, (this.opts.random ?? Math.random)())?.session;
    }
    return [...idle].sort((a, b) => a.latencyScore - b.latencyScore || a.latencyMs - b.latencyMs)[0];
  }

  /**
   * A session for one request: an idle warm one, else a busy warm one (shared), then the same for
   * cold. Re-discovers first when the pools run low or are 10 minutes old.
   */
  async select(exclude: ReadonlySet<string> = new Set()): Promise<AiSession | undefined> {
    if (this.needsRefresh()) await this.refresh();
    const chosen = this.pick(this.usable(this.warm, exclude)) ?? this.pick(this.usable(this.cold, exclude));
    if (chosen) {
      chosen.inUse++;
      this.statuses.set(chosen.uri, this.describe(chosen));
    }
    return chosen;
  }

  /** The request is over on this session; `latencyScore` when it succeeded. */
  release(s: AiSession, latencyScore?: number): void {
    s.inUse = Math.max(0, s.inUse - 1);
    if (latencyScore !== undefined && Number.isFinite(latencyScore)) s.latencyScore = latencyScore;
    if (this.warm.get(s.uri) === s || this.cold.get(s.uri) === s) this.statuses.set(s.uri, this.describe(s));
  }

  /** Out of the pools until the next discovery, without suspension (e.g. `insufficient capacity`). */
  setAside(s: AiSession, reason: string): void {
    this.release(s);
    this.warm.delete(s.uri);
    this.cold.delete(s.uri);
    this.statuses.set(s.uri, { ...this.describe(s), state: 'set-aside', reason });
    this.opts.log.debug({ uri: s.uri, reason }, 'AI orchestrator set aside');
  }

  /** Out of the pools and suspended for a few discoveries: the failure was the orchestrator's. */
  suspend(s: AiSession, reason: string): void {
    this.release(s);
    this.warm.delete(s.uri);
    this.cold.delete(s.uri);
    this.suspensions.suspend(s.uri, AI_SUSPENSION_REFRESHES, reason);
    this.statuses.set(s.uri, { uri: s.uri, state: 'suspended', reason });
    this.opts.log.debug({ uri: s.uri, reason }, 'AI orchestrator suspended');
  }

  /** Replaces a session's OrchestratorInfo after a refresh. */
  update(s: AiSession, info: OrchestratorInfo, price: Rat | undefined): void {
    s.info = info;
    if (price) s.price = price;
  }

  /** Requests running on this selector's sessions now. */
  busy(): number {
    let n = 0;
    for (const s of [...this.warm.values(), ...this.cold.values()]) n += s.inUse;
    return n;
  }

  status(): AiCandidateStatus[] {
    return [...this.statuses.values()].map((s) =>
      s.state !== 'suspended' && this.suspensions.isSuspended(s.uri) ? { uri: s.uri, state: 'suspended', reason: this.suspensions.reason(s.uri) ?? '' } : s,
    );
  }
}

/** At most this many (capability, model) selectors are kept; the least recently used goes first. */
export const MAX_AI_SELECTORS = 256;

/** One selector per (capability, model), made on first use. */
export class AiSelectors {
  private readonly selectors = new Map<string, AiSelector>();

  constructor(
    private readonly make: (cap: number, modelId: string) => AiSelector,
    private readonly max = MAX_AI_SELECTORS,
  ) {}

  get(cap: number, modelId: string): AiSelector {
    const key = `${cap}/${modelId}`;
    let s = this.selectors.get(key);
    if (s) {
      this.selectors.delete(key);
    } else {
      s = this.make(cap, modelId);
      // Model ids come from clients: the map must not grow without bound.
      if (this.selectors.size >= this.max) {
        const idle = [...this.selectors].find(([, sel]) => sel.busy() === 0) ?? [...this.selectors][0];
        if (idle) this.selectors.delete(idle[0]);
      }
    }
    this.selectors.set(key, s);
    return s;
  }

  all(): AiSelector[] {
    return [...this.selectors.values()];
  }
}
