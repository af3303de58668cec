// A stream's whole life reaches the operator: signed posts on a local events webhook and the same events on
// the control port's /events (server-sent events), through a real RTMP publish, two devnet orchestrators
// and a forced orchestrator swap (the one in use is killed).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startOrchestrator, type RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '../../src/server/eventsWebhook.ts';
import { killPublishers, publishTestStream } from '../media/testMedia.ts';
import { startTestNode, waitUntil, type TestNode } from './helpers.ts';

const SECRET = 'webhook-secret-for-tests';

interface Post {
  signature: string | undefined;
  body: string;
  event: { id: string; type: string; timestamp: number; data: Record<string, unknown> };
}

/** Reads server-sent events from a URL into `into` until aborted. */
async function readSse(res: Response, into: { event: string; data: Record<string, unknown> }[], signal: AbortSignal): Promise<void> {
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const chunk of res.body!) {
      buf += decoder.decode(chunk as Uint8Array, { stream: true });
      let end = buf.indexOf('\n\n');
      while (end >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) into.push({ event, data: JSON.parse(data) });
        end = buf.indexOf('\n\n');
      }
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}

describe('events webhook and /events over a stream’s life', () => {
  const orchs: RunningOrchestrator[] = [];
  let node: TestNode;
  let hookServer: Server;
  const posts: Post[] = [];
  before(async () => {
    hookServer = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        posts.push({ signature: req.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined, body, event: JSON.parse(body) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
    orchs.push(await startOrchestrator({ logLevel: 'silent' }), await startOrchestrator({ logLevel: 'silent' }));
    node = await startTestNode({
      network: 'offchain',
      orchAddr: orchs.map((o) => o.uri).join(','),
      transcodingOptions: 'P144p30fps16x9',
      eventsWebhookUrl: `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/events`,
      eventsWebhookSecret: SECRET,
    });
  });
  after(async () => {
    killPublishers();
    await node?.stop();
    for (const o of orchs) await o.stop().catch(() => {});
    hookServer?.closeAllConnections();
    hookServer?.close();
  });

  it('start, a forced swap, end: signed on the webhook, the same on /events', async () => {
    const sse: { event: string; data: Record<string, unknown> }[] = [];
    const stopSse = new AbortController();
    const res = await fetch(`${node.controlUrl}/events`, { signal: stopSse.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reading = readSse(res, sse, stopSse.signal);
    const mid = 'lifecycle';
    // a light 320x180 source: on a loaded machine the orchestrators keep up with it
    const pub = publishTestStream(`${node.gateway.rtmpUrl}/live/${mid}`, { seconds: 60 });
    const types = () => posts.map((p) => p.event.type);
    await waitUntil(async () => (types().includes('stream.started') ? true : undefined), 60_000, 'stream.started on the webhook');
    // the stream settles on an orchestrator, which is then killed
    await waitUntil(async () => node.gateway.stream(mid)?.stats.orchestrator, 180_000, 'a first transcoded segment');
    // the master playlist names the codecs of each variant, read from the segments themselves
    const master = await waitUntil(
      async () => {
        const r = await fetch(`${node.gateway.httpUrl}/stream/${mid}.m3u8`);
        const text = await r.text();
        return (text.match(/#EXT-X-STREAM-INF/g) ?? []).length >= 2 ? text : undefined;
      },
      60_000,
      'a master playlist with the rendition',
    );
    const infs = master.split('\n').filter((l) => l.startsWith('#EXT-X-STREAM-INF'));
    for (const inf of infs) assert.match(inf, /,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"$/, inf);
    const victimUri = node.gateway.stream(mid)!.stats.orchestrator!;
    await orchs.find((o) => o.uri === victimUri)!.stop();
    await waitUntil(async () => (types().includes('orchestrator.swapped') ? true : undefined), 90_000, 'orchestrator.swapped on the webhook');
    pub.kill();
    await waitUntil(async () => (types().includes('stream.ended') ? true : undefined), 90_000, 'stream.ended on the webhook');
    await waitUntil(async () => (sse.some((e) => e.event === 'stream.ended') ? true : undefined), 10_000, 'stream.ended on /events');
    stopSse.abort();
    await reading;

    // every post is signed with the secret, and only with it
    for (const p of posts) {
      assert.ok(verifyWebhookSignature(SECRET, p.signature, p.body), `valid signature on ${p.event.type}`);
      assert.ok(!verifyWebhookSignature('not-the-secret', p.signature, p.body), `a wrong secret fails on ${p.event.type}`);
    }
    const t = types();
    assert.equal(t[0], 'stream.started');
    assert.equal(t.at(-1), 'stream.ended');
    assert.equal(t.filter((x) => x === 'stream.started').length, 1);
    assert.ok(t.indexOf('orchestrator.swapped') > 0 && t.indexOf('orchestrator.swapped') < t.length - 1);
    const swaps = posts.filter((p) => p.event.type === 'orchestrator.swapped').map((p) => p.event.data);
    assert.ok(
      swaps.some((s) => s.manifestId === mid && s.from === victimUri && s.to === orchs.find((o) => o.uri !== victimUri)!.uri),
      'the swap away from the killed orchestrator',
    );
    assert.ok(
      posts.some((p) => p.event.type === 'orchestrator.suspended' && p.event.data.orchestrator === victimUri),
      'the killed orchestrator is reported suspended',
    );
    assert.ok(!t.includes('segment.transcoded') && !t.includes('payment.sent'), 'the webhook carries the operator events only');
    assert.equal(new Set(posts.map((p) => p.event.id)).size, posts.length, 'one delivery ID per event');
    assert.deepEqual(posts[0]!.event.data, { manifestId: mid, ingest: 'rtmp', profiles: ['P144p30fps16x9'] });

    // /events carries the same operator events, in the same order, and the segment events besides
    const sseOperator = sse.filter((e) => t.includes(e.event) || e.event.startsWith('stream.') || e.event.startsWith('orchestrator.'));
    assert.deepEqual(
      sseOperator.map((e) => e.event),
      t,
    );
    assert.ok(sse.some((e) => e.event === 'segment.transcoded'));
    // the hook server records a post before its answer reaches the node: the last delivery may still be on the way
    await node.gateway.webhook!.flush(10_000);
    assert.deepEqual(node.gateway.webhook!.stats(), { queued: 0, delivered: posts.length, failed: 0, dropped: 0 });
  });
});
