// Attack 6: a push client tries to make the node hold memory, hang requests or miscount time — against
// the real node with an auth webhook, real segments and real HTTP uploads that stop half-way.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestNode, type TestNode } from '../e2e/helpers.ts';
import { makeTestClip } from '../media/testMedia.ts';
import { openUpload, rawRequest } from './rawHttp.ts';

const TS = { 'Content-Type': 'video/mp2t' };

describe('attack 6: HTTP push cannot hold memory, hang requests or bend durations', () => {
  let node: TestNode;
  let webhook: Server;
  const asked: string[] = [];
  let segment: Buffer;
  const dir = mkdtempSync(join(tmpdir(), 'hostile-push-'));

  before(async () => {
    makeTestClip(join(dir, 'seg.ts'), { seconds: 2, gopSeconds: 2 });
    segment = readFileSync(join(dir, 'seg.ts'));
    // The auth webhook refuses every stream named "refused…".
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const url = (JSON.parse(body) as { url: string }).url;
        asked.push(url);
        res.writeHead(/\/live\/refused/.test(url) ? 403 : 200).end();
      });
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    node = await startTestNode({
      network: 'offchain',
      // nobody listens there: segments are answered 503 (no orchestrator), never transcoded
      orchAddr: 'https://127.0.0.1:9',
      authWebhookUrl: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/auth`,
      httpIngestMaxBytes: String(segment.length + 1024),
      httpIngestMaxConcurrent: '3',
      transcodingOptions: 'P240p30fps16x9',
    });
  });
  after(async () => {
    await node?.stop();
    await new Promise((r) => webhook?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  const url = (path: string) => `${node.gateway.httpUrl}${path}`;

  it('a refused stream is answered before its body is sent: the node holds none of it', async () => {
    const upload = openUpload(url('/live/refused1/0.ts'), { ...TS, 'Content-Length': String(segment.length) }, segment.subarray(0, 1024));
    const r = await upload.answer; // the rest of the body is never sent
    upload.abort();
    assert.equal(r.status, 403);
    assert.ok(asked.some((u) => u.endsWith('/live/refused1/0.ts')));
    assert.equal(node.gateway.stream('refused1'), undefined);
  });

  it('a body over -httpIngestMaxBytes is 413, declared or streamed', async () => {
    const declared = await rawRequest(url('/live/big/0.ts'), {
      method: 'POST',
      headers: { ...TS, 'Content-Length': String(segment.length + 4096) },
      body: Buffer.alloc(16),
    }).catch((err: Error) => ({ status: -1, text: err.message }));
    assert.equal(declared.status, 413);
    const chunked = await rawRequest(url('/live/big2/0.ts'), {
      method: 'POST',
      headers: { ...TS, 'Transfer-Encoding': 'chunked' },
      body: Buffer.alloc(segment.length + 4096),
    }).catch((err: Error) => ({ status: -1, text: err.message }));
    assert.equal(chunked.status, 413);
  });

  it('a name that is not a sequence number is 400, not segment 0', async () => {
    for (const name of ['abc.ts', 'x1.ts', '-1.ts', '1e3.ts', '99999999999999999999.ts']) {
      const r = await rawRequest(url(`/live/names/${name}`), { method: 'POST', headers: TS, body: segment });
      assert.equal(r.status, 400, name);
      assert.match(r.text, /is not a sequence number/);
    }
  });

  it('Content-Duration must be 0…300000 ms', async () => {
    for (const d of ['-2000', '999999999999']) {
      const r = await rawRequest(url('/live/duration/0.ts'), { method: 'POST', headers: { ...TS, 'Content-Duration': d }, body: segment });
      assert.equal(r.status, 400, d);
      assert.match(r.text, /Content-Duration must be 0…300000/);
    }
  });

  it('a second push of a segment still in flight is 409 at once; the first is answered; nothing hangs', async () => {
    const first = openUpload(url('/live/dup/5.ts'), { ...TS, 'Content-Length': String(segment.length) }, segment.subarray(0, 1024));
    // wait until the node holds the first request (its stream is open), then push the same segment again
    for (let i = 0; i < 600 && !node.gateway.stream('dup'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(node.gateway.stream('dup'), 'the first push opened the stream');
    const second = await rawRequest(url('/live/dup/5.ts'), { method: 'POST', headers: TS, body: segment });
    assert.equal(second.status, 409);
    assert.match(second.text, /segment 5 of stream dup is already being pushed/);
    first.finish(segment.subarray(1024));
    const r = await first.answer;
    assert.ok([200, 503].includes(r.status), `the first push is answered (${r.status} ${r.text})`);
    // the same segment again after the answer is a new push, answered too
    const again = await rawRequest(url('/live/dup/5.ts'), { method: 'POST', headers: TS, body: segment });
    assert.ok([200, 503].includes(again.status), `${again.status} ${again.text}`);
  });

  it('more pushes at once than -httpIngestMaxConcurrent are 503 before their body is read', async () => {
    const held = [1, 2, 3].map((seq) => openUpload(url(`/live/many/${seq}.ts`), { ...TS, 'Content-Length': String(segment.length) }, segment.subarray(0, 512)));
    // the third may be counted only once its headers arrived: ask until the limit answers
    let refused: { status: number; text: string } | undefined;
    const limited = () => /too many pushes at once/.test(refused?.text ?? '');
    for (let i = 0; i < 600 && !limited(); i++) {
      refused = await rawRequest(url('/live/many/9.ts'), { method: 'POST', headers: TS, body: segment });
      if (!limited()) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(refused?.status, 503);
    assert.match(refused?.text ?? '', /too many pushes at once \(3\)/);
    for (const h of held) h.finish(segment.subarray(512));
    for (const h of held) assert.ok([200, 503].includes((await h.answer).status));
    // the slots are free again
    const after = await rawRequest(url('/live/many/10.ts'), { method: 'POST', headers: TS, body: segment });
    assert.notEqual(after.text, 'too many pushes at once (3); retry\n');
  });
});
