import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { rat } from '../../src/lib/rat.ts';
import { Ledger } from '../../src/store/ledger.ts';

describe('ledger', () => {
  it('counts per stream and per orchestrator and survives a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lpledger-'));
    try {
      const l1 = new Ledger(join(dir, 'ledger'));
      await l1.open();
      await Promise.all([
        l1.record({ manifestId: 'm', orchestrator: 'https://o1:8935', tickets: 2, ev: rat(5n, 2n), faceValue: 100n, ok: true }),
        l1.record({ manifestId: 'm', orchestrator: 'https://o1:8935', tickets: 1, ev: rat(1n), faceValue: 100n, ok: false }),
        l1.record({ manifestId: 'm', orchestrator: 'https://o2:8935', tickets: 1, ev: rat(1n), faceValue: 100n, ok: true }),
      ]);
      await l1.close();
      const l2 = new Ledger(join(dir, 'ledger'));
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
});
