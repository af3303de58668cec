import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
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
        Array.from({ length: 40 }, (_, i) => l1.recordIntent(intent(i)).then(() => l1.recordOutcome(intent(i), { ok: i % 5 !== 0, sent: true }))),
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

  it('refuses to record before open', async () => {
    const ledger = new Ledger(join(tmpdir(), 'lpledger-never-opened'));
    await assert.rejects(ledger.recordUntranscoded('m'), /the ledger is not open/);
  });
});
