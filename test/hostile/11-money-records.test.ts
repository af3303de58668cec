// Attack 11: money records. The tickets of an attempt are written (synced) before the upload and its
// outcome after, so the ledger never under-reports what was sent: not while a segment hangs at an
// orchestrator (a crash then leaves them counted), not when a paid attempt fails.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { startLocalNetwork, type LocalNetwork } from '../../scripts/devnet/network.ts';
import { rat } from '../../src/lib/rat.ts';
import { Ledger } from '../../src/store/ledger.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '../e2e/helpers.ts';
import { assertRoutedAround, devnetOrchestratorOptions, gatedOrchestrator, pushSegment, startDevnetNode, startOrchestrator, testClip } from './helpers.ts';

describe('attack 11: money records', () => {
  let net: LocalNetwork;
  let started: { stop(): Promise<void> }[] = [];
  before(async () => {
    net = await startLocalNetwork({ orchestrators: [] });
  });
  afterEach(async () => {
    for (const s of started.reverse()) await s.stop().catch(() => {});
    started = [];
  });
  after(async () => {
    await net?.stop();
  });

  it('intent then outcome: tickets stay counted across a reopen with the outcome missing; unsent tickets are taken back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lpledger-'));
    try {
      const intent = { manifestId: 'm', orchestrator: 'https://o:8935', tickets: 3, ev: rat(30n), faceValue: 20n };
      const l1 = new Ledger(dir);
      await l1.open();
      await l1.recordIntent(intent);
      await l1.close(); // as good as a crash before the outcome: the write was synced
      const l2 = new Ledger(dir);
      await l2.open();
      const o = (await l2.entries('orch'))['https://o:8935']!;
      assert.deepEqual([o.tickets, o.evPaidWei, o.faceValueSent, o.open, o.segments], [3, '30', '60', 1, 0]);
      await l2.recordOutcome(intent, { ok: false, sent: true });
      await l2.recordIntent({ ...intent, tickets: 1, ev: rat(10n) });
      await l2.recordOutcome({ ...intent, tickets: 1, ev: rat(10n) }, { ok: false, sent: false });
      const after = (await l2.entries('orch'))['https://o:8935']!;
      assert.deepEqual([after.tickets, after.evPaidWei, after.faceValueSent, after.open, after.failures], [3, '30', '60', 0, 2]);
      await l2.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a segment hanging at a paid orchestrator is on the ledger already; a failed paid attempt keeps its tickets', async () => {
    // Holds every segment for 20 s: long past the gateway's budget, so the attempt fails after payment.
    const hostile = await startOrchestrator(devnetOrchestratorOptions(net, 0, { faults: { stallMs: 20_000 } }));
    started.push(hostile);
    const good = await gatedOrchestrator(devnetOrchestratorOptions(net, 1));
    started.push(good);
    const node = await startDevnetNode(net, { orchAddr: `${hostile.uri},${good.uri}`, transcodingOptions: 'P144p30fps16x9' });
    started.push(node);
    const mid = 'ledgered';
    const first = pushSegment(node.gateway.httpUrl, mid, 0, testClip());
    // While the orchestrator holds the segment (it has the tickets), the ledger already counts them.
    await waitUntil(async () => (hostile.stats.ticketsReceived > 0 ? true : undefined), 60_000, 'tickets at the hostile orchestrator');
    const inFlight = (await node.gateway.ledger.entries('orch'))[hostile.uri];
    assert.ok(inFlight, 'the attempt is on the ledger before its outcome');
    assert.ok(inFlight.tickets >= hostile.stats.ticketsReceived, `ledger ${inFlight.tickets} ≥ received ${hostile.stats.ticketsReceived}`);
    assert.equal(inFlight.open, 1);
    good.open();
    assert.equal(await first, 200);
    for (let seq = 1; seq < 3; seq++) assert.equal(await pushSegment(node.gateway.httpUrl, mid, seq, testClip()), 200);
    const runner = node.gateway.stream(mid)!;
    assertRoutedAround({ hostile, good, runner, outcomes: [...runner.outcomes] }, /no response headers|timed out|after \d+ ms/);

    const orchs = await node.gateway.ledger.entries('orch');
    const h = orchs[hostile.uri]!;
    assert.equal(h.failures, 1);
    assert.equal(h.open, 0);
    assert.equal(h.tickets, hostile.stats.ticketsReceived, 'the failed attempt keeps the tickets it sent');
    const g = orchs[good.uri]!;
    assert.equal(g.transcoded, 3);
    assert.ok(g.tickets >= good.orchestrator.stats.ticketsReceived);
    const stream = (await node.gateway.ledger.entries('stream'))[mid]!;
    assert.equal(stream.tickets, h.tickets + g.tickets);
    assert.equal(stream.segments, 3);
  });

  it('shutdown cuts off a paid segment still at an orchestrator after the drain bound: its tickets stay counted, the attempt is closed as failed', async () => {
    // Never answers in time; the segment is declared 120 s long, so its own budget would wait 60 s for headers.
    const hostile = await startOrchestrator(devnetOrchestratorOptions(net, 0, { faults: { stallMs: 600_000 } }));
    started.push(hostile);
    const node = await startDevnetNode(net, { orchAddr: hostile.uri, transcodingOptions: 'P144p30fps16x9' });
    started.push(node);
    const pushed = fetch(`${node.gateway.httpUrl}/live/cut/0.ts`, { method: 'POST', body: testClip(), headers: { 'Content-Duration': '120000' } })
      .then((res) => res.arrayBuffer())
      .catch(() => undefined);
    await waitUntil(async () => (hostile.stats.ticketsReceived > 0 ? true : undefined), 60_000, 'tickets at the orchestrator');
    assert.equal((await node.gateway.ledger.entries('orch'))[hostile.uri]?.open, 1);
    const stopping = Date.now();
    await node.gateway.stop();
    const tookMs = Date.now() - stopping;
    await pushed;
    // bounded by the drain bound (8 s) and the cut-off, not by the segment's own 60 s budget
    assert.ok(tookMs < 30_000, `the gateway stopped in ${tookMs} ms`);
    // the ledger as the stopped gateway left it
    await node.gateway.ledger.open();
    try {
      const h = (await node.gateway.ledger.entries('orch'))[hostile.uri]!;
      assert.deepEqual([h.open, h.failures, h.transcoded], [0, 1, 0], JSON.stringify(h));
      assert.equal(h.tickets, hostile.stats.ticketsReceived, 'the cut-off attempt keeps the tickets it sent');
    } finally {
      await node.gateway.ledger.close();
    }
  });
});
