// Attack 12: a peer on the RTMP port announces huge messages before it has published anything — against the
// real RTMP server with a real ffmpeg publish afterwards. RTMP's chunk header carries a message length of up
// to 16 MiB, and node-media-server's parser allocates (and zero-fills) the whole message on its header, per
// chunk stream: 61 chunk streams of one connection announcing 16 MiB each asked for ~1 GiB in one read.
// Its second half: many connections that never publish (or whose publish waits for the auth webhook), each
// within its own budget, from one address or several.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { startRtmpServer, type RtmpServer } from '../../src/ingest/rtmp.ts';
import { RtmpAdmission, type RtmpAdmissionLimits } from '../../src/ingest/rtmpAdmission.ts';
import { StreamRegistry, type IngestStream } from '../../src/ingest/streamRegistry.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { killPublishers, publishTestStream, waitFor } from '../media/testMedia.ts';

const HANDSHAKE_BYTES = 1536;
/** The chunk size the raw publisher sets. */
const PUBLISHER_CHUNK = 64 << 10;

interface Peer {
  sock: Socket;
  closed: Promise<void>;
}

/** A TCP connection to the server from `from` (another loopback address is another peer); nothing sent. */
async function tcp(port: number, from = '127.0.0.1'): Promise<Peer> {
  const sock = connect({ port, host: '127.0.0.1', localAddress: from });
  sock.on('error', () => {});
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  await new Promise<void>((r) => sock.once('connect', () => r()));
  return { sock, closed };
}

/** Connects and completes RTMP's simple handshake (C0 C1, S0 S1 S2, C2); rejects if the server closes first. */
async function handshake(port: number, from?: string): Promise<Peer> {
  const { sock, closed } = await tcp(port, from);
  const c1 = Buffer.concat([Buffer.alloc(8), randomBytes(HANDSHAKE_BYTES - 8)]);
  sock.write(Buffer.concat([Buffer.from([3]), c1]));
  let got = Buffer.alloc(0);
  await new Promise<void>((resolve, reject) => {
    const onData = (c: Buffer) => {
      got = Buffer.concat([got, c]);
      if (got.length >= 1 + 2 * HANDSHAKE_BYTES) {
        sock.off('data', onData);
        resolve();
      }
    };
    sock.on('data', onData);
    void closed.then(() => reject(new Error('the server closed the connection during the handshake')));
  });
  sock.write(got.subarray(1, 1 + HANDSHAKE_BYTES)); // C2 echoes S1
  return { sock, closed };
}

/** A type-0 chunk header on chunk stream `cid` (2..63, a one-byte basic header) of a message `length` bytes long. */
function chunkHeader(cid: number, type: number, streamId: number, length: number): Buffer {
  const header = Buffer.alloc(12); // timestamp 0
  header[0] = cid;
  header.writeUIntBE(length, 4, 3);
  header[7] = type;
  header.writeUInt32LE(streamId, 8);
  return header;
}

/**
 * One chunk per chunk stream `cids`, each the start of a video message `length` bytes long, carrying its
 * first `chunkSize` bytes (RTMP's default chunk size unless the peer set another).
 */
function messageStarts(cids: number[], length: number, chunkSize = 128): Buffer {
  return Buffer.concat(cids.map((cid) => Buffer.concat([chunkHeader(cid, 9, 1, length), randomBytes(chunkSize)])));
}

/** AMF0 values enough for RTMP's connect, createStream and publish commands. */
type Amf = string | number | null | { [key: string]: string };
function amf0(value: Amf): Buffer {
  if (value === null) return Buffer.from([5]);
  if (typeof value === 'number') {
    const b = Buffer.alloc(9);
    b.writeDoubleBE(value, 1);
    return b;
  }
  const str = (s: string) => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(Buffer.byteLength(s));
    return Buffer.concat([b, Buffer.from(s)]);
  };
  if (typeof value === 'string') return Buffer.concat([Buffer.from([2]), str(value)]);
  const fields = Object.entries(value).map(([k, v]) => Buffer.concat([str(k), amf0(v)]));
  return Buffer.concat([Buffer.from([3]), ...fields, Buffer.from([0, 0, 9])]);
}

/** One whole message in one chunk (the chunk size is set large first): fmt 0 on chunk stream `cid`. */
function message(cid: number, type: number, streamId: number, payload: Buffer): Buffer {
  return Buffer.concat([chunkHeader(cid, type, streamId, payload.length), payload]);
}

