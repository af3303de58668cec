// The state store in the node's embedded Level DB (<datadir>/gatewaydb): one gateway instance, zero
// set-up. LevelDB has no transactions, so every read-modify-write runs under a per-key lock shared by all
// users of the same database in this process, and is written back in one atomic batch with fsync.
import { KeyedLock } from './keyedLock.ts';
import { openNodeDb, type DbHandle, type NodeDb } from './level.ts';
import type { AcquireResult, Amounts, CasResult, CounterIncrement, CounterValue, CountResult, GroupBy, KvEntry } from './stateStore.ts';
import type { ReserveRequest, ReserveResult } from './stateStore.ts';
import type { NewRecord, RecordRange, RecordSum, StateStore, StoredRecord } from './stateStore.ts';
import { MAX_GROUPS } from './stateStore.ts';
import { StoreInputError, StoreUnavailableError } from './errors.ts';
import { checkCursor, checkDate, checkGauge, checkGaugeLimit, checkGroupBy, checkIncrements, checkKey, checkListLimit } from './validate.ts';
import { checkNamespace, checkRange, checkRecord, checkReservation, checkTtl, checkValue, checkVersion } from './validate.ts';
import { effectiveWindow, windowOf, type Period } from './windows.ts';

/** Every key of this store starts with this, apart from the rest of gatewaydb. */
const ROOT = 'state:';
/** Durable before the promise resolves. */
const SYNC = { sync: true } as const;

// free-form parts are URI-encoded so they never contain the ':' that separates the parts of a key
const enc = encodeURIComponent;
const pad = (n: number | bigint | string, width: number) => String(n).padStart(width, '0');
const timeKey = (ms: number) => pad(ms, 15);

const kvKey = (ns: string, key: string) => `${ROOT}kv:${ns}:${enc(key)}`;
const counterKey = (ns: string, key: string, period: Period) => `${ROOT}ctr:${ns}:${period}:${enc(key)}`;
const gaugeKey = (ns: string, key: string) => `${ROOT}gauge:${ns}:${enc(key)}`;
const reservationKey = (ns: string, key: string) => `${ROOT}resv:${ns}:${enc(key)}`;
const byTime = (ns: string) => `${ROOT}rec:${ns}:t:`;
const bySubject = (ns: string, subject: string) => `${ROOT}rec:${ns}:s:${enc(subject)}:`;
const RECORD_SEQ = `${ROOT}recseq`;

interface StoredCounter {
  /** window start, ms */
  s: number;
  /** total, decimal */
  t: string;
}
interface StoredRecordJson {
  id: string;
  subject: string;
  at: number;
  amounts: Record<string, string>;
  tags: Record<string, string>;
}

/** One set of locks per database, so two stores opened on the same datadir still serialize. */
const shared = new WeakMap<NodeDb, KeyedLock>();

export class LevelStateStore implements StateStore {
  readonly backend = 'level' as const;
  readonly location: string;
  private readonly db: NodeDb;
  private readonly lock: KeyedLock;
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;

  private constructor(
    private readonly handle: DbHandle,
    datadir: string,
  ) {
    this.db = handle.db;
    this.location = `level ${datadir}/gatewaydb`;
    let lock = shared.get(this.db);
    if (!lock) {
      lock = new KeyedLock();
      shared.set(this.db, lock);
    }
    this.lock = lock;
  }

  /** Opens (or shares) `<datadir>/gatewaydb`. */
  static async open(datadir: string): Promise<LevelStateStore> {
    return new LevelStateStore(await openNodeDb(datadir), datadir);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    await this.handle.close();
  }

  /** Runs one operation; close() waits for those under way. */
  private op<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the state store is closed'));
    const p = fn();
    this.inFlight.add(p);
    const done = () => this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  readonly kv = {
    get: async (ns: string, key: string): Promise<KvEntry | undefined> => {
      checkNamespace(ns);
      checkKey(key);
      return this.op(() => this.readKv(kvKey(ns, key)));
    },
    compareAndSet: async (ns: string, key: string, expectedVersion: number, value: string): Promise<CasResult> => {
      checkNamespace(ns);
      checkKey(key);
      checkVersion(expectedVersion);
      checkValue(value);
      const k = kvKey(ns, key);
      return this.op(() =>
        this.lock.run([k], async () => {
          const current = await this.readKv(k);
          if ((current?.version ?? 0) !== expectedVersion) return { ok: false, current };
          const version = expectedVersion + 1;
          await this.db.put(k, JSON.stringify({ v: version, d: value }), SYNC);
          return { ok: true, version };
        }),
      );
    },
  };

