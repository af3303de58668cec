// The shared-state store: one interface, two backends — the embedded Level DB in -datadir (one
// instance) and PostgreSQL (-storeUrl, several instances). Features build their own records on these
// primitives; docs/store.md says what each one guarantees.
import type { Period } from './windows.ts';

export type { Period };

export type StoreBackend = 'level' | 'postgres';

/** A stored value and its version. Versions start at 1 and grow by one with every write. */
export interface KvEntry {
  value: string;
  version: number;
}

export type CasResult = { ok: true; version: number } | { ok: false; current: KvEntry | undefined };

/** Namespaced key–value with compare-and-set: the write happens only if nobody wrote since the read. */
export interface KeyValue {
  get(ns: string, key: string): Promise<KvEntry | undefined>;
  /**
   * Stores `value` if the key's version is still `expectedVersion` (0 = the key must not exist yet).
   * On a conflict nothing is written and the current entry comes back, to retry from.
   */
  compareAndSet(ns: string, key: string, expectedVersion: number, value: string): Promise<CasResult>;
}

/** One increment of a counter in the current window of its period (UTC minute, hour, day or month). */
export interface CounterIncrement {
  ns: string;
  key: string;
  period: Period;
  /** ≥ 0 (requests: 1; spend: wei) */
  amount: bigint;
  /** the window's total may not go above this; none = count unconditionally */
  limit?: bigint;
}

export type CountResult =
  /** every counter was incremented; totals after it, in the order given */
  | { ok: true; totals: bigint[] }
  /** nothing was incremented: counter `refused` (index into the increments) would have exceeded its limit */
  | { ok: false; refused: number; total: bigint; limit: bigint; resetsAt: Date };

export interface CounterValue {
  total: bigint;
  windowStart: Date;
  resetsAt: Date;
}

/** Counters in fixed time windows: increment-and-check in one atomic step, several counters all or none. */
export interface WindowCounters {
  /** `at` (default now) picks the windows; a counter already in a later window (a clock ahead of ours) counts there. */
  add(increments: readonly CounterIncrement[], at?: Date): Promise<CountResult>;
  read(ns: string, key: string, period: Period, at?: Date): Promise<CounterValue>;
}

export type AcquireResult = { ok: true; held: number } | { ok: false; held: number };

/**
 * Slots for concurrent things (streams of one API key): at most `limit` holders at once. A slot expires
 * `ttlMs` after its last acquire or renew, so an instance that crashed frees its slots by itself.
 */
export interface Gauges {
  /** Takes (or, for a holder that has one, refreshes) a slot. */
  acquire(ns: string, key: string, holder: string, opts: { limit: number; ttlMs: number }): Promise<AcquireResult>;
  /** Extends a live slot; false when the holder no longer has one (it expired or was released). */
  renew(ns: string, key: string, holder: string, ttlMs: number): Promise<boolean>;
  release(ns: string, key: string, holder: string): Promise<void>;
  /** Live slots. */
  count(ns: string, key: string): Promise<number>;
}

/** One limit a reservation must fit under: the counter of `period` (same ns and key as the reservation). */
export interface ReservationLimit {
  period: Period;
  limit: bigint;
}

export interface ReserveRequest {
  /** the counters' namespace and key the reservation counts against */
  ns: string;
  key: string;
  /** names this reservation (unique per job) */
  holder: string;
  /** ≥ 0, in the counters' unit */
  amount: bigint;
  /** a reservation not settled by then stops counting (its instance crashed) */
  ttlMs: number;
  limits: readonly ReservationLimit[];
}

export type ReserveResult =
  | { ok: true }
  /** nothing was held: in `period`, counted + live reservations + amount would pass `limit` */
  | { ok: false; period: Period; counted: bigint; reserved: bigint; limit: bigint; resetsAt: Date };

/**
 * Room held under counter limits before a job whose cost is only known after it (spend caps): a
 * reservation counts against the limits until it is settled, released or expires, so concurrent jobs
 * on every instance can never together pass a limit.
 */
export interface Reservations {
  /** Holds `amount` if, for every limit, the window's total + live reservations + amount ≤ limit — atomically. */
  reserve(r: ReserveRequest, at?: Date): Promise<ReserveResult>;
  /**
   * Drops the reservation (if still live) and adds `amount` to the counters of `periods` unconditionally
   * (the job happened), in one atomic step. Settling 0 releases.
   */
  settle(s: { ns: string; key: string; holder: string; amount: bigint; periods: readonly Period[] }, at?: Date): Promise<void>;
  /** Sum of the live reservations. */
  held(ns: string, key: string): Promise<bigint>;
}

/** Exact integer amounts (wei, pixels, seconds); names like `wei`, `pixels`. */
export type Amounts = Record<string, bigint>;

export interface NewRecord {
  /** whose usage (an API key id, a stream, an orchestrator) */
  subject: string;
  /** default: now */
  at?: Date;
  amounts: Amounts;
  /** what it was (pipeline, model, orchestrator…) */
  tags?: Record<string, string>;
}

export interface StoredRecord {
  /** decimal; unique in the namespace */
  id: string;
  subject: string;
  at: Date;
  amounts: Amounts;
  tags: Record<string, string>;
}

export interface RecordRange {
  ns: string;
  /** inclusive */
  from: Date;
  /** exclusive */
  to: Date;
  subject?: string;
}

export type GroupBy = { by: 'subject' } | { by: 'tag'; tag: string } | { by: 'day' };

export interface RecordSum {
  /** the subject, the tag's value ('' = records without it) or the UTC day (YYYY-MM-DD) */
  group: string;
  count: number;
  /** Σ per amount name over the group's records */
  sums: Amounts;
}

/** Most records one `list` returns, and most groups one `sum` returns. */
export const MAX_LIST = 10_000;
export const MAX_GROUPS = 10_000;

/** Append-only records (usage), read back by time range, summed exactly per group. */
export interface RecordLog {
  /** Durable when it returns. */
  append(ns: string, record: NewRecord): Promise<StoredRecord>;
  /** In (at, id) order; `after` (the last record of the previous page) pages on. */
  list(range: RecordRange & { limit?: number; after?: { at: Date; id: string } }): Promise<StoredRecord[]>;
  /** Groups in ascending order of `group`. */
  sum(range: RecordRange & { groupBy: GroupBy }): Promise<RecordSum[]>;
}

export interface StateStore {
  readonly backend: StoreBackend;
  /** where the state lives, without credentials (for logs and /status) */
  readonly location: string;
  readonly kv: KeyValue;
  readonly counters: WindowCounters;
  readonly gauges: Gauges;
  readonly reservations: Reservations;
  readonly records: RecordLog;
  close(): Promise<void>;
}