/** Handshake, chunk size 64 KiB, connect, createStream and publish `name`, as an encoder does. */
async function publisher(port: number, name: string): Promise<Peer> {
  const peer = await handshake(port);
  const chunkSize = Buffer.alloc(4);
  chunkSize.writeUInt32BE(PUBLISHER_CHUNK);
  const command = (streamId: number, ...values: Amf[]) => message(3, 20, streamId, Buffer.concat(values.map(amf0)));
  peer.sock.write(
    Buffer.concat([
      message(2, 1, 0, chunkSize),
      command(0, 'connect', 1, { app: 'live', tcUrl: `rtmp://127.0.0.1:${port}/live` }),
      command(0, 'createStream', 2, null),
      command(1, 'publish', 3, null, name, 'live'),
    ]),
  );
  return peer;
}

/** Resolves when `closed` does; rejects if the server kept the connection open for 5 s. */
const dropped = (closed: Promise<unknown>) =>
  Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the server kept the connection open')), 5000))]);

const stillOpen = (closed: Promise<void>, ms: number) => Promise.race([closed.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), ms))]);

/** A real RTMP server on a free port whose registry accepts every publish, pushing each onto `started`. */
function acceptingServer(started: IngestStream<unknown>[], admission?: Partial<RtmpAdmissionLimits>): Promise<RtmpServer> {
  const registry = new StreamRegistry<unknown>({
    log: silentLogger(),
    // a publish named waiting-… waits for an auth webhook that never answers
    authorize: (req) => (req.urlId.startsWith('waiting-') ? new Promise(() => {}) : Promise.resolve({ accept: true, context: undefined })),
    onStarted: (s) => void started.push(s),
    onEnded: () => {},
  });
  return startRtmpServer({ port: 0, registry, log: silentLogger(), admission });
}

describe('attack 12: a peer on the RTMP port cannot make the parser hold its announced message sizes', () => {
  let server: RtmpServer;
  const started: IngestStream<unknown>[] = [];

  before(async () => {
    server = await acceptingServer(started);
  });

  after(async () => {
    killPublishers();
    await server.close();
  });

  it('drops a connection that announces 16-MiB messages on 61 chunk streams before publishing, without allocating them', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const peers = await Promise.all([1, 2, 3, 4].map(() => handshake(server.port)));
    for (const p of peers)
      p.sock.write(
        messageStarts(
          Array.from({ length: 61 }, (_, i) => i + 3),
          0xffffff,
        ),
      );
    // each is dropped at once (a peer would otherwise be left to send the rest of its ~1 GiB)
    await dropped(Promise.all(peers.map((p) => p.closed)));
    const grew = process.memoryUsage().arrayBuffers - before;
    assert.ok(grew < 32 << 20, `Buffers grew by ${(grew / 2 ** 20).toFixed(0)} MiB`);
  });

  it('drops a connection whose one message before a publish is larger than a command could be', async () => {
    const { sock, closed } = await handshake(server.port);
    sock.write(messageStarts([3], 1 << 20));
    await dropped(closed);
  });

  it('lets a publisher send frames as large as RTMP allows, but not hold more than 32 MiB of them at once', async () => {
    const { sock, closed } = await publisher(server.port, 'big-frames');
    await waitFor(() => started.some((s) => s.manifestId === 'big-frames'), 5000, 'the raw publish accepted');
    sock.write(messageStarts([6], 8 << 20, PUBLISHER_CHUNK));
    assert.ok(await stillOpen(closed, 500), 'an 8-MiB frame of an accepted publisher is allowed');
    sock.write(messageStarts([7, 8, 9], 0xffffff, PUBLISHER_CHUNK));
    await dropped(closed);
    started.length = 0;
  });

  it('still takes a real publish afterwards', async () => {
    const pub = publishTestStream(`${server.url}/live/after-attack`, { seconds: 2 });
    await waitFor(() => started.length === 1, 8000, 'publish after the attack');
    assert.equal(await pub.exited, 0);
  });
});

