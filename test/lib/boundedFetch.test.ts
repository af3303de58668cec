// boundedFetch against a real HTTP server that stalls: the deadline covers the body, every time, and the
// connection is let go; a redirect is refused when none may be followed.
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { boundedFetch, WebhookAnswerError } from '../../src/lib/boundedFetch.ts';

describe('boundedFetch against a peer that stalls', () => {
  let server: Server;
  let url: string;
  /** sockets a stalled answer was written on, until they close */
  const stalled = new Set<Socket>();
  before(async () => {
    server = createServer((req, res: ServerResponse) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/large') {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(Buffer.alloc(2 * 1024 * 1024, 0x20));
        } else if (req.url === '/stall') {
          res.writeHead(200, { 'Content-Type': 'application/json', 'X-Seen': 'yes' });
          res.write('{"payment":'); // and never another byte
          stalled.add(req.socket);
          req.socket.on('close', () => stalled.delete(req.socket));
        } else if (req.url === '/moved') res.writeHead(307, { Location: '/stall' }).end();
        else res.writeHead(200, { 'X-Seen': 'yes' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('a body that stops mid-way ends by the deadline, round after round, after large answers were read', async () => {
    // fetch's own AbortSignal.timeout missed about one such call in thirty here; forty rounds in a row
    for (let round = 0; round < 40; round++) {
      await assert.rejects(boundedFetch(`${url}/large`, { method: 'POST', body: '{}' }, { maxBytes: 1 << 20, timeoutMs: 2000 }), WebhookAnswerError);
      const started = performance.now();
      const outcome = await Promise.race([
        boundedFetch(`${url}/stall`, { method: 'POST', body: '{}' }, { timeoutMs: 150 }).then(
          () => 'answered',
          (err: Error) => err.name,
        ),
        new Promise((r) => setTimeout(() => r('still waiting after 3 s'), 3000).unref()),
      ]);
      assert.equal(outcome, 'TimeoutError', `round ${round}`);
      assert.ok(performance.now() - started < 1500, `round ${round} took ${Math.round(performance.now() - started)} ms`);
    }
    // every stalled connection was let go, not left open on the peer's terms
    const deadline = Date.now() + 2000;
    while (stalled.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(stalled.size, 0, 'stalled connections left open');
  });

  it('the answer carries its status and headers; a caller’s own signal still ends it', async () => {
    const ok = await boundedFetch(`${url}/ok`, {}, { timeoutMs: 2000 });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-seen'), 'yes');
    assert.equal(ok.body.toString(), '{}');
    const caller = new AbortController();
    setTimeout(() => caller.abort(new Error('the caller gave up')), 100);
    await assert.rejects(boundedFetch(`${url}/stall`, { signal: caller.signal }, { timeoutMs: 5000 }), /the caller gave up/);
  });

  it('with maxRedirects 0 even a same-origin redirect is refused', async () => {
    await assert.rejects(boundedFetch(`${url}/moved`, {}, { maxRedirects: 0, timeoutMs: 2000 }), /redirects are not followed/);
  });
});
