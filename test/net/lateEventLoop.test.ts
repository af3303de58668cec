// An orchestrator that answers in time is not failed because the gateway's event loop was late to read
// the answer (a busy core, a long collection): the deadline waits for the sockets ready by then; nor is
// an upload this process had no time to send failed as the orchestrator's. A peer that does not answer
// still fails at its deadline. The server runs in a process of its own, so blocking
// this one's event loop does not hold it back.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { getOrchestrator, OrchestratorRpcError } from '../../src/net/grpc.ts';
import { closeSegmentConnections, downloadRendition, RenditionDownloadError, SegmentError, submitSegment } from '../../src/net/segment.ts';
import { rejection } from '../helpers/rejection.ts';

// gRPC without TLS: GetOrchestrator answers an empty OrchestratorInfo after 300 ms
const GRPC_SERVER = `
const grpc = require('@grpc/grpc-js');
const server = new grpc.Server();
const same = (b) => b;
server.register('/net.Orchestrator/GetOrchestrator', (call, callback) => setTimeout(() => callback(null, Buffer.alloc(0)), 300), same, same, 'unary');
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => console.log(port));
`;

// h2c: GET /slow answers after 100 ms, GET /never never answers, POST /segment answers 200 once it has read
// the upload, POST /unread/segment neither reads nor answers; anything else at once
const SERVER = `
const http2 = require('node:http2');
const server = http2.createServer((req, res) => {
  if (req.url === '/never' || req.url === '/unread/segment') return;
  if (req.url === '/segment') {
    req.resume();
    req.on('end', () => res.writeHead(200).end());
    return;
  }
  const answer = () => res.writeHead(200, { 'content-length': '1000' }).end(Buffer.alloc(1000, 7));
  if (req.url === '/slow') setTimeout(answer, 100); else answer();
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

/** Holds this thread (and so its event loop) for `ms`. */
function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: the point is that nothing else runs
  }
}

describe('deadlines when the event loop is late', () => {
  let server: ChildProcess;
  let origin: string;
  before(async () => {
    server = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(server.stdout!, 'data')) as [Buffer];
    origin = `http://127.0.0.1:${line.toString().trim()}`;
    // the pooled connection is open before the timed requests
    await downloadRendition(`${origin}/warm`, { timeoutMs: 2000 });
  });
  let grpcServer: ChildProcess;
  let grpcUri: string;
  before(async () => {
    grpcServer = spawn(process.execPath, ['-e', GRPC_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(grpcServer.stdout!, 'data')) as [Buffer];
    grpcUri = `http://127.0.0.1:${line.toString().trim()}`;
  });
  after(async () => {
    await closeSegmentConnections({ graceMs: 0 });
    server.kill();
    grpcServer.kill();
  });

  it('keeps an answer that arrived before the deadline but was read after it', async () => {
    const started = performance.now();
    const download = downloadRendition(`${origin}/slow`, { timeoutMs: 300 });
    // the request is out by 50 ms; the answer arrives at ~100 ms, while this loop is held until ~1050 ms,
    // well past the 300-ms deadline. Held outside the timers' phase, as work on a socket's data would be
    // (within it, Node would not see the deadline's time pass until the next turn).
    setTimeout(() => setImmediate(() => blockEventLoop(1000)), 50);
    const body = await download;
    assert.equal(body.length, 1000);
    assert.ok(performance.now() - started >= 1000, 'the event loop was held past the deadline');
  });

  it('still fails a peer that does not answer, at its deadline', async () => {
    const started = performance.now();
    await assert.rejects(downloadRendition(`${origin}/never`, { timeoutMs: 300 }), (err: unknown) => {
      assert.ok(err instanceof RenditionDownloadError);
      assert.match(err.message, /after 300 ms|within 300 ms/);
      return true;
    });
    const took = performance.now() - started;
    assert.ok(took >= 290 && took < 1000, `failed after ${took.toFixed(0)} ms`);
  });

  it('fails a peer that answered after the deadline, even when the loop was late too', async () => {
    // the answer comes at ~100 ms, the deadline is 60 ms, and the loop is free: it expires first
    await assert.rejects(downloadRendition(`${origin}/slow`, { timeoutMs: 60 }), RenditionDownloadError);
  });

  it('keeps a GetOrchestrator reply that arrived before the deadline but was read after it', async () => {
    const request = { address: new Uint8Array(20) };
    // connected (a new connection per call) within a few ms, answered at ~300 ms, the deadline at 500 ms,
    // and the loop held from 150 to ~1150 ms
    const call = getOrchestrator(grpcUri, request, { timeoutMs: 500 });
    setTimeout(() => setImmediate(() => blockEventLoop(1000)), 150);
    await call;
    // and one that is not answered in time still fails as a timeout
    await assert.rejects(getOrchestrator(grpcUri, request, { timeoutMs: 200 }), (err: unknown) => {
      assert.ok(err instanceof OrchestratorRpcError);
      assert.equal(err.failure, 'timeout');
      return true;
    });
  });

  /** An upload of `bytes` (more than the server's 64-KiB window: most of it waits on our event loop). */
  const upload = (transcoderUri: string, bytes: number) =>
    submitSegment({
      transcoderUri,
      segData: {
        manifestId: Buffer.from('late-loop'),
        seq: 0n,
        hash: new Uint8Array(32),
      },
      payment: undefined,
      body: Buffer.alloc(bytes, 1),
      durationMs: 2000,
      download: false,
    });
  const failure = (p: Promise<unknown>): Promise<SegmentError> => rejection(p, SegmentError);

  it('does not fail an upload as the orchestrator’s when this process had no time to send it', async () => {
    const started = performance.now();
    const attempt = failure(upload(origin, 4 << 20));
    // held from ~20 ms to ~2300 ms, past the 2-s deadline for the response headers: the upload's bytes
    // are still ours to send when it expires
    setTimeout(() => setImmediate(() => blockEventLoop(2280)), 20);
    const err = await attempt;
    // the orchestrator's 200 was read (its empty body is what fails), not a timeout
    assert.equal(err.failure, 'unknown-response', err.message);
    assert.equal(err.status, 200);
    assert.ok(performance.now() - started >= 2280, 'the event loop was held past the deadline');
  });

  it('still fails at its deadline an orchestrator that does not read the upload, while this process is free', async () => {
    const started = performance.now();
    const err = await failure(upload(`${origin}/unread`, 4 << 20));
    const took = performance.now() - started;
    assert.equal(err.failure, 'timeout', err.message);
    assert.match(err.message, /no response headers after 2000 ms \(\d+ of 4194304 upload bytes sent\)/);
    assert.ok(took >= 1990 && took < 3000, `failed after ${took.toFixed(0)} ms`);
  });
});