describe('attack 12: peers on the RTMP port that never publish cannot hold its sockets or memory', () => {
  let server: RtmpServer;
  const peers: Peer[] = [];
  const started: IngestStream<unknown>[] = [];
  const open = async (from?: string) => {
    const peer = await handshake(server.port, from);
    peers.push(peer);
    return peer;
  };
  const hangUp = async (peer: Peer) => {
    peer.sock.destroy();
    await peer.closed;
    await sleep(100); // the server sees the close on its own turn
  };

  before(async () => {
    // small limits, as the defaults (32 a peer address, 512 in all, 64 MiB of room) scaled down
    server = await acceptingServer(started, { perAddress: 3, total: 5, room: 512 << 10 });
  });

  after(async () => {
    for (const p of peers) p.sock.destroy();
    await server.close();
  });

  it('refuses a peer address its fourth connection that has not published, and lets one in again when a place is free', async () => {
    const first = [await open(), await open(), await open()];
    const fourth = await tcp(server.port);
    await dropped(fourth.closed);
    await assert.rejects(handshake(server.port), /closed the connection/);
    await hangUp(first[0]!);
    await open();
    for (const p of peers.splice(0)) await hangUp(p);
  });

  it('refuses connections past the total from other addresses too', async () => {
    await open('127.0.0.2');
    await open('127.0.0.2');
    await open('127.0.0.3');
    await open('127.0.0.3');
    await open('127.0.0.4');
    await assert.rejects(handshake(server.port, '127.0.0.5'), /closed the connection/);
    for (const p of peers.splice(0)) await hangUp(p);
    await open('127.0.0.5');
    for (const p of peers.splice(0)) await hangUp(p);
  });

  it("drops the connection whose announced messages would pass the room all of them share, and gives back a closed one's room", async () => {
    // each announces three 60-KiB messages: ~183 KiB of room, under its own 256 KiB before a publish
    const announce = async (peer: Peer) => {
      peer.sock.write(messageStarts([3, 4, 5], 60 << 10));
      return stillOpen(peer.closed, 300);
    };
    const a = await open();
    const b = await open('127.0.0.2');
    assert.ok(await announce(a), 'the first fits');
    assert.ok(await announce(b), 'the second fits');
    const c = await open('127.0.0.3');
    assert.equal(await announce(c), false, 'the third would pass 512 KiB together and is dropped');
    assert.ok(await stillOpen(a.closed, 10), 'the first is still open');
    await hangUp(a);
    const d = await open('127.0.0.3');
    assert.ok(await announce(d), 'with the first gone its room is there again');
    for (const p of peers.splice(0)) await hangUp(p);
  });

  it('drops a publish waiting for its auth webhook whose frame would pass the shared room', async () => {
    const waiting = await publisher(server.port, 'waiting-1');
    peers.push(waiting);
    waiting.sock.write(messageStarts([6], 256 << 10, PUBLISHER_CHUNK));
    assert.ok(await stillOpen(waiting.closed, 300), 'a 256-KiB frame before its answer fits');
    waiting.sock.write(messageStarts([7], 512 << 10, PUBLISHER_CHUNK));
    await dropped(waiting.closed);
    for (const p of peers.splice(0)) await hangUp(p);
  });

  it('counts a connection only until its publish is accepted', async () => {
    const pub = await publisher(server.port, 'admitted');
    peers.push(pub);
    await waitFor(() => started.some((s) => s.manifestId === 'admitted'), 5000, 'the raw publish accepted');
    const others = [await open(), await open(), await open()];
    assert.ok(await stillOpen(pub.closed, 10), 'the publisher is still on');
    assert.ok(await stillOpen(others[2]!.closed, 10), 'three more from its address are let in');
  });
});

describe('attack 12: an IPv6 peer that takes a fresh address of its /64 for each connection', () => {
  // the listener hands the admission the socket's remote address as node gives it; this machine's loopback
  // has one IPv6 address, so the addresses a host would pick in its /64 are given here as such
  it('counts them all as one peer, and the next /64 as another', () => {
    const admission = new RtmpAdmission({ perAddress: 3, total: 100 });
    for (let i = 1; i <= 3; i++) assert.ok(admission.enter(`2001:db8:1:2::${i}`));
    assert.equal(admission.enter('2001:db8:1:2:ffff:ffff:ffff:fffe'), false, 'a fourth address of the same /64');
    assert.ok(admission.enter('2001:db8:1:3::1'), 'the next /64');
    admission.leave('2001:db8:1:2::2', 0);
    assert.ok(admission.enter('2001:db8:1:2::99'), 'a place given back is the /64’s again');
    assert.equal(admission.usage().connections, 4);
  });
});

describe('attack 12: a flood of refused RTMP connections is logged in a line a minute, its tail too', () => {
  it('one line at the first refusal; the ones after it, counted, when the server closes', async () => {
    const lines: { refused?: number; last?: string; msg: string }[] = [];
    const log = pino({ level: 'warn' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const registry = new StreamRegistry<unknown>({
      log: silentLogger(),
      authorize: () => Promise.resolve({ accept: true, context: undefined }),
      onStarted: () => {},
      onEnded: () => {},
    });
    const server = await startRtmpServer({ port: 0, registry, log, admission: { perAddress: 1, total: 5 } });
    const kept = await handshake(server.port);
    for (let i = 0; i < 4; i++) await dropped((await tcp(server.port)).closed);
    const refused = lines.filter((l) => /RTMP connections refused/.test(l.msg));
    assert.deepEqual(
      refused.map((l) => [l.refused, l.last]),
      [[1, '127.0.0.1']],
    );
    kept.sock.destroy();
    await server.close();
    assert.deepEqual(
      lines.filter((l) => /RTMP connections refused/.test(l.msg)).map((l) => l.refused),
      [1, 3],
      'the three refused after the first line are reported at close',
    );
  });
});
