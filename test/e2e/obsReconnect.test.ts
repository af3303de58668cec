// OBS after a network blip: the encoder is gone, but the gateway still holds its RTMP session open (nothing
// told it otherwise); the encoder reconnects with the same stream key and takes the stream over. The
// playlists go on with the next sequence numbers and a discontinuity, under the same manifest ID, with one
// start and one end on the event feed. A publisher with another key is still refused.
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { getText, killAllPublishers, mediaSeqs, publish720p, sleep, startTestGateway, waitUntil, type TestGateway } from './helpers.ts';

/**
 * A TCP relay in front of the RTMP port that simulates a blip: when the encoder's side closes, the gateway's
 * side is left open, as if the network had dropped the encoder's goodbye.
 */
async function blipRelay(target: { host: string; port: number }): Promise<{ port: number; upstreams: Socket[]; close(): void }> {
  const upstreams: Socket[] = [];
  const clients: Socket[] = [];
  const server: Server = createServer((client) => {
    clients.push(client);
    const upstream = connect(target.port, target.host);
    upstreams.push(upstream);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      if (!client.destroyed) client.write(d);
    });
    client.on('error', () => {});
    upstream.on('error', () => {});
    upstream.on('close', () => client.destroy());
    // no client.on('close') → upstream.end(): the gateway is not told
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    upstreams,
    close() {
      for (const s of [...clients, ...upstreams]) s.destroy();
      server.close();
    },
  };
}

describe('OBS reconnect', () => {
  let gw: TestGateway;
  let relay: Awaited<ReturnType<typeof blipRelay>>;
  before(async () => {
    // no orchestrator: the take-over is the ingest's and the playlists' business (and a loaded machine's
    // transcoding delays stay out of it)
    gw = await startTestGateway({ network: 'offchain', transcodingOptions: 'P144p30fps16x9' });
    const url = new URL(gw.gateway.rtmpUrl);
    relay = await blipRelay({ host: url.hostname, port: Number(url.port) });
  });
  after(async () => {
    killAllPublishers();
    relay?.close();
    await gw?.stop();
  });

  it('a publish with the same key takes the stream over; another key is refused', async () => {
    const mid = 'obs';
    const events: string[] = [];
    gw.gateway.events.onAny((name) => events.push(name));
    const source = `${gw.gateway.httpUrl}/stream/${mid}/source.m3u8`;
    const seen = { source: new Set<number>() };
    let sourceText = '';
    const poll = async () => {
      const s = await getText(source);
      if (s.status === 200) {
        sourceText = s.text;
        for (const n of mediaSeqs(s.text)) seen.source.add(n);
      }
    };

    const first = publish720p(`rtmp://127.0.0.1:${relay.port}/live/${mid}/streamKey1`, 60);
    await waitUntil(
      async () => {
        await poll();
        return seen.source.size >= 2 ? true : undefined;
      },
      90_000,
      'segments from the first publish',
    );
    // the blip: the encoder dies, its session on the gateway stays open
    first.kill();
    await first.exited;
    await sleep(500);
    assert.ok(gw.gateway.stream(mid), 'the old session is still live');
    const beforeTakeover = Math.max(...seen.source);
    assert.ok(!sourceText.includes('#EXT-X-DISCONTINUITY'));

    // a stranger with another key is refused, the stream untouched
    const stranger = publish720p(`${gw.gateway.rtmpUrl}/live/${mid}/wrongKey`, 10);
    assert.notEqual(await stranger.exited, 0, 'another key is refused');
    assert.ok(gw.gateway.stream(mid));

    // the encoder reconnects with its key
    const second = publish720p(`${gw.gateway.rtmpUrl}/live/${mid}/streamKey1`, 8);
    await waitUntil(
      async () => {
        await poll();
        return sourceText.includes('#EXT-X-DISCONTINUITY') && Math.max(...seen.source) > beforeTakeover + 1 ? true : undefined;
      },
      90_000,
      'segments from the second publish after a discontinuity',
    );
    await waitUntil(async () => (relay.upstreams[0]!.destroyed ? true : undefined), 20_000, 'the stale session to be closed by the gateway');

    // follow the stream to its end
    const exited = second.exited.then(() => true);
    while (!(await Promise.race([exited, sleep(400).then(() => false)]))) await poll().catch(() => {});
    await waitUntil(async () => (events.includes('stream.ended') ? true : undefined), 90_000, 'stream.ended');

    assert.equal(events.filter((e) => e === 'stream.started').length, 1, 'one start');
    assert.equal(events.filter((e) => e === 'stream.ended').length, 1, 'one end');
    assert.ok(!events.includes('stream.error'));
    // the source playlist never skipped or repeated a number across the take-over
    const seqs = [...seen.source].sort((a, b) => a - b);
    assert.deepEqual(
      seqs,
      Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i),
      'contiguous source sequence numbers',
    );
    assert.ok(seqs.at(-1)! > beforeTakeover + 1);
  });
});
