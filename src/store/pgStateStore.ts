// The state store in PostgreSQL (-storeUrl): shared by every gateway instance that points at the same
// database. Each primitive is one atomic statement, or one transaction where several rows move together;
// row locks (and an advisory lock per gauge) make concurrent instances take turns.
import type { Logger } from '../lib/log.ts';
import { connectPool, runtimeError, type PgClient, type PgPool } from './pgConnect.ts';
import { loadMigrations, migrate, MIGRATIONS_DIR, type MigrationReport } from './migrations.ts';
import type { PgTarget } from './pgTarget.ts';
import type {
  AcquireResult,
  Amounts,
  CasResult,
  CounterIncrement,
  CounterValue,
  CountResult,
  GroupBy,
  KvEntry,
  NewRecord,
  RecordRange,
  RecordSum,
  ReserveRequest,
  ReserveResult,
  StateStore,
  StoredRecord,
} from './stateStore.ts';
import { MAX_GROUPS } from './stateStore.ts';
import { StoreInputError, StoreUnavailableError } from './errors.ts';
import {
  checkCursor,
  checkDate,
  checkGauge,
  checkGaugeLimit,
  checkGroupBy,
  checkIncrements,
  checkKey,
  checkListLimit,
  checkNamespace,
  checkRange,
  checkRecord,
  checkReservation,
  checkTtl,
  checkValue,
  checkVersion,
} from './validate.ts';
import { effectiveWindow, type Period } from './windows.ts';

// Adds `amount` to the counter's window unless that would pass the limit ($6, NULL = none). A row still
// in the caller's window (or a later one: another instance's clock is ahead) continues; an older one
// starts over. When the WHERE refuses, no row comes back and nothing changed.
const COUNT_SQL = `
INSERT INTO store_counters AS c (ns, key, period, window_start, total)
VALUES ($1, $2, $3, $4, $5::numeric)
ON CONFLICT (ns, key, period) DO UPDATE SET
  window_start = GREATEST(c.window_start, EXCLUDED.window_start),
  total = (CASE WHEN c.window_start >= EXCLUDED.window_start THEN c.total ELSE 0 END) + EXCLUDED.total
WHERE $6::numeric IS NULL
   OR (CASE WHEN c.window_start >= EXCLUDED.window_start THEN c.total ELSE 0 END) + EXCLUDED.total <= $6::numeric
RETURNING total`;

interface RecordRow {
  id: string;
  subject: string;
  at: Date;
  amounts: Record<string, string>;
  tags: Record<string, string>;
}

export class PgStateStore implements StateStore {
  readonly backend = 'postgres' as const;
  readonly location: string;
  private closed = false;

  private constructor(
    private readonly pool: PgPool,
    private readonly target: PgTarget,
    /** what start-up did to the schema */
    readonly migrations: MigrationReport,
  ) {
    this.location = target.location;
  }