  private async readKv(k: string): Promise<KvEntry | undefined> {
    const raw = await this.db.get(k);
    if (raw === undefined) return undefined;
    const { v, d } = JSON.parse(raw) as { v: number; d: string };
    return { value: d, version: v };
  }

  readonly counters = {
    add: async (increments: readonly CounterIncrement[], at: Date = new Date()): Promise<CountResult> => {
      checkIncrements(increments);
      checkDate('counter time', at);
      const keys = increments.map((i) => counterKey(i.ns, i.key, i.period));
      return this.op(() =>
        this.lock.run(keys, async () => {
          const stored = await this.db.getMany(keys);
          const next: StoredCounter[] = [];
          for (const [i, inc] of increments.entries()) {
            const prev = stored[i] === undefined ? undefined : (JSON.parse(stored[i]!) as StoredCounter);
            const { window, continues } = effectiveWindow(inc.period, at, prev ? new Date(prev.s) : undefined);
            const before = continues && prev ? BigInt(prev.t) : 0n;
            const total = before + inc.amount;
            if (inc.limit !== undefined && total > inc.limit) {
              return { ok: false, refused: i, total: before, limit: inc.limit, resetsAt: window.end };
            }
            next.push({ s: window.start.getTime(), t: total.toString() });
          }
          await this.db.batch(
            next.map((value, i) => ({ type: 'put' as const, key: keys[i]!, value: JSON.stringify(value) })),
            SYNC,
          );
          return { ok: true, totals: next.map((n) => BigInt(n.t)) };
        }),
      );
    },
    read: async (ns: string, key: string, period: Period, at: Date = new Date()): Promise<CounterValue> => {
      checkIncrements([{ ns, key, period, amount: 0n }]);
      checkDate('counter time', at);
      return this.op(async () => {
        const raw = await this.db.get(counterKey(ns, key, period));
        const prev = raw === undefined ? undefined : (JSON.parse(raw) as StoredCounter);
        const { window, continues } = effectiveWindow(period, at, prev ? new Date(prev.s) : undefined);
        return { total: continues && prev ? BigInt(prev.t) : 0n, windowStart: window.start, resetsAt: window.end };
      });
    },
  };

  readonly gauges = {
    acquire: async (ns: string, key: string, holder: string, opts: { limit: number; ttlMs: number }): Promise<AcquireResult> => {
      checkGauge(ns, key, holder);
      checkGaugeLimit(opts.limit);
      checkTtl(opts.ttlMs);
      const k = gaugeKey(ns, key);
      return this.op(() =>
        this.lock.run([k], async () => {
          const now = Date.now();
          const holders = await this.liveHolders(k, now);
          if (holders.has(holder) || holders.size < opts.limit) {
            holders.set(holder, now + opts.ttlMs);
            await this.db.put(k, JSON.stringify(Object.fromEntries(holders)), SYNC);
            return { ok: true, held: holders.size };
          }
          return { ok: false, held: holders.size };
        }),
      );
    },
    renew: async (ns: string, key: string, holder: string, ttlMs: number): Promise<boolean> => {
      checkGauge(ns, key, holder);
      checkTtl(ttlMs);
      const k = gaugeKey(ns, key);
      return this.op(() =>
        this.lock.run([k], async () => {
          const now = Date.now();
          const holders = await this.liveHolders(k, now);
          if (!holders.has(holder)) return false;
          holders.set(holder, now + ttlMs);
          await this.db.put(k, JSON.stringify(Object.fromEntries(holders)), SYNC);
          return true;
        }),
      );
    },
    release: async (ns: string, key: string, holder: string): Promise<void> => {
      checkGauge(ns, key, holder);
      const k = gaugeKey(ns, key);
      return this.op(() =>
        this.lock.run([k], async () => {
          const holders = await this.liveHolders(k, Date.now());
          holders.delete(holder);
          if (holders.size === 0) await this.db.del(k, SYNC);
          else await this.db.put(k, JSON.stringify(Object.fromEntries(holders)), SYNC);
        }),
      );
    },
    count: async (ns: string, key: string): Promise<number> => {
      checkNamespace(ns);
      checkKey(key, 'gauge key');
      return this.op(async () => (await this.liveHolders(gaugeKey(ns, key), Date.now())).size);
    },
  };

