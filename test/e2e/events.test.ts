// The gateway's event feed over a real stream's life: RTMP publish, the devnet orchestrator, HLS out.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startOrchestrator, type RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import type { GatewayEvents } from '../../src/node/events.ts';
import { killAllPublishers, publish720p, startTestGateway, waitUntil, type TestGateway } from './helpers.ts';

type Seen = { [K in keyof GatewayEvents]: { name: K; payload: GatewayEvents[K] } }[keyof GatewayEvents];

describe('event feed', () => {
  let orch: RunningOrchestrator;
  let gw: TestGateway;
  before(async () => {
    orch = await startOrchestrator({ logLevel: 'silent' });
    gw = await startTestGateway({ network: 'offchain', orchAddr: orch.uri, transcodingOptions: 'P144p30fps16x9' });
  });
  after(async () => {
    killAllPublishers();
    await gw?.stop();
    await orch?.stop();
  });

  it('a stream reports its start, its transcoded segments in order, then its end', async () => {
    const seen: Seen[] = [];
    gw.gateway.events.onAny((name, payload) => seen.push({ name, payload } as Seen));
    const pub = publish720p(`${gw.gateway.rtmpUrl}/live/evented`, 10);
    await pub.exited;
    await waitUntil(async () => (seen.some((e) => e.name === 'stream.ended') ? true : undefined), 60_000, 'stream.ended');

    const names = seen.map((e) => e.name);
    assert.equal(names[0], 'stream.started');
    assert.equal(names.at(-1), 'stream.ended');
    assert.equal(names.filter((n) => n === 'stream.started' || n === 'stream.ended').length, 2, 'one start, one end');
    assert.deepEqual(seen[0]!.payload, { manifestId: 'evented', ingest: 'rtmp', profiles: ['P144p30fps16x9'] });
    const end = seen.at(-1)!.payload as GatewayEvents['stream.ended'];
    assert.equal(end.manifestId, 'evented');
    assert.match(end.reason, /^publisher (unpublished|disconnected|ended the stream)$/);
    const transcoded = seen.flatMap((e) => (e.name === 'segment.transcoded' ? [e.payload] : []));
    assert.ok(transcoded.length >= 1, 'segments were transcoded');
    const seqs = transcoded.map((t) => t.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
      'in sequence order',
    );
    assert.equal(new Set(seqs).size, seqs.length, 'each once');
    for (const t of transcoded) {
      assert.equal(t.manifestId, 'evented');
      assert.equal(t.orchestrator, orch.uri);
      assert.deepEqual(t.renditions, ['P144p30fps16x9']);
      assert.ok(t.attempts >= 1 && t.latencyMs > 0);
    }
    // Off-chain nothing is paid; on a loaded machine a segment may miss its budget and fail, but the
    // feed never reports tickets or refused ticket params here.
    assert.ok(!names.includes('payment.sent') && !names.includes('ticket.refused'));
  });
});