  /** Connects, then brings the schema up to date (StoreUnavailableError / MigrationError: one line). */
  static async open(target: PgTarget, log: Logger, opts: { migrationsDir?: string } = {}): Promise<PgStateStore> {
    const migrations = await loadMigrations(opts.migrationsDir ?? MIGRATIONS_DIR);
    const pool = await connectPool(target, log);
    try {
      const report = await migrate(pool, migrations);
      if (report.applied.length > 0) log.info({ store: target.location, applied: report.applied }, 'PostgreSQL schema migrated');
      return new PgStateStore(pool, target, report);
    } catch (err) {
      await pool.end().catch(() => {});
      throw runtimeError(err, target);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private async query<R extends object>(text: string, values: unknown[]): Promise<R[]> {
    if (this.closed) throw new StoreUnavailableError('the state store is closed');
    try {
      return (await this.pool.query<R>(text, values)).rows;
    } catch (err) {
      throw runtimeError(err, this.target);
    }
  }

  /** Runs `fn` in a transaction: COMMIT when it returns `commit: true`, ROLLBACK otherwise or on error. */
  private async transaction<T>(fn: (c: PgClient) => Promise<{ commit: boolean; value: T }>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError('the state store is closed');
    let client: PgClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw runtimeError(err, this.target);
    }
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const { commit, value } = await fn(client);
      await client.query(commit ? 'COMMIT' : 'ROLLBACK');
      return value;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => {
        broken = e;
      });
      throw runtimeError(err, this.target);
    } finally {
      client.release(broken);
    }
  }

  readonly kv = {
    get: async (ns: string, key: string): Promise<KvEntry | undefined> => {
      checkNamespace(ns);
      checkKey(key);
      const rows = await this.query<{ value: string; version: string }>('SELECT value, version FROM store_kv WHERE ns = $1 AND key = $2', [ns, key]);
      return rows[0] ? { value: rows[0].value, version: Number(rows[0].version) } : undefined;
    },
    compareAndSet: async (ns: string, key: string, expectedVersion: number, value: string): Promise<CasResult> => {
      checkNamespace(ns);
      checkKey(key);
      checkVersion(expectedVersion);
      checkValue(value);
      const rows =
        expectedVersion === 0
          ? await this.query<{ version: string }>(
              'INSERT INTO store_kv (ns, key, value, version) VALUES ($1, $2, $3, 1) ON CONFLICT (ns, key) DO NOTHING RETURNING version',
              [ns, key, value],
            )
          : await this.query<{ version: string }>(
              'UPDATE store_kv SET value = $3, version = version + 1, updated_at = now() WHERE ns = $1 AND key = $2 AND version = $4 RETURNING version',
              [ns, key, value, expectedVersion],
            );
      if (rows[0]) return { ok: true, version: Number(rows[0].version) };
      return { ok: false, current: await this.kv.get(ns, key) };
    },
  };

  readonly counters = {
    add: async (increments: readonly CounterIncrement[], at: Date = new Date()): Promise<CountResult> => {
      checkIncrements(increments);
      checkDate('counter time', at);
      // an amount above its own limit never fits, whatever the total
      const hopeless = increments.findIndex((i) => i.limit !== undefined && i.amount > i.limit);
      if (hopeless >= 0) return this.refusal(increments, hopeless, at);
      if (increments.length === 1) {
        const rows = await this.query<{ total: string }>(COUNT_SQL, countParams(increments[0]!, at));
        return rows[0] ? { ok: true, totals: [BigInt(rows[0].total)] } : this.refusal(increments, 0, at);
      }
      // several counters move together: one transaction, rows locked in one order on every instance
      const order = increments.map((_, i) => i).sort((a, b) => compareCounters(increments[a]!, increments[b]!));
      const outcome = await this.transaction<{ refused: number } | { totals: bigint[] }>(async (c) => {
        const totals: bigint[] = new Array(increments.length);
        for (const i of order) {
          const { rows } = await c.query<{ total: string }>(COUNT_SQL, countParams(increments[i]!, at));
          if (!rows[0]) return { commit: false, value: { refused: i } };
          totals[i] = BigInt(rows[0].total);
        }
        return { commit: true, value: { totals } };
      });
      return 'totals' in outcome ? { ok: true, totals: outcome.totals } : this.refusal(increments, outcome.refused, at);
    },
    read: async (ns: string, key: string, period: Period, at: Date = new Date()): Promise<CounterValue> => {
      checkIncrements([{ ns, key, period, amount: 0n }]);
      checkDate('counter time', at);
      const rows = await this.query<{ window_start: Date; total: string }>(
        'SELECT window_start, total FROM store_counters WHERE ns = $1 AND key = $2 AND period = $3',
        [ns, key, period],
      );
      const { window, continues } = effectiveWindow(period, at, rows[0]?.window_start);
      return { total: continues && rows[0] ? BigInt(rows[0].total) : 0n, windowStart: window.start, resetsAt: window.end };
    },
  };

  /** The answer for a refused add: the counter's total as it stands, and when its window ends. */
  private async refusal(increments: readonly CounterIncrement[], i: number, at: Date): Promise<CountResult> {
    const inc = increments[i]!;
    const now = await this.counters.read(inc.ns, inc.key, inc.period, at);
    return { ok: false, refused: i, total: now.total, limit: inc.limit!, resetsAt: now.resetsAt };
  }

  readonly gauges = {
    acquire: async (ns: string, key: string, holder: string, opts: { limit: number; ttlMs: number }): Promise<AcquireResult> => {
      checkGauge(ns, key, holder);
      checkGaugeLimit(opts.limit);
      checkTtl(opts.ttlMs);
      return this.transaction<AcquireResult>(async (c) => {
        // one acquirer per gauge at a time, across instances; released at COMMIT/ROLLBACK
        await c.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [ns, key]);
        await c.query('DELETE FROM store_gauge_slots WHERE ns = $1 AND key = $2 AND expires_at <= clock_timestamp()', [ns, key]);
        const { rows } = await c.query<{ n: string; mine: boolean | null }>(
          'SELECT count(*) AS n, bool_or(holder = $3) AS mine FROM store_gauge_slots WHERE ns = $1 AND key = $2',
          [ns, key, holder],
        );
        const held = Number(rows[0]!.n);
        const mine = rows[0]!.mine === true;
        if (!mine && held >= opts.limit) return { commit: true, value: { ok: false, held } };
        await c.query(
          `INSERT INTO store_gauge_slots (ns, key, holder, expires_at) VALUES ($1, $2, $3, clock_timestamp() + $4 * interval '1 millisecond')
           ON CONFLICT (ns, key, holder) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
          [ns, key, holder, opts.ttlMs],
        );
        return { commit: true, value: { ok: true, held: mine ? held : held + 1 } };
      });
    },
    renew: async (ns: string, key: string, holder: string, ttlMs: number): Promise<boolean> => {
      checkGauge(ns, key, holder);
      checkTtl(ttlMs);
      const rows = await this.query(
        `UPDATE store_gauge_slots SET expires_at = clock_timestamp() + $4 * interval '1 millisecond'
         WHERE ns = $1 AND key = $2 AND holder = $3 AND expires_at > clock_timestamp() RETURNING holder`,
        [ns, key, holder, ttlMs],
      );
      return rows.length === 1;
    },
    release: async (ns: string, key: string, holder: string): Promise<void> => {
      checkGauge(ns, key, holder);
      await this.query('DELETE FROM store_gauge_slots WHERE ns = $1 AND key = $2 AND holder = $3', [ns, key, holder]);
    },
    count: async (ns: string, key: string): Promise<number> => {
      checkNamespace(ns);
      checkKey(key, 'gauge key');
      const rows = await this.query<{ n: string }>(
        'SELECT count(*) AS n FROM store_gauge_slots WHERE ns = $1 AND key = $2 AND expires_at > clock_timestamp()',
        [ns, key],
      );
      return Number(rows[0]!.n);
    },
  };

  readonly reservations = {
    reserve: async (r: ReserveRequest, at: Date = new Date()): Promise<ReserveResult> => {
      checkReservation(r.ns, r.key, r.holder, r.amount, r.limits);
      checkTtl(r.ttlMs);
      checkDate('reservation time', at);
      return this.transaction<ReserveResult>(async (c) => {
        await lockReservations(c, r.ns, r.key);
        await c.query('DELETE FROM store_reservations WHERE ns = $1 AND key = $2 AND expires_at <= clock_timestamp()', [r.ns, r.key]);
        const held = await c.query<{ sum: string }>(
          'SELECT coalesce(sum(amount), 0) AS sum FROM store_reservations WHERE ns = $1 AND key = $2 AND holder <> $3',
          [r.ns, r.key, r.holder],
        );
        const reserved = BigInt(held.rows[0]!.sum);
        for (const l of r.limits) {
          const { rows } = await c.query<{ window_start: Date; total: string }>(
            'SELECT window_start, total FROM store_counters WHERE ns = $1 AND key = $2 AND period = $3',
            [r.ns, r.key, l.period],
          );
          const { window, continues } = effectiveWindow(l.period, at, rows[0]?.window_start);
          const counted = continues && rows[0] ? BigInt(rows[0].total) : 0n;
          if (counted + reserved + r.amount > l.limit)
            return { commit: false, value: { ok: false, period: l.period, counted, reserved, limit: l.limit, resetsAt: window.end } };
        }
        await c.query(
          `INSERT INTO store_reservations (ns, key, holder, amount, expires_at) VALUES ($1, $2, $3, $4::numeric, clock_timestamp() + $5 * interval '1 millisecond')
           ON CONFLICT (ns, key, holder) DO UPDATE SET amount = EXCLUDED.amount, expires_at = EXCLUDED.expires_at`,
          [r.ns, r.key, r.holder, r.amount.toString(), r.ttlMs],
        );
        return { commit: true, value: { ok: true } };
      });
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
      await this.transaction<undefined>(async (c) => {
        // under the reservers' lock: nobody sees the reservation gone and the charge not yet counted
        await lockReservations(c, s.ns, s.key);
        await c.query('DELETE FROM store_reservations WHERE ns = $1 AND key = $2 AND holder = $3', [s.ns, s.key, s.holder]);
        if (s.amount > 0n) {
          for (const period of s.periods) await c.query(COUNT_SQL, countParams({ ns: s.ns, key: s.key, period, amount: s.amount }, at));
        }
        return { commit: true, value: undefined };
      });
    },
    held: async (ns: string, key: string): Promise<bigint> => {
      checkNamespace(ns);
      checkKey(key, 'counter key');
      const rows = await this.query<{ sum: string }>(
        'SELECT coalesce(sum(amount), 0) AS sum FROM store_reservations WHERE ns = $1 AND key = $2 AND expires_at > clock_timestamp()',
        [ns, key],
      );
      return BigInt(rows[0]!.sum);
    },
  };

  readonly records = {
    append: async (ns: string, record: NewRecord): Promise<StoredRecord> => {
      checkNamespace(ns);
      checkRecord(record);
      const at = record.at ?? new Date();
      const amounts = Object.fromEntries(Object.entries(record.amounts).map(([n, v]) => [n, v.toString()]));
      const tags = { ...(record.tags ?? {}) };
      const rows = await this.query<{ id: string }>('INSERT INTO store_records (ns, subject, at, amounts, tags) VALUES ($1, $2, $3, $4, $5) RETURNING id', [
        ns,
        record.subject,
        at,
        JSON.stringify(amounts),
        JSON.stringify(tags),
      ]);
      return { id: rows[0]!.id, subject: record.subject, at, amounts: { ...record.amounts }, tags };
    },
    list: async (range: RecordRange & { limit?: number; after?: { at: Date; id: string } }): Promise<StoredRecord[]> => {
      checkRange(range);
      const limit = checkListLimit(range.limit);
      checkCursor(range.after);
      const { where, values } = rangeFilter(range);
      if (range.after) {
        values.push(range.after.at, range.after.id);
        where.push(`(at, id) > ($${values.length - 1}, $${values.length})`);
      }
      values.push(limit);
      const rows = await this.query<RecordRow>(
        `SELECT id, subject, at, amounts, tags FROM store_records WHERE ${where.join(' AND ')} ORDER BY at, id LIMIT $${values.length}`,
        values,
      );
      return rows.map(decodeRecord);
    },
    sum: async (range: RecordRange & { groupBy: GroupBy }): Promise<RecordSum[]> => {
      checkRange(range);
      checkGroupBy(range.groupBy);
      const { where, values } = rangeFilter(range);
      let group: string;
      if (range.groupBy.by === 'subject') group = 'subject';
      else if (range.groupBy.by === 'day') group = `to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;
      else {
        values.push(range.groupBy.tag);
        group = `coalesce(tags ->> $${values.length}, '')`;
      }
      // amounts are summed as NUMERIC: exact at any size; one row per (group, amount name)
      const rows = await this.query<{ grp: string; n: string; name: string | null; total: string | null }>(
        `WITH r AS (SELECT ${group} AS grp, amounts FROM store_records WHERE ${where.join(' AND ')}),
              g AS (SELECT grp, count(*) AS n FROM r GROUP BY grp ORDER BY grp COLLATE "C" LIMIT ${MAX_GROUPS + 1}),
              a AS (SELECT grp, e.key AS name, sum(e.value::numeric) AS total FROM r, jsonb_each_text(r.amounts) e GROUP BY grp, e.key)
         SELECT g.grp, g.n, a.name, a.total FROM g LEFT JOIN a USING (grp) ORDER BY g.grp COLLATE "C", a.name`,
        values,
      );
      const out: RecordSum[] = [];
      for (const row of rows) {
        let last = out[out.length - 1];
        if (!last || last.group !== row.grp) {
          if (out.length >= MAX_GROUPS) throw new StoreInputError(`more than ${MAX_GROUPS} groups; narrow the time range or group otherwise`);
          last = { group: row.grp, count: Number(row.n), sums: {} };
          out.push(last);
        }
        if (row.name !== null && row.total !== null) last.sums[row.name] = BigInt(row.total);
      }
      return out;
    },
  };
}

/** One reserver or settler per (ns, key) at a time across instances; released at COMMIT/ROLLBACK. */
async function lockReservations(c: PgClient, ns: string, key: string): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [`resv:${ns}`, key]);
}

function countParams(inc: CounterIncrement, at: Date): unknown[] {
  const { window } = effectiveWindow(inc.period, at, undefined);
  return [inc.ns, inc.key, inc.period, window.start, inc.amount.toString(), inc.limit === undefined ? null : inc.limit.toString()];
}

function compareCounters(a: CounterIncrement, b: CounterIncrement): number {
  const ka = `${a.ns}\u0000${a.key}\u0000${a.period}`;
  const kb = `${b.ns}\u0000${b.key}\u0000${b.period}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function rangeFilter(range: RecordRange): { where: string[]; values: unknown[] } {
  const where = ['ns = $1', 'at >= $2', 'at < $3'];
  const values: unknown[] = [range.ns, range.from, range.to];
  if (range.subject !== undefined) {
    values.push(range.subject);
    where.push(`subject = $${values.length}`);
  }
  return { where, values };
}

function decodeRecord(r: RecordRow): StoredRecord {
  const amounts: Amounts = {};
  for (const [n, v] of Object.entries(r.amounts)) amounts[n] = BigInt(v);
  return { id: r.id, subject: r.subject, at: r.at, amounts, tags: r.tags };
}
