// /events' hub on a real HTTP server: events reach clients as server-sent events, the client count is
// bounded, and a client that stops reading is dropped instead of buffered for (hostile client).
import assert from 'node:assert/strict';
import { createServer, get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { EventStreamHub } from '../../src/server/eventStream.ts';

describe('event stream hub', () => {
  const hub = new EventStreamHub({ maxClients: 2, maxBufferedBytes: 64 * 1024 });
  const server = createServer((req, res) => hub.handle(req, res));
  const ready = new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = async () => {
    await ready;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  };
  const open = async (): Promise<IncomingMessage> => {
    const u = await url();
    return new Promise((resolve, reject) => get(u, resolve).on('error', reject));
  };
  const until = async (cond: () => boolean, what: string) => {
    const end = Date.now() + 20_000;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  after(() => {
    hub.close();
    server.closeAllConnections();
    server.close();
  });

  it('delivers events as text/event-stream and refuses clients beyond the limit', async () => {
    const a = await open();
    assert.equal(a.statusCode, 200);
    assert.match(a.headers['content-type'] ?? '', /^text\/event-stream/);
    let text = '';
    a.on('data', (c: Buffer) => (text += c.toString()));
    await until(() => hub.clients === 1, 'one client');
    hub.publish('stream.started', { manifestId: 'x\ny' });
    await until(() => text.includes('event: stream.started'), 'the event');
    assert.match(text, /id: 1\nevent: stream.started\ndata: \{"manifestId":"x\\ny"\}\n\n/);

    const b = await open();
    assert.equal(b.statusCode, 200);
    b.resume();
    const c = await open();
    assert.equal(c.statusCode, 503, 'a third client is refused');
    c.resume();
    a.destroy();
    b.destroy();
    await until(() => hub.clients === 0, 'clients gone');
  });

  it('drops a client that stops reading', async () => {
    const slow = await open();
    slow.pause();
    await until(() => hub.clients === 1, 'the slow client');
    const big = { blob: 'x'.repeat(64 * 1024) };
    for (let i = 0; i < 400 && hub.droppedClients === 0; i++) {
      hub.publish('segment.transcoded', big);
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(hub.droppedClients, 1);
    assert.equal(hub.clients, 0);
    slow.destroy();
  });
});
