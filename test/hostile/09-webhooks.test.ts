// Attack 9 (client side): a webhook answer as a weapon — a body of many megabytes, a redirect to another
// host (the local network, the control API). Against the real node (auth webhook on HTTP push) and the
// orchestrator discovery webhook: the answer is capped, a cross-host redirect is not followed and the
// other host never hears from the node; a same-host redirect still works.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { webhookSource } from '../../src/discovery/sources.ts';
import { startTestNode, type TestNode } from '../e2e/helpers.ts';
import { makeTestClip } from '../media/testMedia.ts';
import { rawRequest } from './rawHttp.ts';

const HUGE = 8 * 1024 * 1024;

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('attack 9: webhook answers are capped and cannot redirect the node elsewhere', () => {
  let node: TestNode;
  let webhook: { server: Server; url: string };
  let elsewhere: { server: Server; url: string };
  let elsewhereHits = 0;
  let segment: Buffer;
  const dir = mkdtempSync(join(tmpdir(), 'hostile-webhooks-'));

  before(async () => {
    makeTestClip(join(dir, 'seg.ts'), { seconds: 2, gopSeconds: 2 });
    segment = readFileSync(join(dir, 'seg.ts'));
    elsewhere = await listen((_req, res) => {
      elsewhereHits += 1;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify([{ address: 'https://127.0.0.1:1' }]));
    });
    webhook = await listen((req, res) => {
      const path = req.url ?? '/';
      req.resume();
      req.on('end', () => {
        if (path.startsWith('/huge')) {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(Buffer.alloc(HUGE, 0x20)); // whitespace: valid JSON padding if it were read whole
        } else if (path.startsWith('/away')) res.writeHead(307, { Location: `${elsewhere.url}/auth` }).end();
        else if (path.startsWith('/here')) res.writeHead(307, { Location: '/ok' }).end();
        else if (path.startsWith('/orchs-away')) res.writeHead(302, { Location: `${elsewhere.url}/orchs` }).end();
        else if (path.startsWith('/orchs')) res.writeHead(200).end(JSON.stringify([{ address: 'https://127.0.0.1:2' }]));
        else res.writeHead(200).end();
      });
    });
  });
  after(async () => {
    await node?.stop();
    for (const s of [webhook?.server, elsewhere?.server]) await new Promise((r) => s?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const pushWith = async (authPath: string, mid: string) => {
    await node?.stop();
    node = await startTestNode({
      network: 'offchain',
      orchAddr: 'https://127.0.0.1:9',
      authWebhookUrl: `${webhook.url}${authPath}`,
      transcodingOptions: 'P240p30fps16x9',
    });
    return rawRequest(`${node.gateway.httpUrl}/live/${mid}/0.ts`, { method: 'POST', headers: { 'Content-Type': 'video/mp2t' }, body: segment });
  };

  it('an auth webhook answer of 8 MiB is refused after 64 KiB; the stream does not start', async () => {
    const r = await pushWith('/huge', 'hugeanswer');
    assert.equal(r.status, 403);
    assert.match(r.text, /answer larger than 65536 bytes/);
    assert.equal(node.gateway.stream('hugeanswer'), undefined);
  });

  it('an auth webhook redirect to another host is not followed', async () => {
    const r = await pushWith('/away', 'redirected');
    assert.equal(r.status, 403);
    assert.match(r.text, /redirected to another host/);
    assert.equal(elsewhereHits, 0, 'the other host never heard from the node');
  });

  it('a redirect on the webhook’s own host is followed', async () => {
    const r = await pushWith('/here', 'samehost');
    assert.ok([200, 503].includes(r.status), `${r.status} ${r.text}`);
    assert.ok(node.gateway.stream('samehost'), 'the stream started');
  });

  it('the orchestrator discovery webhook: capped, no cross-host redirect', async () => {
    const errors: string[] = [];
    const huge = webhookSource({ url: `${webhook.url}/huge`, onError: (e) => errors.push(e.message) });
    assert.deepEqual(await huge.candidates(), []);
    assert.match(errors[0] ?? '', /answer larger than 1048576 bytes/);
    const away = webhookSource({ url: `${webhook.url}/orchs-away`, onError: (e) => errors.push(e.message) });
    assert.deepEqual(await away.candidates(), []);
    assert.match(errors[1] ?? '', /redirected to another host/);
    assert.equal(elsewhereHits, 0);
    const good = webhookSource({ url: `${webhook.url}/orchs` });
    assert.deepEqual(
      (await good.candidates()).map((c) => c.uri),
      ['https://127.0.0.1:2'],
    );
  });
});
