// The events webhook against real local receivers: signatures, retries, redirects, a full queue, a
// receiver that answers with a flood or not at all.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../../src/lib/log.ts';
import { EventsWebhook, SIGNATURE_HEADER, signWebhookBody, verifyWebhookSignature } from '../../src/server/eventsWebhook.ts';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.closeAllConnections();
  for (const s of servers) s.close();
});

async function receiver(answer: (n: number, req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      answer(got.length, req, res);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('events webhook', () => {
  it('posts each event as signed JSON, in order, and a wrong secret does not verify', async () => {
    const rx = await receiver((_n, _req, res) => res.writeHead(204).end());
    const hook = new EventsWebhook({ url: rx.url, secret: 's3cret', log: silentLogger() });
    assert.ok(hook.send('stream.started', { manifestId: 'a' }));
    assert.ok(hook.send('stream.ended', { manifestId: 'a', reason: 'done' }));
    await until(() => hook.stats().delivered === 2, 'two deliveries');
    hook.close();
    assert.deepEqual(
      rx.got.map((g) => JSON.parse(g.body).type),
      ['stream.started', 'stream.ended'],
    );
    for (const g of rx.got) {
      const sig = g.headers[SIGNATURE_HEADER.toLowerCase()] as string;
      assert.match(sig, /^t=\d+,v1=[0-9a-f]{64}$/);
      assert.ok(verifyWebhookSignature('s3cret', sig, g.body));
      assert.ok(!verifyWebhookSignature('wrong', sig, g.body), 'another secret fails');
      assert.ok(!verifyWebhookSignature('s3cret', sig, `${g.body} `), 'a changed body fails');
      assert.equal(g.headers['livepeer-event'], JSON.parse(g.body).type);
      assert.equal(g.headers['livepeer-delivery'], JSON.parse(g.body).id);
      assert.equal(g.headers['content-type'], 'application/json');
    }
    assert.deepEqual(JSON.parse(rx.got[1]!.body).data, { manifestId: 'a', reason: 'done' });
  });

  it('a replayed signature outside the tolerance fails', () => {
    const body = '{"x":1}';
    const sig = signWebhookBody('k', 1_000_000, body);
    assert.ok(verifyWebhookSignature('k', sig, body, { nowSeconds: 1_000_100 }));
    assert.ok(!verifyWebhookSignature('k', sig, body, { nowSeconds: 1_000_000 + 301 }));
    assert.ok(!verifyWebhookSignature('k', undefined, body));
    assert.ok(!verifyWebhookSignature('k', 't=abc,v1=00', body));
  });

  it('no signature header without a secret', async () => {
    const rx = await receiver((_n, _req, res) => res.writeHead(200).end());
    const hook = new EventsWebhook({ url: rx.url, log: silentLogger() });
    hook.send('deposit.low', { depositWei: '0', reserveWei: '0' });
    await until(() => hook.stats().delivered === 1, 'delivery');
    hook.close();
    assert.equal(rx.got[0]!.headers['livepeer-signature'], undefined);
  });

  it('retries a failing receiver with backoff, the same delivery ID each time', async () => {
    const rx = await receiver((n, _req, res) => res.writeHead(n < 3 ? 503 : 200).end());
    const hook = new EventsWebhook({ url: rx.url, secret: 'k', log: silentLogger(), backoffMs: 10 });
    hook.send('stream.error', { manifestId: 'a', error: 'x' });
    await until(() => hook.stats().delivered === 1, 'delivery after retries');
    hook.close();
    assert.equal(rx.got.length, 3);
    assert.equal(new Set(rx.got.map((g) => JSON.parse(g.body).id)).size, 1);
  });

  it('gives up after maxAttempts and goes on with the next event', async () => {
    const rx = await receiver((n, _req, res) => res.writeHead(n <= 2 ? 500 : 200).end());
    const hook = new EventsWebhook({ url: rx.url, log: silentLogger(), backoffMs: 5, maxAttempts: 2 });
    hook.send('a', {});
    hook.send('b', {});
    await until(() => hook.stats().delivered === 1, 'second event');
    hook.close();
    assert.deepEqual(hook.stats(), { queued: 0, delivered: 1, failed: 1, dropped: 0 });
  });

  it('does not follow a redirect (hostile receiver)', async () => {
    const elsewhere = await receiver((_n, _req, res) => res.writeHead(200).end());
    const rx = await receiver((_n, _req, res) => res.writeHead(307, { Location: elsewhere.url }).end());
    const hook = new EventsWebhook({ url: rx.url, log: silentLogger(), backoffMs: 5, maxAttempts: 2 });
    hook.send('stream.started', {});
    await until(() => hook.stats().failed === 1, 'given up');
    hook.close();
    assert.equal(rx.got.length, 2);
    assert.equal(elsewhere.got.length, 0, 'the redirect target never heard of it');
  });

  it('does not read a flood of an answer, and a receiver that never answers times out (hostile receiver)', async () => {
    let flooding = true;
    const flood = await receiver((_n, _req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (flooding && res.write(chunk)) {}
        if (flooding) res.once('drain', pump);
        else res.end();
      };
      pump();
    });
    const hook = new EventsWebhook({ url: flood.url, log: silentLogger() });
    hook.send('a', {});
    await until(() => hook.stats().delivered === 1, 'flood delivery');
    hook.close();
    flooding = false;

    const silent = await receiver(() => {});
    const slow = new EventsWebhook({ url: silent.url, log: silentLogger(), timeoutMs: 200, backoffMs: 5, maxAttempts: 2 });
    slow.send('a', {});
    await until(() => slow.stats().failed === 1, 'timeouts');
    slow.close();
    assert.equal(silent.got.length, 2);
  });

  it('never blocks the sender: a full queue drops and counts', async () => {
    const silent = await receiver(() => {});
    const hook = new EventsWebhook({ url: silent.url, log: silentLogger(), maxQueue: 3, timeoutMs: 60_000 });
    const accepted = [1, 2, 3, 4, 5].map((i) => hook.send('e', { i }));
    assert.deepEqual(accepted, [true, true, true, false, false]);
    assert.deepEqual(hook.stats(), { queued: 3, delivered: 0, failed: 0, dropped: 2 });
    hook.close();
    assert.equal(hook.stats().dropped, 5, 'closing drops what was queued');
    assert.equal(hook.send('e', {}), false);
  });
});
