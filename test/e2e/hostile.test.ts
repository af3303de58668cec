// Hostile orchestrators (off-chain faults): a garbage /segment body and a 5 s stall. The gateway
// suspends the orchestrator, moves the segment to a good one, and keeps running.
// (Price and ticket-param attacks need the chain: see onchain.test.ts.)
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { startOrchestrator, type OrchestratorFaults, type RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { getText, killAllPublishers, latePort, mediaSeqs, publish720p, startTestGateway, waitUntil, type TestGateway } from './helpers.ts';

describe('hostile orchestrators are routed around', () => {
  let started: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    killAllPublishers();
    for (const s of started.reverse()) await s.stop().catch(() => {});
    started = [];
  });

  const cases: [string, OrchestratorFaults, RegExp][] = [
    ['malformed protobuf response', { malformedResponse: true }, /TranscodeResult|malformed|decode/i],
    ['5 s stall', { stallMs: 5000 }, /no response headers after 2000 ms|timed out/i],
  ];
  for (const [name, faults, reason] of cases) {
    it(name, async () => {
      const hostile: RunningOrchestrator = await startOrchestrator({ logLevel: 'silent', faults });
      started.push(hostile);
      // The good orchestrator's address is known but it is not up yet, so the first attempt must go to the hostile one.
      const goodPort = await latePort(); // bound only later: see latePort()
      const gw: TestGateway = await startTestGateway({
        network: 'offchain',
        orchAddr: `${hostile.uri},https://127.0.0.1:${goodPort}`,
        transcodingOptions: 'P240p30fps16x9',
      });
      started.push(gw);
      const mid = `hostile${faults.stallMs ? 'stall' : 'garbage'}`;
      publish720p(`${gw.gateway.rtmpUrl}/live/${mid}`, 60); // long enough for a slow machine; ended in afterEach
      await waitUntil(async () => (gw.gateway.stream(mid) ? true : undefined), 10_000, 'stream start');
      started.push(await startOrchestrator({ logLevel: 'silent', port: goodPort }));

      const playlist = await waitUntil(
        async () => {
          const r = await getText(`${gw.gateway.httpUrl}/stream/${mid}/P240p30fps16x9.m3u8`);
          return r.status === 200 && mediaSeqs(r.text).length >= 2 ? r.text : undefined;
        },
        60_000,
        'renditions from the good orchestrator',
      );
      assert.equal(mediaSeqs(playlist)[0], 0, 'the first segment was not lost');
      const runner = gw.gateway.stream(mid)!;
      const first = runner.outcomes.find((o) => o.seq === 0)!;
      assert.equal(first.transcoded, true);
      assert.equal(first.attempts, 2, 'first attempt on the hostile orchestrator, second on the good one');
      const st = runner.opts.pool.status().find((s) => s.uri === hostile.uri);
      assert.equal(st?.state, 'suspended');
      assert.match(st?.reason ?? '', reason);
      // the node is still up and serving
      assert.equal((await getText(`${gw.gateway.httpUrl}/healthz`)).status, 200);
    });
  }
});
