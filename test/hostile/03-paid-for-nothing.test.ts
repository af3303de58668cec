// Attack 3: an orchestrator takes payment and answers every segment with go-livepeer's input error
// "Invalid argument" (or a malformed result). Our probe reads the source as valid video, so the
// orchestrator is blamed: suspended, the segment redone elsewhere, the money lost to it counted on
// /status and in the metrics.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { startLocalNetwork, type LocalNetwork } from '../../scripts/devnet/network.ts';
import { getText } from '../e2e/helpers.ts';
import { assertRoutedAround, devnetOrchestratorOptions, gatedOrchestrator, startDevnetNode, startOrchestrator, streamPastHostile } from './helpers.ts';

describe('attack 3: paid for nothing', () => {
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

  // (each answer is held half a second, well inside the 2 s upload budget, so the honest orchestrator's gate opens first)
  const cases: [string, object, RegExp][] = [
    [
      'an input error for a valid source',
      { failEvery: 1, failError: 'Invalid argument', stallMs: 500 },
      /input error for a segment the gateway reads as valid video: Invalid argument|Invalid argument/,
    ],
    ['a malformed result', { malformedResponse: true, stallMs: 500 }, /malformed|invalid wire type|index out of range|TranscodeResult/i],
  ];
  for (const [name, faults, reason] of cases) {
    it(`${name}: suspended, swapped out, the money lost counted`, async () => {
      const hostile = await startOrchestrator(devnetOrchestratorOptions(net, 0, { faults }));
      started.push(hostile);
      const good = await gatedOrchestrator(devnetOrchestratorOptions(net, 1));
      started.push(good);
      const node = await startDevnetNode(net, { orchAddr: `${hostile.uri},${good.uri}`, transcodingOptions: 'P144p30fps16x9' });
      started.push(node);
      const mid = `paidnothing${name.length}`;
      const r = await streamPastHostile({ hostile, good, gateway: node.gateway, mid });
      assertRoutedAround(r, reason);
      const st = r.runner.opts.pool.status().find((s) => s.uri === hostile.uri);
      if (name.startsWith('an input')) assert.match(st?.reason ?? '', /reads as valid video/);

      // The hostile orchestrator got tickets for segment 0 and nothing after: that is the loss on record.
      assert.ok(hostile.stats.ticketsReceived >= 1, 'the hostile orchestrator was paid');
      const status = (await node.gateway.status()) as unknown as { PaidForNothing: Record<string, { failures: number; tickets: number; evLostWei: string }> };
      const loss = status.PaidForNothing[hostile.uri];
      assert.ok(loss, JSON.stringify(status.PaidForNothing));
      assert.equal(loss.failures, 1);
      assert.equal(loss.tickets, hostile.stats.ticketsReceived);
      assert.ok(BigInt(loss.evLostWei) > 0n);
      assert.equal(status.PaidForNothing[good.uri], undefined, 'the honest orchestrator lost us nothing');
      const metrics = await node.gateway.metrics.registry.metrics();
      assert.match(metrics, new RegExp(`livepeer_paid_failures_total\\{[^}]*orchestrator_uri="${hostile.uri}"[^}]*\\} 1`));
      // the /status text shows it too
      assert.match((await getText(`${node.controlUrl}/status`)).text, /PaidForNothing/);
    });
  }
});
