// The state store's contract, run unchanged against both backends: Level in a temp datadir and a real
// PostgreSQL cluster. "Two instances" are two stores opened on the same state: two pools (two gateway
// instances) on PostgreSQL, two handles on one database in one process on Level.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/lib/log.ts';
import { StoreInputError, StoreUnavailableError } from '../../src/store/errors.ts';
import { openStateStore } from '../../src/store/openStateStore.ts';
import type { CounterIncrement, StateStore } from '../../src/store/stateStore.ts';
import { withPostgres } from '../helpers/postgres.ts';

const pg = withPostgres();

interface Backend {
  name: 'level' | 'postgres';
  /** prepares empty state; returns a function that opens one more instance on it */
  setup(): Promise<{ open(): Promise<StateStore>; teardown(): Promise<void> }>;
}

const BACKENDS: Backend[] = [
  {
    name: 'level',
    async setup() {
      const datadir = await mkdtemp(join(tmpdir(), 'lpgw-state-'));
      return {
        open: () => openStateStore({ datadir, log: silentLogger() }),
        teardown: () => rm(datadir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'postgres',
    async setup() {
      const storeUrl = await pg.createDatabase();
      return { open: () => openStateStore({ storeUrl, datadir: '/nonexistent', log: silentLogger() }), teardown: async () => {} };
    },
  },
];

/** A key no other test uses. */
const fresh = (what: string) => `${what}-${randomUUID()}`;
const isInputError = (re: RegExp) => (err: unknown) => err instanceof StoreInputError && re.test(err.message);

for (const backend of BACKENDS) {
  describe(`state store on ${backend.name}`, () => {
    let a: StateStore;
    let b: StateStore;
    let teardown: () => Promise<void>;

    before(async () => {
      const state = await backend.setup();
      teardown = state.teardown;
      a = await state.open();
      b = await state.open();
      assert.equal(a.backend, backend.name);
    });
    after(async () => {
      await a?.close();
      await b?.close();
      await teardown?.();
    });

    describe('key-value with compare-and-set', () => {
      it('creates with version 0, updates only from the version read, and hands back the current entry on a conflict', async () => {
        const key = fresh('state');
        assert.equal(await a.kv.get('signer', key), undefined);
        assert.deepEqual(await a.kv.compareAndSet('signer', key, 0, '{"seq":1}'), { ok: true, version: 1 });
        // the other instance sees it, and cannot create it again
        assert.deepEqual(await b.kv.get('signer', key), { value: '{"seq":1}', version: 1 });
        assert.deepEqual(await b.kv.compareAndSet('signer', key, 0, '{"seq":9}'), { ok: false, current: { value: '{"seq":1}', version: 1 } });
        assert.deepEqual(await b.kv.compareAndSet('signer', key, 1, '{"seq":2}'), { ok: true, version: 2 });
        // a replay of the old read loses
        assert.deepEqual(await a.kv.compareAndSet('signer', key, 1, '{"seq":2}'), { ok: false, current: { value: '{"seq":2}', version: 2 } });
        assert.deepEqual(await a.kv.compareAndSet('signer', key, 5, 'x'), { ok: false, current: { value: '{"seq":2}', version: 2 } });
        // namespaces are separate
        assert.equal(await a.kv.get('tenancy', key), undefined);
        // absent key with a version: conflict, nothing created
        const other = fresh('absent');
        assert.deepEqual(await a.kv.compareAndSet('signer', other, 3, 'x'), { ok: false, current: undefined });
        assert.equal(await b.kv.get('signer', other), undefined);
      });

      it('keeps any printable text exactly, up to 64 KiB, and keys up to 512 bytes', async () => {
        const key = `${'k'.repeat(508)}:/é`; // 512 bytes in UTF-8, with the separator characters
        const value = `ünïcødé 🎥 "quotes" \\ ${'v'.repeat(64 * 1024 - 40)}`;
        assert.ok(Buffer.byteLength(value) <= 64 * 1024);
        assert.equal((await a.kv.compareAndSet('ns.with-chars_1', key, 0, value)).ok, true);
        assert.deepEqual(await b.kv.get('ns.with-chars_1', key), { value, version: 1 });
        const empty = fresh('empty');
        assert.equal((await a.kv.compareAndSet('signer', empty, 0, '')).ok, true);
        assert.deepEqual(await a.kv.get('signer', empty), { value: '', version: 1 });
      });

      it('concurrent compare-and-set on one key from two instances: exactly one winner', async () => {
        const key = fresh('race');
        assert.equal((await a.kv.compareAndSet('signer', key, 0, 'start')).ok, true);
        const attempts = Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).kv.compareAndSet('signer', key, 1, `writer-${i}`));
        const results = await Promise.all(attempts);
        const winners = results.flatMap((r, i) => (r.ok ? [i] : []));
        assert.equal(winners.length, 1, `winners: ${winners}`);
        assert.deepEqual(await a.kv.get('signer', key), { value: `writer-${winners[0]}`, version: 2 });
        // and the same for creation
        const created = fresh('create-race');
        const creates = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).kv.compareAndSet('signer', created, 0, `c${i}`)));
        assert.equal(creates.filter((r) => r.ok).length, 1);
      });

      it('read-modify-write loops on two instances lose no update', async () => {
        const key = fresh('counter');
        await a.kv.compareAndSet('signer', key, 0, '0');
        const bump = async (store: StateStore) => {
          for (;;) {
            const cur = (await store.kv.get('signer', key))!;
            const r = await store.kv.compareAndSet('signer', key, cur.version, String(Number(cur.value) + 1));
            if (r.ok) return;
          }
        };
        await Promise.all(Array.from({ length: 30 }, (_, i) => bump(i % 2 ? a : b)));
        assert.deepEqual(await b.kv.get('signer', key), { value: '30', version: 31 });
      });

      it('refuses hostile keys, values, namespaces and versions before writing anything', async () => {
        const key = fresh('hostile');
        await assert.rejects(a.kv.compareAndSet('signer', 'k'.repeat(513), 0, 'x'), isInputError(/513 bytes; at most 512/));
        await assert.rejects(a.kv.compareAndSet('signer', key, 0, 'v'.repeat(64 * 1024 + 1)), isInputError(/65537 bytes; at most 65536/));
        await assert.rejects(a.kv.compareAndSet('signer', 'x'.repeat(10 * 1024 * 1024), 0, 'x'), isInputError(/at most 512/));
        await assert.rejects(a.kv.compareAndSet('signer', 'a\u0000b', 0, 'x'), isInputError(/control character/));
        await assert.rejects(a.kv.compareAndSet('signer', key, 0, 'nul\u0000inside'), isInputError(/control character/));
        await assert.rejects(a.kv.compareAndSet('signer', key, 0, 'lone \ud800 surrogate'), isInputError(/invalid UTF-16/));
        await assert.rejects(a.kv.compareAndSet('signer', '', 0, 'x'), isInputError(/must not be empty/));
        for (const ns of ['', 'UPPER', 'has space', 'a/b', 'a:b', '1starts-with-digit', 'n'.repeat(64)]) {
          await assert.rejects(a.kv.get(ns, key), isInputError(/namespace/), ns);
        }
        for (const v of [-1, 1.5, Number.NaN, 2 ** 60]) await assert.rejects(a.kv.compareAndSet('signer', key, v, 'x'), isInputError(/version/));
        await assert.rejects(a.kv.compareAndSet('signer', key, 0, 42 as unknown as string), isInputError(/must be a string/));
        assert.equal(await a.kv.get('signer', key), undefined);
      });
    });

    describe('counters in time windows', () => {
      const t0 = new Date('2031-05-17T10:20:30.500Z');

      it('counts requests per minute up to the limit, refuses the one over it, and starts over in the next minute', async () => {
        const key = fresh('apikey');
        const rpm = (at: Date) => a.counters.add([{ ns: 'rpm', key, period: 'minute', amount: 1n, limit: 3n }], at);
        assert.deepEqual(await rpm(t0), { ok: true, totals: [1n] });
        assert.deepEqual(await rpm(new Date(t0.getTime() + 1000)), { ok: true, totals: [2n] });
        assert.deepEqual(await rpm(new Date(t0.getTime() + 2000)), { ok: true, totals: [3n] });
        assert.deepEqual(await rpm(new Date(t0.getTime() + 3000)), {
          ok: false,
          refused: 0,
          total: 3n,
          limit: 3n,
          resetsAt: new Date('2031-05-17T10:21:00.000Z'),
        });
        assert.deepEqual(await b.counters.read('rpm', key, 'minute', t0), {
          total: 3n,
          windowStart: new Date('2031-05-17T10:20:00.000Z'),
          resetsAt: new Date('2031-05-17T10:21:00.000Z'),
        });
        const next = new Date('2031-05-17T10:21:00.000Z');
        assert.deepEqual(await rpm(next), { ok: true, totals: [1n] });
        assert.equal((await b.counters.read('rpm', key, 'minute', next)).total, 1n);
        // no limit: counted unconditionally
        assert.deepEqual(await a.counters.add([{ ns: 'rpm', key, period: 'minute', amount: 10n }], next), { ok: true, totals: [11n] });
        // a never-used counter reads 0
        assert.equal((await a.counters.read('rpm', fresh('unused'), 'hour', t0)).total, 0n);
      });

      it('a caller whose clock is behind counts into the later window another instance already opened', async () => {
        const key = fresh('skew');
        const later = new Date('2031-05-17T10:21:00.200Z');
        assert.deepEqual(await a.counters.add([{ ns: 'rpm', key, period: 'minute', amount: 1n, limit: 2n }], later), { ok: true, totals: [1n] });
        // 10:20:59.9 on a slower clock: still the 10:21 window, not a reset of it
        const behind = new Date('2031-05-17T10:20:59.900Z');
        assert.deepEqual(await b.counters.add([{ ns: 'rpm', key, period: 'minute', amount: 1n, limit: 2n }], behind), { ok: true, totals: [2n] });
        const refused = await b.counters.add([{ ns: 'rpm', key, period: 'minute', amount: 1n, limit: 2n }], behind);
        assert.equal(refused.ok, false);
        assert.equal(!refused.ok && refused.resetsAt.toISOString(), '2031-05-17T10:22:00.000Z');
      });

      it('spend against a day cap and a month cap moves both or neither', async () => {
        const key = fresh('spend');
        const spend = (amount: bigint): CounterIncrement[] => [
          { ns: 'spend', key, period: 'day', amount, limit: 100n },
          { ns: 'spend', key, period: 'month', amount, limit: 150n },
        ];
        const day1 = new Date('2031-05-17T23:59:59.999Z');
        const day2 = new Date('2031-05-18T00:00:00.000Z');
        assert.deepEqual(await a.counters.add(spend(80n), day1), { ok: true, totals: [80n, 80n] });
        // over the day cap: the month total must not move either
        assert.deepEqual(await b.counters.add(spend(30n), day1), { ok: false, refused: 0, total: 80n, limit: 100n, resetsAt: day2 });
        assert.equal((await a.counters.read('spend', key, 'month', day1)).total, 80n);
        assert.deepEqual(await a.counters.add(spend(60n), day2), { ok: true, totals: [60n, 140n] });
        // over the month cap: the day total must not move either
        assert.deepEqual(await b.counters.add(spend(20n), day2), {
          ok: false,
          refused: 1,
          total: 140n,
          limit: 150n,
          resetsAt: new Date('2031-06-01T00:00:00.000Z'),
        });
        assert.equal((await a.counters.read('spend', key, 'day', day2)).total, 60n);
        // the order given decides nothing: refusals name the caller's index
        const reversed = spend(20n).reverse();
        const r = await a.counters.add(reversed, day2);
        assert.equal(!r.ok && r.refused, 0);
        // an amount above its own limit is refused even on a fresh counter
        const huge = await a.counters.add([{ ns: 'spend', key: fresh('fresh'), period: 'day', amount: 101n, limit: 100n }], day2);
        assert.deepEqual(huge, { ok: false, refused: 0, total: 0n, limit: 100n, resetsAt: new Date('2031-05-19T00:00:00.000Z') });
      });

      it('wei totals stay exact far beyond 2^64', async () => {
        const key = fresh('wei');
        const big = 2n ** 200n + 12345678901234567890123n;
        const at = new Date('2031-01-31T12:00:00Z');
        await a.counters.add([{ ns: 'spend', key, period: 'month', amount: big }], at);
        const r = await b.counters.add([{ ns: 'spend', key, period: 'month', amount: big + 1n, limit: 2n * big + 1n }], at);
        assert.deepEqual(r, { ok: true, totals: [2n * big + 1n] });
        assert.equal((await a.counters.read('spend', key, 'month', at)).total, 2n * big + 1n);
      });

      it('many concurrent requests from two instances never pass the per-minute limit', async () => {
        const key = fresh('burst');
        const at = new Date('2031-05-17T10:20:30Z');
        const results = await Promise.all(
          Array.from({ length: 120 }, (_, i) => (i % 2 ? a : b).counters.add([{ ns: 'rpm', key, period: 'minute', amount: 1n, limit: 37n }], at)),
        );
        assert.equal(results.filter((r) => r.ok).length, 37);
        assert.equal((await a.counters.read('rpm', key, 'minute', at)).total, 37n);
        const totals = results.flatMap((r) => (r.ok ? r.totals : [])).sort((x, y) => (x < y ? -1 : 1));
        assert.deepEqual(
          totals,
          Array.from({ length: 37 }, (_, i) => BigInt(i + 1)),
          'every accepted increment saw its own total',
        );
      });

      it('concurrent spend from two instances stays under both caps, and both totals equal what was accepted', async () => {
        const key = fresh('spend-race');
        const at = new Date('2031-05-17T10:20:30Z');
        const wei = 10n ** 18n;
        const amounts = Array.from({ length: 60 }, (_, i) => BigInt((i * 7919) % 13) * wei + 1n);
        const results = await Promise.all(
          amounts.map((amount, i) =>
            (i % 2 ? a : b).counters.add(
              [
                { ns: 'spend', key, period: 'day', amount, limit: 150n * wei },
                { ns: 'spend', key, period: 'month', amount, limit: 120n * wei },
              ],
              at,
            ),
          ),
        );
        const accepted = amounts.filter((_, i) => results[i]!.ok).reduce((s, x) => s + x, 0n);
        assert.ok(accepted <= 120n * wei);
        assert.ok(accepted > 100n * wei, 'the cap was reached, so the race was real');
        assert.equal((await a.counters.read('spend', key, 'day', at)).total, accepted);
        assert.equal((await b.counters.read('spend', key, 'month', at)).total, accepted);
      });

      it('refuses hostile increments', async () => {
        const key = fresh('bad');
        const one = (inc: Partial<CounterIncrement>) => a.counters.add([{ ns: 'rpm', key, period: 'minute', amount: 1n, ...inc } as CounterIncrement]);
        await assert.rejects(one({ amount: -1n }), isInputError(/amount must be ≥ 0/));
        await assert.rejects(one({ amount: 2n ** 256n }), isInputError(/out of range/));
        await assert.rejects(one({ amount: 1 as unknown as bigint }), isInputError(/bigint/));
        await assert.rejects(one({ limit: -5n }), isInputError(/limit must be ≥ 0/));
        await assert.rejects(one({ period: 'week' as 'day' }), isInputError(/not minute, hour, day or month/));
        await assert.rejects(one({ key: 'k'.repeat(600) }), isInputError(/at most 512/));
        await assert.rejects(a.counters.add([]), isInputError(/1 to 8/));
        const nine = Array.from({ length: 9 }, (_, i) => ({ ns: 'rpm', key: `${key}-${i}`, period: 'minute' as const, amount: 1n }));
        await assert.rejects(a.counters.add(nine), isInputError(/1 to 8/));
        await assert.rejects(
          a.counters.add([
            { ns: 'rpm', key, period: 'minute', amount: 1n },
            { ns: 'rpm', key, period: 'minute', amount: 2n },
          ]),
          isInputError(/twice/),
        );
        await assert.rejects(a.counters.add([{ ns: 'rpm', key, period: 'minute', amount: 1n }], new Date(Number.NaN)), isInputError(/valid date/));
        assert.equal((await a.counters.read('rpm', key, 'minute')).total, 0n);
      });
    });

    describe('gauges for concurrent things', () => {
      it('holds up to the limit, counts a holder once, and frees a released slot', async () => {
        const key = fresh('streams');
        const opts = { limit: 2, ttlMs: 60_000 };
        assert.deepEqual(await a.gauges.acquire('streams', key, 'stream-1', opts), { ok: true, held: 1 });
        assert.deepEqual(await b.gauges.acquire('streams', key, 'stream-2', opts), { ok: true, held: 2 });
        assert.deepEqual(await a.gauges.acquire('streams', key, 'stream-3', opts), { ok: false, held: 2 });
        // the same holder again refreshes its slot, it does not take a second one
        assert.deepEqual(await a.gauges.acquire('streams', key, 'stream-2', opts), { ok: true, held: 2 });
        assert.equal(await b.gauges.count('streams', key), 2);
        await b.gauges.release('streams', key, 'stream-1');
        await b.gauges.release('streams', key, 'never-held');
        assert.equal(await a.gauges.count('streams', key), 1);
        assert.deepEqual(await a.gauges.acquire('streams', key, 'stream-3', opts), { ok: true, held: 2 });
        assert.equal(await a.gauges.renew('streams', key, 'stream-3', 60_000), true);
        assert.equal(await a.gauges.renew('streams', key, 'stream-1', 60_000), false);
        // limit 0 refuses everyone
        assert.deepEqual(await a.gauges.acquire('streams', fresh('closed'), 'x', { limit: 0, ttlMs: 1000 }), { ok: false, held: 0 });
      });

      it('a slot that is not renewed expires, so a crashed instance does not hold it forever', async () => {
        const key = fresh('crash');
        assert.equal((await a.gauges.acquire('streams', key, 'on-crashed-instance', { limit: 1, ttlMs: 300 })).ok, true);
        assert.equal((await b.gauges.acquire('streams', key, 'new-stream', { limit: 1, ttlMs: 60_000 })).ok, false);
        const deadline = Date.now() + 30_000;
        while ((await b.gauges.count('streams', key)) > 0) {
          assert.ok(Date.now() < deadline, 'the slot never expired');
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(await a.gauges.renew('streams', key, 'on-crashed-instance', 60_000), false);
        assert.deepEqual(await b.gauges.acquire('streams', key, 'new-stream', { limit: 1, ttlMs: 60_000 }), { ok: true, held: 1 });
      });

      it('concurrent acquires from two instances never pass the limit', async () => {
        const key = fresh('race');
        const results = await Promise.all(
          Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).gauges.acquire('streams', key, `holder-${i}`, { limit: 5, ttlMs: 60_000 })),
        );
        assert.equal(results.filter((r) => r.ok).length, 5);
        assert.equal(await a.gauges.count('streams', key), 5);
      });

      it('refuses hostile holders, limits and ttls', async () => {
        const key = fresh('bad');
        await assert.rejects(a.gauges.acquire('streams', key, 'h'.repeat(513), { limit: 1, ttlMs: 1000 }), isInputError(/holder/));
        await assert.rejects(a.gauges.acquire('streams', key, 'h', { limit: -1, ttlMs: 1000 }), isInputError(/limit/));
        await assert.rejects(a.gauges.acquire('streams', key, 'h', { limit: 10_001, ttlMs: 1000 }), isInputError(/limit/));
        await assert.rejects(a.gauges.acquire('streams', key, 'h', { limit: 1, ttlMs: 10 }), isInputError(/ttl/));
        await assert.rejects(a.gauges.acquire('streams', key, 'h', { limit: 1, ttlMs: 25 * 3_600_000 }), isInputError(/ttl/));
        await assert.rejects(a.gauges.renew('streams', key, 'h', Number.POSITIVE_INFINITY), isInputError(/ttl/));
        assert.equal(await a.gauges.count('streams', key), 0);
      });
    });

    describe('reservations under counter limits', () => {
      const limits = (day: bigint, month?: bigint) => [
        { period: 'day' as const, limit: day },
        ...(month !== undefined ? [{ period: 'month' as const, limit: month }] : []),
      ];

      it('holds room until settled: counted + reserved + amount never passes a limit', async () => {
        const key = fresh('spend');
        const res = (holder: string, amount: bigint) => ({ ns: 'spend', key, holder, amount, ttlMs: 60_000, limits: limits(100n, 150n) });
        assert.deepEqual(await a.reservations.reserve(res('job-1', 60n)), { ok: true });
        assert.equal(await b.reservations.held('spend', key), 60n);
        // 60 held + 50 > 100: refused on the other instance, nothing held for it
        const refused = await b.reservations.reserve(res('job-2', 50n));
        assert.equal(refused.ok, false);
        if (!refused.ok) {
          assert.equal(refused.period, 'day');
          assert.equal(refused.counted, 0n);
          assert.equal(refused.reserved, 60n);
          assert.equal(refused.limit, 100n);
        }
        assert.equal(await a.reservations.held('spend', key), 60n);
        // job 1 cost 30 of its 60: the rest is free again, the 30 counted in both periods
        await b.reservations.settle({ ns: 'spend', key, holder: 'job-1', amount: 30n, periods: ['day', 'month'] });
        assert.equal(await a.reservations.held('spend', key), 0n);
        assert.equal((await a.counters.read('spend', key, 'day')).total, 30n);
        assert.equal((await a.counters.read('spend', key, 'month')).total, 30n);
        assert.deepEqual(await b.reservations.reserve(res('job-2', 70n)), { ok: true });
        assert.equal((await a.reservations.reserve(res('job-3', 1n))).ok, false);
        // settling 0 releases; settling an unknown holder only counts
        await a.reservations.settle({ ns: 'spend', key, holder: 'job-2', amount: 0n, periods: ['day', 'month'] });
        assert.equal(await b.reservations.held('spend', key), 0n);
        assert.equal((await b.counters.read('spend', key, 'day')).total, 30n);
        // the month limit binds too
        await a.counters.add([{ ns: 'spend', key, period: 'month', amount: 100n }]);
        const month = await a.reservations.reserve(res('job-4', 30n));
        assert.equal(month.ok, false);
        if (!month.ok) assert.equal(month.period, 'month');
      });

      it('a reservation that is not settled expires, so a crashed instance does not hold room forever', async () => {
        const key = fresh('crashed');
        assert.deepEqual(await a.reservations.reserve({ ns: 'spend', key, holder: 'dead', amount: 10n, ttlMs: 300, limits: limits(10n) }), { ok: true });
        assert.equal((await b.reservations.reserve({ ns: 'spend', key, holder: 'next', amount: 10n, ttlMs: 60_000, limits: limits(10n) })).ok, false);
        const deadline = Date.now() + 30_000;
        while ((await b.reservations.held('spend', key)) > 0n) {
          assert.ok(Date.now() < deadline, 'the reservation never expired');
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.deepEqual(await b.reservations.reserve({ ns: 'spend', key, holder: 'next', amount: 10n, ttlMs: 60_000, limits: limits(10n) }), { ok: true });
      });

      it('concurrent jobs on two instances: a limit that fits N gets exactly N reservations, and settled spend stays within it', async () => {
        const key = fresh('race');
        const N = 6;
        const results = await Promise.all(
          Array.from({ length: 2 * N }, (_, i) =>
            (i % 2 ? a : b).reservations.reserve({ ns: 'spend', key, holder: `job-${i}`, amount: 7n, ttlMs: 60_000, limits: limits(7n * BigInt(N), 1000n) }),
          ),
        );
        const won = results.flatMap((r, i) => (r.ok ? [i] : []));
        assert.equal(won.length, N);
        await Promise.all(won.map((i) => (i % 2 ? b : a).reservations.settle({ ns: 'spend', key, holder: `job-${i}`, amount: 7n, periods: ['day', 'month'] })));
        assert.equal((await a.counters.read('spend', key, 'day')).total, 7n * BigInt(N));
        assert.equal(await b.reservations.held('spend', key), 0n);
      });

      it('refuses hostile holders, amounts and ttls, holding nothing', async () => {
        const key = fresh('bad');
        const ok = { ns: 'spend', key, holder: 'h', amount: 1n, ttlMs: 1000, limits: limits(10n) };
        await assert.rejects(a.reservations.reserve({ ...ok, holder: 'h'.repeat(513) }), isInputError(/holder/));
        await assert.rejects(a.reservations.reserve({ ...ok, amount: -1n }), isInputError(/amount/));
        await assert.rejects(a.reservations.reserve({ ...ok, amount: 2n ** 256n }), isInputError(/amount/));
        await assert.rejects(a.reservations.reserve({ ...ok, ttlMs: 10 }), isInputError(/ttl/));
        await assert.rejects(a.reservations.settle({ ns: 'spend', key, holder: 'h', amount: -5n, periods: ['day'] }), isInputError(/amount/));
        assert.equal(await a.reservations.held('spend', key), 0n);
      });
    });

    describe('append-only records', () => {
      const day = (d: number, h = 12) => new Date(Date.UTC(2031, 4, d, h));

      it('lists a time range in order, by subject, page by page', async () => {
        const ns = `usage-${randomUUID().slice(0, 8)}`;
        const appended = [];
        for (const [i, subject] of ['key-a', 'key-b', 'key-a', 'key-c', 'key-a'].entries()) {
          appended.push(await (i % 2 ? a : b).records.append(ns, { subject, at: day(10 + i), amounts: { wei: BigInt(i + 1) }, tags: { model: `m${i % 2}` } }));
        }
        assert.equal(new Set(appended.map((r) => r.id)).size, 5);
        const all = await a.records.list({ ns, from: day(1), to: day(31) });
        assert.deepEqual(
          all.map((r) => [r.subject, r.amounts.wei]),
          [
            ['key-a', 1n],
            ['key-b', 2n],
            ['key-a', 3n],
            ['key-c', 4n],
            ['key-a', 5n],
          ],
        );
        assert.deepEqual(all[0], appended[0]);
        // end exclusive, start inclusive
        assert.deepEqual(
          (await b.records.list({ ns, from: day(11), to: day(13) })).map((r) => r.amounts.wei),
          [2n, 3n],
        );
        assert.deepEqual(
          (await b.records.list({ ns, from: day(1), to: day(31), subject: 'key-a' })).map((r) => r.amounts.wei),
          [1n, 3n, 5n],
        );
        const page1 = await a.records.list({ ns, from: day(1), to: day(31), limit: 2 });
        const page2 = await a.records.list({ ns, from: day(1), to: day(31), limit: 2, after: page1[1]! });
        const page3 = await a.records.list({ ns, from: day(1), to: day(31), limit: 2, after: page2[1]! });
        assert.deepEqual([...page1, ...page2, ...page3], all);
        assert.deepEqual(await a.records.list({ ns: 'usage-empty', from: day(1), to: day(31) }), []);
      });

      it('sums wei exactly per subject, per tag and per day, corrections included', async () => {
        const ns = `usage-${randomUUID().slice(0, 8)}`;
        const big = 2n ** 190n + 7n; // far past what a float or an int64 holds
        await a.records.append(ns, { subject: 'key-a', at: day(3, 1), amounts: { wei: big, pixels: 1000n }, tags: { pipeline: 'text-to-image' } });
        await b.records.append(ns, { subject: 'key-a', at: day(3, 23), amounts: { wei: big }, tags: { pipeline: 'llm' } });
        await a.records.append(ns, { subject: 'key-b', at: day(4, 0), amounts: { wei: 5n }, tags: {} });
        await b.records.append(ns, { subject: 'key-a', at: day(4, 5), amounts: { wei: -big }, tags: { pipeline: 'llm', reason: 'refund' } });
        const range = { ns, from: day(1), to: day(31) };
        assert.deepEqual(await a.records.sum({ ...range, groupBy: { by: 'subject' } }), [
          { group: 'key-a', count: 3, sums: { wei: big, pixels: 1000n } },
          { group: 'key-b', count: 1, sums: { wei: 5n } },
        ]);
        assert.deepEqual(await b.records.sum({ ...range, groupBy: { by: 'tag', tag: 'pipeline' } }), [
          { group: '', count: 1, sums: { wei: 5n } },
          { group: 'llm', count: 2, sums: { wei: 0n } },
          { group: 'text-to-image', count: 1, sums: { wei: big, pixels: 1000n } },
        ]);
        assert.deepEqual(await a.records.sum({ ...range, groupBy: { by: 'day' } }), [
          { group: '2031-05-03', count: 2, sums: { wei: 2n * big, pixels: 1000n } },
          { group: '2031-05-04', count: 2, sums: { wei: 5n - big } },
        ]);
        assert.deepEqual(await a.records.sum({ ...range, subject: 'key-b', groupBy: { by: 'subject' } }), [{ group: 'key-b', count: 1, sums: { wei: 5n } }]);
        assert.deepEqual(await a.records.sum({ ns, from: day(20), to: day(21), groupBy: { by: 'subject' } }), []);
      });

      it('concurrent appends from two instances are all kept, each with its own id', async () => {
        const ns = `usage-${randomUUID().slice(0, 8)}`;
        const at = day(9);
        await Promise.all(
          Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).records.append(ns, { subject: `key-${i % 3}`, at, amounts: { wei: 10n ** 30n + BigInt(i) } })),
        );
        const all = await a.records.list({ ns, from: day(1), to: day(31), limit: 1000 });
        assert.equal(all.length, 60);
        assert.equal(new Set(all.map((r) => r.id)).size, 60);
        const [sum] = await b.records.sum({ ns, from: day(1), to: day(31), groupBy: { by: 'day' } });
        assert.equal(sum!.sums.wei, 60n * 10n ** 30n + (59n * 60n) / 2n);
      });

      it('refuses hostile records and queries', async () => {
        const ns = 'usage';
        const ok = { subject: 'key', amounts: { wei: 1n } };
        await assert.rejects(a.records.append(ns, { ...ok, subject: 's'.repeat(513) }), isInputError(/subject/));
        await assert.rejects(a.records.append(ns, { ...ok, amounts: { 'bad name': 1n } }), isInputError(/amount name/));
        await assert.rejects(a.records.append(ns, { ...ok, amounts: { wei: 1.5 as unknown as bigint } }), isInputError(/bigint/));
        await assert.rejects(a.records.append(ns, { ...ok, amounts: { wei: -(2n ** 256n) } }), isInputError(/out of range/));
        const nine = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`a${i}`, 1n]));
        await assert.rejects(a.records.append(ns, { ...ok, amounts: nine }), isInputError(/at most 8 amounts/));
        const tags = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`t${i}`, 'v']));
        await assert.rejects(a.records.append(ns, { ...ok, tags }), isInputError(/at most 16 tags/));
        await assert.rejects(a.records.append(ns, { ...ok, tags: { model: 'm'.repeat(257) } }), isInputError(/at most 256/));
        await assert.rejects(a.records.append(ns, { ...ok, tags: { $where: 'x' } }), isInputError(/tag name/));
        await assert.rejects(a.records.append(ns, { ...ok, at: new Date('1969-12-31T23:59:59Z') }), isInputError(/valid date/));
        const range = { ns, from: day(1), to: day(2) };
        await assert.rejects(a.records.list({ ...range, limit: 0 }), isInputError(/limit/));
        await assert.rejects(a.records.list({ ...range, limit: 10_001 }), isInputError(/limit/));
        await assert.rejects(a.records.list({ ...range, after: { at: day(1), id: "1' OR 1=1" } }), isInputError(/cursor/));
        await assert.rejects(a.records.sum({ ...range, groupBy: { by: 'tag', tag: "x') OR (1=1" } }), isInputError(/tag name/));
        await assert.rejects(a.records.sum({ ...range, groupBy: { by: 'orchestrator' } as never }), isInputError(/groupBy/));
      });
    });

    it('a closed store refuses work', async () => {
      const state = await backend.setup();
      const store = await state.open();
      await store.close();
      await store.close();
      await assert.rejects(store.kv.get('signer', 'k'), (err) => err instanceof StoreUnavailableError && /closed/.test(err.message));
      await state.teardown();
    });
  });
}
