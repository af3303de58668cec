// The devnet orchestrator never crashes on a peer's bytes, its fault switches do what they say, and
// its command line starts, reports readiness and stops the way the devnet launcher expects.
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { connect as h2connect } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startOrchestrator, type RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { streamCapabilities } from '../../src/net/capabilities.ts';
import { getOrchestrator } from '../../src/net/grpc.ts';
import { buildSegData } from '../../src/net/segData.ts';
import { encodeMessage } from '../../src/wire/lpRpc.ts';
import { closeSegmentConnections, SegmentError, submitSegment } from '../../src/net/segment.ts';
import { startOrchestratorCommand } from '../helpers/orchestratorCommand.ts';
import { makeTestClip, P144p30fps16x9 } from '../net/fixtures.ts';

const profiles = [P144p30fps16x9];
const capabilities = streamCapabilities({ profiles });
const request = { address: new Uint8Array(20), capabilities };

function https1(uri: string, path: string, headers: Record<string, string>, body = ''): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${uri}${path}`, { method: 'POST', headers, rejectUnauthorized: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: text.trim() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function rawBytes(port: number, bytes: Buffer, tls: boolean): Promise<void> {
  return new Promise((resolve) => {
    const socket = tls
      ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['h2'] }, () => socket.end(bytes))
      : netConnect({ host: '127.0.0.1', port }, () => socket.end(bytes));
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.setTimeout(500, () => socket.destroy());
  });
}

describe('devnet orchestrator robustness and faults', () => {
  let clip: Buffer;
  let orch: RunningOrchestrator;
  before(async () => {
    clip = await makeTestClip();
    orch = await startOrchestrator({ logLevel: 'silent' });
  });
  after(async () => {
    await orch?.stop();
    await closeSegmentConnections();
  });

  it('survives garbage on the socket, in TLS, in HTTP/2 frames and in gRPC bodies', async () => {
    const { port } = orch;
    await rawBytes(port, Buffer.from('GET / HTTP/1.1\r\n\r\n garbage \x00\xff'), false);
    await rawBytes(port, Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 0x00, 0x01]), false);
    await rawBytes(port, Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.alloc(64, 0xff)]), true);
    await rawBytes(port, Buffer.alloc(300, 0x41), true);

    // gRPC with a truncated frame, a compressed flag and an undecodable message.
    const session = h2connect(orch.uri, { rejectUnauthorized: false });
    session.on('error', () => {});
    const call = (body: Buffer): Promise<string | undefined> =>
      new Promise((resolve) => {
        const s = session.request({ ':method': 'POST', ':path': '/net.Orchestrator/GetOrchestrator', 'content-type': 'application/grpc' });
        let status: string | undefined;
        s.on('response', (h) => (status = h['grpc-status'] as string | undefined));
        s.on('trailers', (h) => (status = h['grpc-status'] as string | undefined));
        s.on('error', () => resolve(status));
        s.on('close', () => resolve(status));
        s.resume();
        s.end(body);
      });
    assert.equal(await call(Buffer.from([0, 0, 0])), '13');
    assert.equal(await call(Buffer.from([1, 0, 0, 0, 1, 0])), '12');
    assert.equal(await call(Buffer.from([0, 0, 0, 0, 4, 0x0a, 0xff, 0xff, 0xff])), '13');
    session.close();

    // Still serving.
    const info = await getOrchestrator(orch.uri, request);
    assert.equal(info.transcoder, orch.uri);
  });

  it('answers /segment over HTTP/1.1 with go-livepeer status codes for bad headers', async () => {
    assert.deepEqual(await https1(orch.uri, '/segment', { 'livepeer-payment': '!!!' }), { status: 402, text: 'could not decode payment: illegal base64 data' });
    assert.equal((await https1(orch.uri, '/segment', { 'livepeer-payment': 'CgE=' })).status, 402, 'truncated protobuf');
    assert.deepEqual(await https1(orch.uri, '/segment', { 'livepeer-segment': 'not base64' }), { status: 403, text: 'ErrorSegEncoding' });
    assert.deepEqual(await https1(orch.uri, '/segment', {}), { status: 403, text: 'missing auth token' });
    assert.equal((await https1(orch.uri, '/nothing-here', {})).status, 404);
  });

  it('refuses bodies larger than it reads, on what the peer declares, without waiting for the bytes', { timeout: 60_000 }, async () => {
    const session = h2connect(orch.uri, { rejectUnauthorized: false });
    session.on('error', () => {});
    // Each request declares a size and never ends its body: only a refusal made on the declaration answers.
    const answer = (headers: Record<string, string>, body: Buffer): Promise<{ status?: number; grpc?: string; text: string }> =>
      new Promise((resolve) => {
        const s = session.request({ ':method': 'POST', ...headers });
        const out: { status?: number; grpc?: string; text: string } = { text: '' };
        s.on('response', (h) => {
          out.status = h[':status'];
          out.grpc = h['grpc-status'] as string | undefined;
        });
        s.on('data', (c: Buffer) => (out.text += c.toString()));
        s.on('end', () => resolve(out));
        s.on('error', () => resolve(out));
        s.on('close', () => resolve(out));
        s.write(body);
      });
    try {
      const grpc = await answer(
        { ':path': '/net.Orchestrator/GetOrchestrator', 'content-type': 'application/grpc', 'content-length': String(4 * 1024 * 1024 + 1) },
        Buffer.from([0, 0, 0, 0, 0]),
      );
      assert.equal(grpc.grpc, '8', 'RESOURCE_EXHAUSTED');

      const info = await getOrchestrator(orch.uri, request);
      const segData = buildSegData({ manifestId: 'big', seq: 0n, segment: clip, profiles, durationMs: 2000, authToken: info.authToken!, capabilities });
      const segHeaders = { ':path': '/segment', 'livepeer-segment': Buffer.from(encodeMessage('SegData', segData)).toString('base64'), 'livepeer-payment': '' };
      const segment = await answer({ ...segHeaders, 'content-length': String(300_000_001) }, clip.subarray(0, 1000));
      assert.deepEqual([segment.status, segment.text.trim()], [500, 'Internal Server Error']);

      // A segment sent by URL: the body is a URL, and nothing near a megabyte is one.
      const url = await answer({ ...segHeaders, 'content-type': 'application/vnd+livepeer.uri', 'content-length': String(1_000_000) }, Buffer.alloc(100, 0x61));
      assert.deepEqual([url.status, url.text.trim()], [500, 'Internal Server Error']);
    } finally {
      session.destroy();
    }
    assert.equal((await getOrchestrator(orch.uri, request)).transcoder, orch.uri, 'still serving');
  });

  it('a TranscodeResult error on every nth segment, with the configured text', async () => {
    const o = await startOrchestrator({ logLevel: 'silent', faults: { failEvery: 2, failError: 'TranscoderInvalidVideo' } });
    try {
      const info = await getOrchestrator(o.uri, request);
      const send = (seq: bigint) =>
        submitSegment({
          transcoderUri: o.uri,
          segData: buildSegData({ manifestId: 'f', seq, segment: clip, profiles, durationMs: 2000, authToken: info.authToken!, capabilities }),
          payment: undefined,
          body: clip,
          durationMs: 2000,
        });
      await send(0n);
      await assert.rejects(send(1n), (e: unknown) => e instanceof SegmentError && e.message === 'TranscoderInvalidVideo' && !e.retryable);
      await send(2n);
      assert.equal(o.stats.segments, 3);
      assert.equal(o.stats.segmentErrors, 1);
    } finally {
      await o.stop();
    }
  });

  it('dieAfter closes the server once the nth segment and its renditions are served', async () => {
    const o = await startOrchestrator({ logLevel: 'silent', faults: { dieAfter: 1 } });
    const info = await getOrchestrator(o.uri, request);
    const segData = buildSegData({ manifestId: 'd', seq: 0n, segment: clip, profiles, durationMs: 2000, authToken: info.authToken!, capabilities });
    await submitSegment({ transcoderUri: o.uri, segData, payment: undefined, body: clip, durationMs: 2000 });
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(getOrchestrator(o.uri, request), /could not connect/);
    await o.stop();
  });

  it('the command line prints a ready line, serves, and exits on SIGTERM', async () => {
    const main = fileURLToPath(new URL('../../scripts/devnet/orchestrator/main.ts', import.meta.url));
    const o = await startOrchestratorCommand(['--import', 'tsx', main], ['--log-level', 'info', '--max-sessions', '3']);
    try {
      assert.match(o.ready.uri, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(o.ready.maxSessions, 3);
      assert.equal((await getOrchestrator(o.ready.uri, request)).transcoder, o.ready.uri);
      assert.equal(await o.stop(), 0);
    } finally {
      if (o.child.exitCode === null) o.child.kill('SIGKILL');
    }
  });
});
