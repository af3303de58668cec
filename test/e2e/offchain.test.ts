// Off-chain gateway end to end: -network offchain -orchAddr, a real RTMP publish, a real devnet
// orchestrator (off-chain mode: no tickets), HLS out.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startOrchestrator, type RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { getBytes, getText, killAllPublishers, mediaSeqs, probeSize, publish720p, startTestNode, waitUntil, type TestNode } from './helpers.ts';

describe('off-chain gateway (-network offchain -orchAddr)', () => {
  let orch: RunningOrchestrator;
  let gw: TestNode;
  before(async () => {
    orch = await startOrchestrator({ logLevel: 'silent' });
    gw = await startTestNode({ network: 'offchain', orchAddr: orch.uri, maxSessions: '1', monitor: 'true' });
  });
  after(async () => {
    killAllPublishers();
    await gw?.stop();
    await orch?.stop();
  });

  it('RTMP in, transcoded renditions out as HLS', async () => {
    const base = gw.gateway.httpUrl;
    const pub = publish720p(`${gw.gateway.rtmpUrl}/live/offchain`, 20);
    await waitUntil(async () => (gw.gateway.stream('offchain') ? true : undefined), 20_000, 'stream start');
    // -maxSessions 1: a second stream is refused while this one is live (checked at once: a slow machine
    // must not let the first stream end before the second arrives)
    const second = publish720p(`${gw.gateway.rtmpUrl}/live/another`, 4);
    assert.notEqual(await second.exited, 0);
    assert.equal(gw.gateway.stream('another'), undefined);
    const master = await waitUntil(
      async () => {
        const r = await getText(`${base}/stream/offchain.m3u8`);
        return r.status === 200 && r.text.includes('P360p30fps16x9') && r.text.includes('P240p30fps16x9') ? r.text : undefined;
      },
      60_000,
      'master playlist with both renditions',
    );
    // the control API shows the stream and the orchestrator it uses
    const status = JSON.parse((await getText(`${gw.controlUrl}/status`)).text);
    assert.deepEqual(status.Manifests, ['offchain']);
    assert.deepEqual(status.OrchestratorPool, [orch.uri]);
    assert.equal(status.Streams.offchain.ingest, 'rtmp');
    assert.equal((await fetch(`${gw.controlUrl}/setLogLevel`, { method: 'POST', body: new URLSearchParams({ loglevel: '5' }) })).status, 200);
    assert.equal((await getText(`${gw.controlUrl}/getLogLevel`)).text, '5');
    assert.equal((await fetch(`${gw.controlUrl}/setLogLevel?loglevel=loud`, { method: 'POST' })).status, 400);
    assert.equal((await fetch(`${gw.controlUrl}/setLogLevel?loglevel=5`)).status, 405, 'a GET never changes state');
    const variants = master.split('\n').filter((l) => l && !l.startsWith('#'));
    assert.deepEqual(variants, ['offchain/source.m3u8', 'offchain/P240p30fps16x9.m3u8', 'offchain/P360p30fps16x9.m3u8']);
    assert.match(master, /RESOLUTION=1280x720/);
    const expected: Record<string, [number, number]> = { source: [1280, 720], P240p30fps16x9: [426, 240], P360p30fps16x9: [640, 360] };
    for (const [name, [w, h]] of Object.entries(expected)) {
      const media = await getText(`${base}/stream/offchain/${name}.m3u8`);
      assert.equal(media.status, 200);
      const seqs = mediaSeqs(media.text);
      assert.ok(seqs.length > 0);
      const seg = await getBytes(`${base}/stream/offchain/${name}/${seqs[0]}.ts`);
      const size = await probeSize(seg);
      // renditions keep the source aspect ratio inside the profile box
      assert.equal(size.height, h, `${name} height`);
      assert.ok(Math.abs(size.width - w) <= 2, `${name} width ${size.width}`);
    }
    assert.equal(orch.stats.ticketsReceived, 0, 'no tickets off-chain');
    await pub.exited;
    await waitUntil(async () => ((await getText(`${base}/stream/offchain.m3u8`)).status === 404 ? true : undefined), 60_000, 'stream end');
    // -monitor: Prometheus metrics under go-livepeer's names
    const metrics = (await getText(`${gw.controlUrl}/metrics`)).text;
    const value = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? NaN);
    assert.ok(value('livepeer_segment_transcoded_total') >= 3, 'segments transcoded');
    assert.equal(value('livepeer_stream_created_total'), 1);
    assert.equal(value('livepeer_max_sessions_total'), 1);
    assert.match(metrics, /node_type="bctr"/);
    // the ledger outlives the stream and is readable on the control API
    const ledger = JSON.parse((await getText(`${gw.controlUrl}/streams`)).text).streams as Record<string, { transcoded: number; tickets: number }>;
    assert.ok(ledger.offchain!.transcoded >= 3);
    assert.equal(ledger.offchain!.tickets, 0);
  });
});