  readonly reservations = {
    reserve: async (r: ReserveRequest, at: Date = new Date()): Promise<ReserveResult> => {
      checkReservation(r.ns, r.key, r.holder, r.amount, r.limits);
      checkTtl(r.ttlMs);
      checkDate('reservation time', at);
      const rk = reservationKey(r.ns, r.key);
      const keys = r.limits.map((l) => counterKey(r.ns, r.key, l.period));
      // the reservation row and the counters it is checked against move under one lock
      return this.op(() =>
        this.lock.run([rk, ...keys], async () => {
          const now = Date.now();
          const live = await this.liveReservations(rk, now);
          const reserved = [...live.values()].reduce((sum, e) => sum + BigInt(e.a), 0n) - BigInt(live.get(r.holder)?.a ?? '0');
          const stored = keys.length > 0 ? await this.db.getMany(keys) : [];
          for (const [i, l] of r.limits.entries()) {
            const counted = this.counterTotal(l.period, at, stored[i]);
            if (counted.total + reserved + r.amount > l.limit)
              return { ok: false, period: l.period, counted: counted.total, reserved, limit: l.limit, resetsAt: counted.resetsAt };
          }
          live.set(r.holder, { a: r.amount.toString(), e: now + r.ttlMs });
          await this.db.put(rk, JSON.stringify(Object.fromEntries(live)), SYNC);
          return { ok: true };
        }),
      );
    },
    settle: async (s: { ns: string; key: string; holder: string; amount: bigint; periods: readonly Period[] }, at: Date = new Date()): Promise<void> => {
      checkReservation(
        s.ns,
        s.key,
        s.holder,
        s.amount,
        s.periods.map((period) => ({ period })),
      );
      checkDate('counter time', at);
      const rk = reservationKey(s.ns, s.key);
      const keys = s.periods.map((p) => counterKey(s.ns, s.key, p));
      return this.op(() =>
        this.lock.run([rk, ...keys], async () => {
          const live = await this.liveReservations(rk, Date.now());
          live.delete(s.holder);
          const stored = keys.length > 0 ? await this.db.getMany(keys) : [];
          const ops: { type: 'put' | 'del'; key: string; value?: string }[] = [];
          if (s.amount > 0n) {
            for (const [i, period] of s.periods.entries()) {
              const prev = stored[i] === undefined ? undefined : (JSON.parse(stored[i]!) as StoredCounter);
              const { window, continues } = effectiveWindow(period, at, prev ? new Date(prev.s) : undefined);
              const total = (continues && prev ? BigInt(prev.t) : 0n) + s.amount;
              ops.push({ type: 'put', key: keys[i]!, value: JSON.stringify({ s: window.start.getTime(), t: total.toString() } satisfies StoredCounter) });
            }
          }
          ops.push(live.size === 0 ? { type: 'del', key: rk } : { type: 'put', key: rk, value: JSON.stringify(Object.fromEntries(live)) });
          // the counters and the reservation change together, durably
          await this.db.batch(
            ops.map((o) => (o.type === 'put' ? { type: 'put' as const, key: o.key, value: o.value! } : { type: 'del' as const, key: o.key })),
            SYNC,
          );
        }),
      );
    },
    held: async (ns: string, key: string): Promise<bigint> => {
      checkNamespace(ns);
      checkKey(key, 'counter key');
      return this.op(async () => [...(await this.liveReservations(reservationKey(ns, key), Date.now())).values()].reduce((sum, e) => sum + BigInt(e.a), 0n));
    },
  };

  private counterTotal(period: Period, at: Date, raw: string | undefined): { total: bigint; resetsAt: Date } {
    const prev = raw === undefined ? undefined : (JSON.parse(raw) as StoredCounter);
    const { window, continues } = effectiveWindow(period, at, prev ? new Date(prev.s) : undefined);
    return { total: continues && prev ? BigInt(prev.t) : 0n, resetsAt: window.end };
  }

  /** Reservations (amount, expiry ms) not expired at `now`. */
  private async liveReservations(k: string, now: number): Promise<Map<string, { a: string; e: number }>> {
    const raw = await this.db.get(k);
    const all = raw === undefined ? {} : (JSON.parse(raw) as Record<string, { a: string; e: number }>);
    return new Map(Object.entries(all).filter(([, r]) => r.e > now));
  }

