// The segment client against the devnet orchestrator (off-chain mode) over real TLS HTTP/2 and real
// ffmpeg, plus hand-made servers for answers the orchestrator does not give on demand.
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startOrchestrator, type OrchestratorOptions, type RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { streamCapabilities } from '../../src/net/capabilities.ts';
import { getOrchestrator } from '../../src/net/grpc.ts';
import type { OrchestratorInfo } from '../../src/wire/lpRpc.ts';
import { buildSegData } from '../../src/net/segData.ts';
import {
  closeSegmentConnections,
  downloadRendition,
  MAX_SESSIONS_PER_ORIGIN,
  pooledSessionCount,
  RenditionDownloadError,
  segmentTimeouts,
  SegmentError,
  submitSegment,
  type SubmitSegmentRequest,
} from '../../src/net/segment.ts';
import { makeTestClip, P144p30fps16x9, P240p30fps16x9, probe, startTlsH2Server, type TlsH2Server } from './fixtures.ts';
import { rejection } from '../helpers/rejection.ts';

const profiles = [P240p30fps16x9, P144p30fps16x9];
const capabilities = streamCapabilities({ profiles });
let clip: Buffer;
let seq = 0n;

async function session(orch: RunningOrchestrator): Promise<OrchestratorInfo> {
  return getOrchestrator(orch.uri, { address: new Uint8Array(20), capabilities });
}

function segmentRequest(info: OrchestratorInfo, body: Buffer = clip, overrides: Partial<SubmitSegmentRequest> = {}): SubmitSegmentRequest {
  const segData = buildSegData({
    manifestId: 'net-test',
    seq: seq++,
    segment: body,
    profiles,
    durationMs: 2000,
    authToken: info.authToken!,
    capabilities,
  });
  return { transcoderUri: info.transcoder!, segData, payment: undefined, body, durationMs: 2000, ...overrides };
}

const segmentError = (p: Promise<unknown>): Promise<SegmentError> => rejection(p, SegmentError);

const started: RunningOrchestrator[] = [];
async function orchestrator(opts: OrchestratorOptions = {}): Promise<RunningOrchestrator> {
  const o = await startOrchestrator({ logLevel: 'silent', ...opts });
  started.push(o);
  return o;
}

