// Ingest policies end to end: the auth webhook (accept, refuse, profile override) on RTMP, and HTTP
// push with the multipart reply and the Livepeer-Transcode-Configuration header.
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOrchestrator, type RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { makeTestClip } from '../media/testMedia.ts';
import { getBytes, getText, killAllPublishers, mediaSeqs, probeSize, publish720p, startTestGateway, waitUntil, type TestGateway } from './helpers.ts';

describe('ingest: auth webhook and HTTP push', () => {
  let orch: RunningOrchestrator;
  let gw: TestGateway;
  let hook: Server;
  const hookCalls: string[] = [];
  let clip: Buffer;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lpingest-'));
    makeTestClip(join(dir, 'seg.ts'), { seconds: 2, fps: 15, gopSeconds: 1 });
    clip = await readFile(join(dir, 'seg.ts'));
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const { url } = JSON.parse(body) as { url: string };
        hookCalls.push(url);
        if (url.includes('deny')) return void res.writeHead(403).end('no');
        if (url.includes('custom')) {
          return void res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ manifestID: 'renamed', profiles: [{ name: 'tiny', width: 256, height: 144, bitrate: 200000, fps: 15 }] }));
        }
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    orch = await startOrchestrator({ logLevel: 'silent' });
    gw = await startTestGateway({
      network: 'offchain',
      orchAddr: orch.uri,
      authWebhookUrl: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/auth`,
      transcodingOptions: 'P144p30fps16x9',
    });
  });
  after(async () => {
    killAllPublishers();
    await gw?.stop();
    await orch?.stop();
    await new Promise((r) => hook?.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('webhook refusal: the publisher is refused, no stream appears', async () => {
    const pub = publish720p(`${gw.gateway.rtmpUrl}/live/deny?token=x`, 4);
    const code = await pub.exited;
    assert.notEqual(code, 0);
    assert.ok(
      hookCalls.some((u) => u.endsWith('/live/deny?token=x')),
      'the webhook got the publish URL with its query',
    );
    assert.equal(gw.gateway.stream('deny'), undefined);
    assert.equal((await getText(`${gw.gateway.httpUrl}/stream/deny.m3u8`)).status, 404);
  });

  it('webhook answer renames the stream and overrides its profiles', async () => {
    publish720p(`${gw.gateway.rtmpUrl}/live/custom`, 8);
    const master = await waitUntil(
      async () => {
        const r = await getText(`${gw.gateway.httpUrl}/stream/renamed.m3u8`);
        return r.status === 200 && r.text.includes('tiny') ? r.text : undefined;
      },
      20_000,
      'renamed stream with the webhook profile',
    );
    assert.doesNotMatch(master, /P144p30fps16x9/);
    const seqs = mediaSeqs((await getText(`${gw.gateway.httpUrl}/stream/renamed/tiny.m3u8`)).text);
    const size = await probeSize(await getBytes(`${gw.gateway.httpUrl}/stream/renamed/tiny/${seqs[0]}.ts`));
    assert.equal(size.height, 144);
    killAllPublishers();
  });

  it('webhook accept with an empty body keeps the URL ids and the default profiles', async () => {
    publish720p(`${gw.gateway.rtmpUrl}/live/plain`, 8);
    const master = await waitUntil(
      async () => {
        const r = await getText(`${gw.gateway.httpUrl}/stream/plain.m3u8`);
        return r.status === 200 && r.text.includes('P144p30fps16x9') ? r.text : undefined;
      },
      20_000,
      'plain stream',
    );
    assert.match(master, /plain\/P144p30fps16x9.m3u8/);
    killAllPublishers();
  });

  it('HTTP push: multipart reply, one part per rendition, header profiles override', async () => {
    const res = await fetch(`${gw.gateway.httpUrl}/live/pushed/0.ts`, {
      method: 'POST',
      body: clip,
      headers: {
        Accept: 'multipart/mixed',
        'Content-Duration': '2000',
        'Livepeer-Transcode-Configuration': JSON.stringify({
          manifestID: 'pushed',
          profiles: [
            { name: 'small', width: 320, height: 180, bitrate: 300000 },
            { name: 'smaller', width: 256, height: 144, bitrate: 200000 },
          ],
        }),
      },
    });
    assert.equal(res.status, 200);
    const type = res.headers.get('content-type') ?? '';
    const boundary = /boundary=([^;]+)/.exec(type)?.[1];
    assert.ok(type.startsWith('multipart/mixed') && boundary, type);
    const body = Buffer.from(await res.arrayBuffer());
    const parts = body
      .toString('latin1')
      .split(`--${boundary}`)
      .filter((p) => p.includes('Rendition-Name'));
    assert.equal(parts.length, 2);
    assert.match(parts[0]!, /Rendition-Name: small/);
    assert.match(parts[0]!, /Content-Disposition: attachment; filename="small_0.ts"/);
    assert.match(parts[1]!, /Rendition-Name: smaller/);
    const data = Buffer.from(parts[1]!.split('\r\n\r\n').slice(1).join('\r\n\r\n').replace(/\r\n$/, ''), 'latin1');
    assert.equal((await probeSize(data)).height, 144);
    // the pushed segment is in HLS too
    assert.equal((await getText(`${gw.gateway.httpUrl}/stream/pushed/smaller.m3u8`)).status, 200);
  });

  it('HTTP push: bad extension 400, bad method 405, malformed configuration 400', async () => {
    assert.equal((await fetch(`${gw.gateway.httpUrl}/live/x/0.m3u8`, { method: 'POST', body: 'x' })).status, 400);
    assert.equal((await fetch(`${gw.gateway.httpUrl}/live/x/0.ts`, { method: 'GET' })).status, 405);
    const bad = await fetch(`${gw.gateway.httpUrl}/live/x/0.ts`, { method: 'POST', body: clip, headers: { 'Livepeer-Transcode-Configuration': '{nope' } });
    assert.equal(bad.status, 400);
  });
});
