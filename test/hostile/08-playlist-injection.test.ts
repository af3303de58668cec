// Attack 8: names that end up in .m3u8 files carry CR/LF and playlist tags — a manifest ID in a push URL
// (`%0A`), a manifest ID answered by the auth webhook, profile names in the transcode configuration
// header and in -transcodingOptions. Each is refused where it enters, with a message that says why; the
// playlists of a good stream on the same node hold only their own lines.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildNodeConfig } from '../../src/cli/nodeConfig.ts';
import { startTestNode, waitUntil, type TestNode } from '../e2e/helpers.ts';
import { makeTestClip } from '../media/testMedia.ts';
import { rawRequest } from './rawHttp.ts';

const INJECTED = '#EXT-X-STREAM-INF:BANDWIDTH=1\nhttp://evil.example/x.m3u8';
const TS = { 'Content-Type': 'video/mp2t', 'Content-Duration': '2000' };

describe('attack 8: no name writes lines into a playlist', () => {
  let node: TestNode;
  let webhook: Server;
  let segment: Buffer;
  const dir = mkdtempSync(join(tmpdir(), 'hostile-names-'));

  before(async () => {
    makeTestClip(join(dir, 'seg.ts'), { seconds: 2, gopSeconds: 2 });
    segment = readFileSync(join(dir, 'seg.ts'));
    // The webhook renames streams called "rename…" to a name that carries playlist lines.
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const url = (JSON.parse(body) as { url: string }).url;
        if (url.includes('/live/rename')) res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ manifestID: `ok\n${INJECTED}` }));
        else res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    node = await startTestNode({
      network: 'offchain',
      orchAddr: 'https://127.0.0.1:9',
      authWebhookUrl: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/auth`,
      transcodingOptions: 'P240p30fps16x9',
    });
  });
  after(async () => {
    await node?.stop();
    await new Promise((r) => webhook?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  const push = (path: string, headers: Record<string, string> = {}) =>
    rawRequest(`${node.gateway.httpUrl}${path}`, { method: 'POST', headers: { ...TS, ...headers }, body: segment });

  it('a manifest ID with %0A (or other unsafe characters) in the push URL is 400', async () => {
    for (const mid of [`evil%0A${encodeURIComponent(INJECTED)}`, 'evil%0D%0A%23EXT-X-ENDLIST', 'a%20b', 'x%22y']) {
      const r = await push(`/live/${mid}/0.ts`);
      assert.equal(r.status, 400, mid);
      assert.match(r.text, /manifest ID ".*" is not allowed: use 1-128 letters, digits/);
    }
    assert.deepEqual((await node.gateway.status()).Manifests, []);
  });

  it('a manifest ID answered by the auth webhook is checked too', async () => {
    const r = await push('/live/rename1/0.ts');
    assert.equal(r.status, 500);
    assert.match(r.text, /manifest ID from the auth webhook ".*" is not allowed/);
    assert.deepEqual((await node.gateway.status()).Manifests, []);
  });

  it('a profile name with CR/LF in the transcode configuration header is refused', async () => {
    const config = JSON.stringify({ manifestID: 'hdr', profiles: [{ name: `low\r\n${INJECTED}`, width: 320, height: 240, bitrate: 300000, fps: 30 }] });
    const r = await push('/live/hdr/0.ts', { 'Livepeer-Transcode-Configuration': config });
    assert.ok(r.status >= 400 && r.status < 600, `${r.status}`);
    assert.match(r.text, /profile name ".*" is not allowed/);
    assert.equal(node.gateway.stream('hdr'), undefined);
  });

  it('-transcodingOptions with an unsafe profile name stops the node before it starts', () => {
    const file = join(dir, 'profiles.json');
    writeFileSync(file, JSON.stringify([{ name: `p\n${INJECTED}`, width: 320, height: 240, bitrate: 300000 }]));
    assert.throws(() => buildNodeConfig(new Map(Object.entries({ network: 'offchain', transcodingOptions: file }))), /profile name ".*" is not allowed/);
  });

  it('a good stream next to the attempts: its master playlist holds only its own lines', async () => {
    const r = await push('/live/good-stream_1/0.ts');
    assert.ok([200, 503].includes(r.status), `${r.status} ${r.text}`);
    const master = await waitUntil(
      async () => {
        const m = await rawRequest(`${node.gateway.httpUrl}/stream/good-stream_1.m3u8`);
        return m.status === 200 ? m.text : undefined;
      },
      60_000,
      'master playlist',
    );
    for (const line of master.split('\n').filter(Boolean)) {
      assert.ok(line.startsWith('#EXT') || /^good-stream_1\/[A-Za-z0-9_.~-]+\.m3u8$/.test(line), `unexpected playlist line: ${line}`);
    }
    assert.doesNotMatch(master, /evil\.example/);
  });
});