describe('segment client', () => {
  before(async () => {
    clip = await makeTestClip();
  });
  after(async () => {
    await Promise.all(started.map((o) => o.stop()));
    await closeSegmentConnections();
  });

  describe('submitSegment against the devnet orchestrator', () => {
    it('returns every rendition at the requested resolution, in profile order', async () => {
      const orch = await orchestrator();
      const info = await session(orch);
      const res = await submitSegment(segmentRequest(info));
      assert.equal(res.renditions.length, 2);
      for (const [i, r] of res.renditions.entries()) {
        const p = profiles[i]!;
        assert.match(r.url, new RegExp(`^${orch.uri}/stream/${info.authToken!.sessionId}/${p.name}/\\d+\\.ts$`));
        const meta = await probe(r.data!);
        assert.deepEqual([meta.width, meta.height, meta.codec], [p.width, p.height, 'h264']);
        assert.equal(r.pixels, BigInt(p.width * p.height * meta.frames), 'pixels = W × H × frames');
      }
      assert.equal(res.pixels, res.renditions[0]!.pixels + res.renditions[1]!.pixels);
      assert.equal(res.sig.length, 0, 'an off-chain orchestrator does not sign results');
      assert.equal(res.info?.authToken?.sessionId, info.authToken!.sessionId, 'the refreshed info keeps the session');
      assert.ok(res.uploadMs <= res.transcodeMs && res.transcodeMs <= res.latencyMs);
    });

    it('maps refusals to http-status errors with the orchestrator text', async () => {
      const orch = await orchestrator();
      const info = await session(orch);

      const forged = { ...info, authToken: { ...info.authToken!, token: new Uint8Array(32) } };
      let err = await segmentError(submitSegment(segmentRequest(forged)));
      assert.deepEqual([err.failure, err.status, err.message, err.sent], ['http-status', 403, 'invalid auth token', true]);

      const req = segmentRequest(info);
      err = await segmentError(submitSegment({ ...req, body: Buffer.concat([clip, Buffer.from([0])]) }));
      assert.deepEqual([err.status, err.message], [403, 'Forbidden'], 'body hash mismatch');

      const refusing = await orchestrator({ faults: { refusePayment: true } });
      err = await segmentError(submitSegment(segmentRequest(await session(refusing))));
      assert.equal(err.status, 400);
      assert.match(err.message, /payment refused/);
    });

    it('TranscodeResult errors carry the text and whether another orchestrator may succeed', async () => {
      const busy = await orchestrator({ faults: { failEvery: 1 } });
      let err = await segmentError(submitSegment(segmentRequest(await session(busy))));
      assert.deepEqual([err.failure, err.message, err.retryable, err.sent], ['transcode', 'OrchestratorBusy', true, true]);
      assert.ok(err.info?.transcoder, 'the refreshed info still arrives with an error');

      const orch = await orchestrator();
      const garbage = Buffer.from('this is not a video segment');
      err = await segmentError(submitSegment(segmentRequest(await session(orch), garbage)));
      assert.deepEqual([err.failure, err.message, err.retryable], ['transcode', 'TranscoderInvalidVideo', false]);
    });

    it('a garbage 200 body is a typed error, not a crash', async () => {
      const orch = await orchestrator({ faults: { malformedResponse: true } });
      const err = await segmentError(submitSegment(segmentRequest(await session(orch))));
      assert.equal(err.failure, 'malformed-response');
      assert.equal(err.retryable, true);
    });

    it('a stalled orchestrator hits the upload budget of max(2 s, duration/2)', async () => {
      const orch = await orchestrator({ faults: { stallMs: 5000 } });
      const info = await session(orch);
      const t0 = Date.now();
      const err = await segmentError(submitSegment(segmentRequest(info, clip, { durationMs: 1000 })));
      const took = Date.now() - t0;
      assert.equal(err.failure, 'timeout');
      assert.equal(err.sent, true);
      assert.ok(took >= 1900 && took < 3500, `took ${took} ms`);
    });

    it('an unreachable orchestrator fails as "connect" with the payment unsent', async () => {
      const orch = await orchestrator();
      const info = await session(orch);
      await orch.stop();
      const err = await segmentError(submitSegment(segmentRequest(info)));
      assert.deepEqual([err.failure, err.sent, err.retryable], ['connect', false, true]);
    });

    it('many concurrent 1 MB uploads to one orchestrator all succeed, and refusals among them stay refusals', async () => {
      // Node resets every stream whose response headers arrive while its session holds more queued upload
      // data than its memory limit (ENHANCE_YOUR_CALM): the refusals below answer while uploads are queued.
      const orch = await orchestrator({ transcoding: 'prerendered', maxSessions: 40 });
      const body = Buffer.concat([clip, Buffer.alloc(1_000_000 - clip.length, 0x47)]);
      const infos = await Promise.all(Array.from({ length: 24 }, () => session(orch)));
      const outcomes = await Promise.allSettled(
        infos.map((info, i) => {
          const forged = i % 4 === 3 ? { ...info, authToken: { ...info.authToken!, token: new Uint8Array(32) } } : info;
          // generous budgets: the test is about resets, not speed on a loaded machine
          return submitSegment(segmentRequest(forged, body, { timeoutMultiplier: 10 }));
        }),
      );
      outcomes.forEach((o, i) => {
        if (i % 4 === 3) {
          assert.equal(o.status, 'rejected');
          const err = (o as PromiseRejectedResult).reason as SegmentError;
          assert.deepEqual([err.failure, err.status], ['http-status', 403], `refusal ${i}: ${err.message}`);
        } else {
          assert.equal(o.status, 'fulfilled', `upload ${i}: ${o.status === 'rejected' ? String(o.reason) : ''}`);
          assert.equal((o as PromiseFulfilledResult<Awaited<ReturnType<typeof submitSegment>>>).value.renditions.length, 2);
        }
      });
      const origin = new URL(orch.uri).origin;
      assert.ok(pooledSessionCount(origin) <= MAX_SESSIONS_PER_ORIGIN, 'connections to one orchestrator stay bounded');
    });

    it('renditions of ended sessions are gone (404)', async () => {
      const orch = await orchestrator();
      const info = await session(orch);
      const res = await submitSegment(segmentRequest(info, clip, { download: false }));
      assert.equal(res.renditions[0]!.data, undefined);
      const { endTranscodingSession } = await import('../../src/net/grpc.ts');
      await endTranscodingSession(orch.uri, info.authToken!);
      await assert.rejects(downloadRendition(res.renditions[0]!.url), (e: unknown) => e instanceof RenditionDownloadError && e.status === 404);
    });
  });

  describe('submitSegment answers a real orchestrator rarely gives', () => {
    let orch: TlsH2Server;
    let uri: string;
    let answer: (res: import('node:http2').Http2ServerResponse) => void = () => {};
    before(async () => {
      orch = await startTlsH2Server((req, res) => {
        req.resume();
        req.on('end', () => answer(res));
      });
      uri = orch.uri;
    });
    after(async () => {
      await closeSegmentConnections();
      await orch.close();
    });

    const fakeInfo = (): OrchestratorInfo => ({ transcoder: uri, authToken: { token: new Uint8Array(32), sessionId: 'abcd1234', expiration: 1n } });

    it('an empty 200 body is UnknownResponse', async () => {
      answer = (res) => res.end();
      const err = await segmentError(submitSegment(segmentRequest(fakeInfo())));
      assert.deepEqual([err.failure, err.message], ['unknown-response', 'UnknownResponse']);
    });

    it('non-200 bodies are trimmed into the message', async () => {
      answer = (res) => {
        res.writeHead(503);
        res.end('  overloaded, come back later \n');
      };
      const err = await segmentError(submitSegment(segmentRequest(fakeInfo())));
      assert.deepEqual([err.failure, err.status, err.message], ['http-status', 503, 'overloaded, come back later']);
    });

    it('headers that arrive but a body that never ends hit the whole-request budget', async () => {
      answer = (res) => {
        res.writeHead(200);
        res.write(Buffer.from([0x08]));
      };
      const t0 = Date.now();
      const err = await segmentError(submitSegment(segmentRequest(fakeInfo(), clip, { timeoutMultiplier: 0.1 })));
      assert.equal(err.failure, 'timeout');
      assert.ok(Date.now() - t0 >= 7900, 'max(8 s, 4 × duration) with no multiplier below 1');
    });

    it('an answer declaring more bytes than the cap fails at its headers, not when the budget runs out', async () => {
      answer = (res) => {
        res.writeHead(200, { 'content-length': String(17 * 1024 * 1024) });
        res.write(Buffer.from([0x08]));
      };
      const t0 = Date.now();
      const err = await segmentError(submitSegment(segmentRequest(fakeInfo())));
      assert.equal(err.failure, 'network');
      assert.match(err.message, /larger than 16777216 bytes/);
      assert.ok(Date.now() - t0 < 4000, `failed after ${Date.now() - t0} ms`);
    });
  });

  describe('downloadRendition', () => {
    let http1: HttpServer;
    let base: string;
    before(async () => {
      http1 = createHttpServer((req, res) => {
        if (req.url === '/big') {
          res.end(Buffer.alloc(2048));
        } else if (req.url === '/ok') {
          res.end('rendition bytes');
        } else {
          res.writeHead(404);
          res.end('nope');
        }
      });
      await new Promise<void>((r) => http1.listen(0, '127.0.0.1', () => r()));
      base = `http://127.0.0.1:${(http1.address() as AddressInfo).port}`;
    });
    after(async () => {
      http1.closeAllConnections();
      await new Promise<void>((r) => http1.close(() => r()));
    });

    it('falls back to HTTP/1.1 for servers without HTTP/2', async () => {
      assert.equal((await downloadRendition(`${base}/ok`)).toString(), 'rendition bytes');
    });

    it('requires 200 and caps the size', async () => {
      await assert.rejects(downloadRendition(`${base}/missing`), (e: unknown) => e instanceof RenditionDownloadError && e.status === 404);
      await assert.rejects(downloadRendition(`${base}/big`, { maxBytes: 1000 }), RenditionDownloadError);
    });

    it('a rendition declaring more bytes than the cap fails at its headers, whatever follows', async () => {
      // answers every connection (the HTTP/2 attempt first, then HTTP/1.1) with a length past the cap, then stalls
      const conns = new Set<Socket>();
      const liar = createNetServer((s) => {
        conns.add(s);
        s.on('error', () => {});
        s.once('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n0123456789'));
      });
      await new Promise<void>((r) => liar.listen(0, '127.0.0.1', () => r()));
      try {
        const t0 = Date.now();
        await assert.rejects(
          downloadRendition(`http://127.0.0.1:${(liar.address() as AddressInfo).port}/r.ts`, { maxBytes: 1000, timeoutMs: 3000 }),
          (e: unknown) => e instanceof RenditionDownloadError && /larger than 1000 bytes/.test(e.message),
        );
        assert.ok(Date.now() - t0 < 2500, `failed after ${Date.now() - t0} ms, not at the headers`);
      } finally {
        for (const c of conns) c.destroy();
        await new Promise<void>((r) => liar.close(() => r()));
      }
    });
  });

  describe('segmentTimeouts', () => {
    it('follows go-livepeer: max(2 s, dur/2) until headers, max(8 s, 4 × dur) in all', () => {
      assert.deepEqual(segmentTimeouts(2000), { uploadMs: 2000, totalMs: 8000 });
      assert.deepEqual(segmentTimeouts(6000), { uploadMs: 3000, totalMs: 24000 });
      assert.deepEqual(segmentTimeouts(6000, 2), { uploadMs: 6000, totalMs: 48000 });
    });
  });
});