  /** Holders whose slot has not expired at `now`. */
  private async liveHolders(k: string, now: number): Promise<Map<string, number>> {
    const raw = await this.db.get(k);
    const all = raw === undefined ? {} : (JSON.parse(raw) as Record<string, number>);
    return new Map(Object.entries(all).filter(([, expires]) => expires > now));
  }

  readonly records = {
    append: async (ns: string, record: NewRecord): Promise<StoredRecord> => {
      checkNamespace(ns);
      checkRecord(record);
      const at = record.at ?? new Date();
      // ids come from one sequence: appends take turns, each durable before the next
      return this.op(() =>
        this.lock.run([RECORD_SEQ], async () => {
          const last = await this.db.get(RECORD_SEQ);
          const id = (BigInt(last ?? '0') + 1n).toString();
          const stored: StoredRecordJson = {
            id,
            subject: record.subject,
            at: at.getTime(),
            amounts: Object.fromEntries(Object.entries(record.amounts).map(([n, v]) => [n, v.toString()])),
            tags: { ...(record.tags ?? {}) },
          };
          const suffix = `${timeKey(stored.at)}:${pad(id, 19)}`;
          const json = JSON.stringify(stored);
          await this.db.batch(
            [
              { type: 'put', key: byTime(ns) + suffix, value: json },
              { type: 'put', key: bySubject(ns, record.subject) + suffix, value: json },
              { type: 'put', key: RECORD_SEQ, value: id },
            ],
            SYNC,
          );
          return decodeRecord(stored);
        }),
      );
    },
    list: async (range: RecordRange & { limit?: number; after?: { at: Date; id: string } }): Promise<StoredRecord[]> => {
      checkRange(range);
      const limit = checkListLimit(range.limit);
      checkCursor(range.after);
      return this.op(async () => {
        const out: StoredRecord[] = [];
        for await (const stored of this.scan(range, range.after, limit)) out.push(decodeRecord(stored));
        return out;
      });
    },
    sum: async (range: RecordRange & { groupBy: GroupBy }): Promise<RecordSum[]> => {
      checkRange(range);
      checkGroupBy(range.groupBy);
      return this.op(async () => {
        const groups = new Map<string, { count: number; sums: Map<string, bigint> }>();
        for await (const r of this.scan(range)) {
          const g = groupOf(range.groupBy, r);
          let acc = groups.get(g);
          if (!acc) {
            if (groups.size >= MAX_GROUPS) throw new StoreInputError(`more than ${MAX_GROUPS} groups; narrow the time range or group otherwise`);
            acc = { count: 0, sums: new Map() };
            groups.set(g, acc);
          }
          acc.count++;
          for (const [name, v] of Object.entries(r.amounts)) acc.sums.set(name, (acc.sums.get(name) ?? 0n) + BigInt(v));
        }
        return [...groups.entries()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([group, acc]) => ({ group, count: acc.count, sums: Object.fromEntries(acc.sums) }));
      });
    },
  };

  /** Records of a range in (at, id) order, from the subject index when a subject is given. */
  private async *scan(range: RecordRange, after?: { at: Date; id: string }, limit?: number): AsyncGenerator<StoredRecordJson> {
    const prefix = range.subject === undefined ? byTime(range.ns) : bySubject(range.ns, range.subject);
    const from = prefix + timeKey(range.from.getTime());
    const cursor = after ? `${prefix}${timeKey(after.at.getTime())}:${pad(after.id, 19)}` : undefined;
    const lower = cursor !== undefined && cursor >= from ? { gt: cursor } : { gte: from };
    const opts = { ...lower, lt: prefix + timeKey(range.to.getTime()), ...(limit !== undefined ? { limit } : {}) };
    for await (const value of this.db.values(opts)) yield JSON.parse(value) as StoredRecordJson;
  }
}

function decodeRecord(r: StoredRecordJson): StoredRecord {
  const amounts: Amounts = {};
  for (const [n, v] of Object.entries(r.amounts)) amounts[n] = BigInt(v);
  return { id: r.id, subject: r.subject, at: new Date(r.at), amounts, tags: r.tags };
}

function groupOf(g: GroupBy, r: StoredRecordJson): string {
  switch (g.by) {
    case 'subject':
      return r.subject;
    case 'day':
      return windowOf('day', new Date(r.at)).start.toISOString().slice(0, 10);
    case 'tag':
      return r.tags[g.tag] ?? '';
  }
}
