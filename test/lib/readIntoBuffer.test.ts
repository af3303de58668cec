import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { readIntoBuffer } from '../../src/lib/readIntoBuffer.ts';

/** A paused-on-connect server whose connections go through readIntoBuffer into one shared buffer. */
async function adoptingServer(buffer: Buffer) {
  const reads: Buffer[][] = [];
  const sockets: Socket[] = [];
  const server: Server = createServer({ pauseOnConnect: true }, (accepted) => {
    const mine: Buffer[] = [];
    reads.push(mine);
    const socket = readIntoBuffer(accepted, buffer, (bytes) => {
      assert.equal(bytes.buffer, buffer.buffer, 'a view of the shared buffer, not a copy');
      mine.push(Buffer.from(bytes)); // the caller copies what it keeps
    });
    assert.ok(socket);
    socket.on('data', () => assert.fail('no data events: the bytes go to the callback'));
    sockets.push(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, reads, sockets, port: (server.address() as AddressInfo).port };
}

async function dial(port: number): Promise<Socket> {
  const c = connect(port, '127.0.0.1');
  await once(c, 'connect');
  return c;
}

const until = async (cond: () => boolean): Promise<void> => {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    assert.ok(Date.now() < deadline, 'timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('readIntoBuffer', () => {
  it('passes every byte of two connections, in order, through one buffer smaller than what each sends', async () => {
    const shared = Buffer.alloc(4096);
    const { server, reads, port } = await adoptingServer(shared);
    const sent = [randomBytes(300_000), randomBytes(200_000)];
    // one after the other, so the server's connections are in the order of `sent`
    const clients = [await dial(port)];
    await until(() => reads.length === 1);
    clients.push(await dial(port));
    await until(() => reads.length === 2);
    // interleaved writes, so reads of the two connections alternate in the one buffer
    for (let at = 0; at < 300_000; at += 10_000) {
      sent.forEach((bytes, i) => {
        if (at < bytes.length) clients[i]!.write(bytes.subarray(at, at + 10_000));
      });
    }
    for (const c of clients) c.end();
    await until(() => reads.length === 2 && reads.every((r, i) => Buffer.concat(r).length >= sent[i]!.length));
    for (const [i, r] of reads.entries()) assert.ok(Buffer.concat(r).equals(sent[i]!));
    assert.ok(reads.every((r) => r.every((b) => b.length <= shared.length)));
    server.close();
  });

  it('the new socket writes, ends and closes as usual, and the server stops counting the connection at once', async () => {
    const { server, sockets, port } = await adoptingServer(Buffer.alloc(1024));
    const client = await dial(port);
    await until(() => sockets.length === 1);
    const count = await new Promise<number>((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
    assert.equal(count, 0);
    const echoed = once(client, 'data');
    sockets[0]!.write('hello');
    assert.equal(String((await echoed)[0]), 'hello');
    // the server closes while the connection is open: it does not wait for it
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await closed;
    const gone = once(sockets[0]!, 'close');
    const ended = once(sockets[0]!, 'end');
    client.end();
    await ended;
    await gone;
  });

  it('an accepted socket already destroyed (no handle left) gives no socket', async () => {
    let result: Socket | undefined | 'unset' = 'unset';
    const server = createServer({ pauseOnConnect: true }, (accepted) => {
      accepted.destroy();
      result = readIntoBuffer(accepted, Buffer.alloc(16), () => assert.fail('no reads'));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    client.on('error', () => {});
    await until(() => result !== 'unset');
    assert.equal(result, undefined);
    client.destroy();
    server.close();
  });
});
