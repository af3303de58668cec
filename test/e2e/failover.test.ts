// The orchestrator a stream uses dies mid-stream: the stream moves to another one without losing a
// segment, and the dead one is suspended.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startOrchestrator, type RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { getText, killAllPublishers, mediaSeqs, publish720p, sleep, startTestGateway, waitUntil, type TestGateway } from './helpers.ts';

describe('failover', () => {
  const orchs: RunningOrchestrator[] = [];
  let gw: TestGateway;
  before(async () => {
    orchs.push(await startOrchestrator({ logLevel: 'silent' }), await startOrchestrator({ logLevel: 'silent' }));
    gw = await startTestGateway({ network: 'offchain', orchAddr: orchs.map((o) => o.uri).join(','), transcodingOptions: 'P240p30fps16x9' });
  });
  after(async () => {
    killAllPublishers();
    await gw?.stop();
    for (const o of orchs) await o.stop().catch(() => {});
  });

  it('a killed orchestrator is replaced mid-stream with no missing segment number', async () => {
    const base = gw.gateway.httpUrl;
    const mid = 'failover';
    const events: string[] = [];
    const swaps: { from: string; to: string }[] = [];
    const suspended: string[] = [];
    gw.gateway.events.onAny((name, payload) => {
      events.push(name);
      if (name === 'orchestrator.swapped') swaps.push(payload as { from: string; to: string });
      if (name === 'orchestrator.suspended') suspended.push((payload as { orchestrator: string }).orchestrator);
    });
    const pub = publish720p(`${gw.gateway.rtmpUrl}/live/${mid}`, 20);
    const seen = new Set<number>();
    let discontinuity = false;
    const poll = async () => {
      const r = await getText(`${base}/stream/${mid}/P240p30fps16x9.m3u8`);
      if (r.status !== 200) return;
      for (const s of mediaSeqs(r.text)) seen.add(s);
      if (r.text.includes('#EXT-X-DISCONTINUITY')) discontinuity = true;
    };
    // wait for two transcoded segments, then kill whichever orchestrator the stream is on
    await waitUntil(
      async () => {
        await poll();
        return seen.size >= 2 ? true : undefined;
      },
      60_000,
      'first renditions',
    );
    const runner = gw.gateway.stream(mid)!;
    const victimUri = runner.stats.orchestrator!;
    const victim = orchs.find((o) => o.uri === victimUri)!;
    await victim.stop();
    const killedAt = Math.max(...seen);
    // keep polling until the stream has finished its last segment (on a slow machine it lags behind the
    // publisher); a rendition published between the last poll and the end is in the runner's outcomes
    const exited = pub.exited.then(() => true);
    while (!(await Promise.race([exited, sleep(400).then(() => false)]))) await poll().catch(() => {});
    await waitUntil(
      async () => {
        await poll().catch(() => {});
        return gw.gateway.stream(mid) ? undefined : true;
      },
      60_000,
      'stream end',
    );
    for (const o of runner.outcomes) if (o.transcoded) seen.add(o.seq);
    const last = Math.max(...seen);
    assert.ok(last >= killedAt + 3, `stream went on after the kill (last ${last}, killed after ${killedAt})`);
    const min = Math.min(...seen);
    const missing = [];
    for (let s = min; s <= last; s++) if (!seen.has(s)) missing.push(s);
    assert.deepEqual(missing, [], 'every segment number between first and last has a rendition');
    assert.ok(discontinuity, 'the playlist marks the orchestrator change');
    const outcomes = runner.outcomes;
    assert.ok(
      outcomes.some((o) => o.transcoded && o.orchestrator !== victimUri),
      'segments went to the other orchestrator',
    );
    assert.ok(
      outcomes.every((o) => o.transcoded),
      JSON.stringify(outcomes.filter((o) => !o.transcoded)),
    );
    const state = runner.opts.pool.status().find((s) => s.uri === victimUri);
    assert.equal(state?.state, 'suspended');
    // the event feed told the same story: the victim suspended, then the stream moved off it
    const other = orchs.find((o) => o.uri !== victimUri)!.uri;
    assert.ok(suspended.includes(victimUri), JSON.stringify(suspended));
    assert.ok(
      swaps.some((s) => s.from === victimUri && s.to === other),
      JSON.stringify(swaps),
    );
    assert.ok(events.indexOf('orchestrator.suspended') < events.indexOf('orchestrator.swapped'));
    assert.ok(!events.includes('segment.failed'));
  });
});
