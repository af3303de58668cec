import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { rat } from '../../src/lib/rat.ts';
import { Ledger } from '../../src/store/ledger.ts';
import { DB_DIR_NAME } from '../../src/store/level.ts';
import { PoolCache } from '../../src/store/poolCache.ts';

describe('ledger', () => {
  it('counts per stream and per orchestrator and survives a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lpledger-'));
    try {
      const l1 = new Ledger(dir);
      await l1.open();
      await Promise.all([
        l1.record({ manifestId: 'm', orchestrator: 'https://o1:8935', tickets: 2, ev: rat(5n, 2n), faceValue: 100n, ok: true }),
        l1.record({ manifestId: 'm', orchestrator: 'https://o1:8935', tickets: 1, ev: rat(1n), faceValue: 100n, ok: false }),
        l1.record({ manifestId: 'm', orchestrator: 'https://o2:8935', tickets: 1, ev: rat(1n), faceValue: 100n, ok: true }),
      ]);
      await l1.close();
      const l2 = new Ledger(dir);
      await l2.open();
      const streams = await l2.entries('stream');
      assert.equal(streams.m?.segments, 2, 'the failed attempt is not a segment of its own');
      assert.equal(streams.m?.transcoded, 2);
      assert.equal(streams.m?.failures, 1);
      assert.equal(streams.m?.tickets, 4);
      assert.equal(streams.m?.evPaid, '9/2');
      assert.equal(streams.m?.evPaidWei, '4');
      assert.equal(streams.m?.faceValueSent, '400');
      const orchs = await l2.entries('orch');
      assert.deepEqual([orchs['https://o1:8935']?.segments, orchs['https://o1:8935']?.failures], [2, 1]);
      await l2.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('loses no update when many streams record at once (grouped synced writes), and reads them back after a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lpledger-'));
    try {
      const l1 = new Ledger(dir);
      await l1.open();
      const intent = (i: number) => ({ manifestId: `m${i % 4}`, orchestrator: `https://o${i % 3}:8935`, tickets: 1, ev: rat(1n), faceValue: 10n });
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          Promise.resolve(l1.recordIntent(intent(i))).then(() => l1.recordOutcome(intent(i), { ok: i % 5 !== 0, sent: true })),
        ),
      );
      await l1.close();
      const l2 = new Ledger(dir);
      await l2.open();
      const streams = await l2.entries('stream');
      const orchs = await l2.entries('orch');
      const sum = (xs: Record<string, { tickets: number; segments: number; open?: number }>, k: 'tickets' | 'segments' | 'open') =>
        Object.values(xs).reduce((n, e) => n + (e[k] ?? 0), 0);
      assert.deepEqual([sum(streams, 'tickets'), sum(streams, 'segments'), sum(streams, 'open')], [40, 32, 0]);
      assert.deepEqual([sum(orchs, 'tickets'), sum(orchs, 'segments'), sum(orchs, 'open')], [40, 40, 0]);
      assert.equal(streams.m1?.faceValueSent, '100');
      await l2.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("lives in the node's database beside the pool cache, both open at once", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lpledger-'));
    try {
      const cache = await PoolCache.open(dir, { chainId: 42161 });
      const ledger = new Ledger(dir);
      await ledger.open();
      await ledger.recordUntranscoded('m');
      await cache.save({ orchestrators: [], updatedAt: 1 });
      await ledger.close();
      assert.equal((await cache.load())?.updatedAt, 1, 'closing the ledger leaves the shared database open for the cache');
      await cache.close();
      assert.deepEqual(await readdir(dir), [DB_DIR_NAME]);
      const again = new Ledger(dir);
      await again.open();
      assert.equal((await again.entries('stream')).m?.segments, 1);
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('reservations: tickets counted ahead so the next attempts do not wait for the disk', () => {
    const o1 = 'https://o1:8935';
    const o2 = 'https://o2:8935';
    const intent = (orchestrator = o1) => ({ manifestId: 'm', orchestrator, tickets: 2, ev: rat(3n), faceValue: 10n });
    const withLedger = async (fn: (l: Ledger, dir: string) => Promise<void>) => {
      const dir = await mkdtemp(join(tmpdir(), 'lpledger-'));
      const l = new Ledger(dir);
      await l.open();
      try {
        await fn(l, dir);
      } finally {
        await l.close();
        await rm(dir, { recursive: true, force: true });
      }
    };
    const row = async (l: Ledger, key: 'stream' | 'orch', id: string) => {
      const e = (await l.entries(key))[id]!;
      return [e.tickets, e.evPaidWei, e.faceValueSent, e.open, e.reserved];
    };

    it('the first attempt is counted and reserves four more like it in one synced write; the next draw on it at once', async () => {
      await withLedger(async (l) => {
        await l.recordIntent(intent());
        assert.deepEqual(await row(l, 'orch', o1), [2, '3', '20', 1, { tickets: 8, evPaid: '12/1', faceValueSent: '80' }]);
        assert.equal(l.recordIntent(intent()), undefined, 'an attempt covered by the reservation has nothing to wait for');
        assert.deepEqual(await row(l, 'stream', 'm'), [4, '6', '40', 2, { tickets: 6, evPaid: '9/1', faceValueSent: '60' }]);
      });
    });

    it('is topped up before it runs out, and an attempt larger than what is left waits for its own synced write', async () => {
      await withLedger(async (l) => {
        for (let i = 0; i < 12; i++) await l.recordIntent(intent());
        const [tickets, , , open, reserved] = await row(l, 'orch', o1);
        assert.deepEqual([tickets, open], [24, 12]);
        assert.ok(reserved && (reserved as { tickets: number }).tickets >= 2, 'still reserved ahead after twelve attempts');
        await l.recordIntent({ ...intent(), tickets: 100, ev: rat(150n) });
        const [after] = await row(l, 'orch', o1);
        assert.equal(after, 124);
      });
    });

    it('what a stream reserved goes back when it ends, when it moves to another orchestrator, and when the node stops', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'lpledger-'));
      try {
        const l = new Ledger(dir);
        await l.open();
        await l.recordIntent(intent(o1));
        await l.recordIntent(intent(o2)); // moved on: o1's reservation goes back
        assert.deepEqual(await row(l, 'orch', o1), [2, '3', '20', 1, undefined]);
        assert.deepEqual(await row(l, 'stream', 'm'), [4, '6', '40', 2, { tickets: 8, evPaid: '12/1', faceValueSent: '80' }]);
        await l.releaseStream('m');
        assert.deepEqual(await row(l, 'stream', 'm'), [4, '6', '40', 2, undefined]);
        assert.deepEqual(await row(l, 'orch', o2), [2, '3', '20', 1, undefined]);
        await l.recordIntent({ ...intent(o2), manifestId: 'n' });
        await l.close(); // a clean stop gives back what 'n' reserved
        const again = new Ledger(dir);
        await again.open();
        assert.deepEqual(await row(again, 'orch', o2), [4, '6', '40', 2, undefined]);
        await again.close();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('after a crash, what was reserved counts as sent: the ledger over-reports by at most the reservation, never under-reports', async () => {
      await withLedger(async (l, dir) => {
        // the database as a crash leaves it: copied while open, without the clean stop's release
        const crashAt = async (name: string) => {
          const copy = `${dir}-${name}`;
          await cp(dir, copy, { recursive: true });
          const after = new Ledger(copy);
          await after.open();
          const seen = await row(after, 'orch', o1);
          await after.close();
          await rm(copy, { recursive: true, force: true });
          return seen;
        };
        await l.recordIntent(intent());
        // 2 sent, 8 reserved: all 10 count as sent
        assert.deepEqual(await crashAt('first'), [10, '15', '100', 1, undefined]);
        await l.recordIntent(intent());
        await l.entries('orch'); // the draw's move from reserved to sent is on disk
        // 4 sent, 6 reserved: still 10
        assert.deepEqual(await crashAt('drawn'), [10, '15', '100', 2, undefined]);
      });
    });
  });

  it('refuses to record before open', async () => {
    const ledger = new Ledger(join(tmpdir(), 'lpledger-never-opened'));
    await assert.rejects(ledger.recordUntranscoded('m'), /the ledger is not open/);
  });
});
