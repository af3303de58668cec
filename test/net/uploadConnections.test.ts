// An orchestrator that does not read an upload must not hold up the next ones. Go's HTTP/2 server (what
// go-livepeer orchestrators run) returns the connection's flow-control window only as a handler reads the
// body, so every upload sharing a connection with one it leaves unread stalls behind it; and a busy
// connection moves at most its 1 MiB window per round trip. The next upload goes on a connection of its own.
import assert from 'node:assert/strict';
import type { Http2ServerRequest, ServerHttp2Session } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { streamCapabilities } from '../../src/net/capabilities.ts';
import { buildSegData } from '../../src/net/segData.ts';
import {
  CONNECTION_UPLOAD_BYTES,
  closeSegmentConnections,
  MAX_SESSIONS_PER_ORIGIN,
  pooledSessionCount,
  SegmentError,
  submitSegment,
  type SubmitSegmentRequest,
} from '../../src/net/segment.ts';
import { P144p30fps16x9, P240p30fps16x9, startTlsH2Server, type TlsH2Server } from './fixtures.ts';

const profiles = [P240p30fps16x9, P144p30fps16x9];
const capabilities = streamCapabilities({ profiles });
/** A 2 s segment at ~3.5 Mbit/s: one fits a connection's share, two do not. */
const SEGMENT_BYTES = 900_000;
let seq = 0n;

function request(uri: string): SubmitSegmentRequest {
  const body = Buffer.alloc(SEGMENT_BYTES, 0x47);
  const authToken = { token: new Uint8Array(32), sessionId: 'abcd1234', expiration: 1n };
  const segData = buildSegData({ manifestId: 'upload-test', seq: seq++, segment: body, profiles, durationMs: 2000, authToken, capabilities });
  return { transcoderUri: uri, segData, payment: undefined, body, durationMs: 2000 };
}

describe('uploads to one orchestrator', () => {
  let orch: TlsH2Server;
  let uri: string;
  /** each request the server got, with the connection it came on */
  const received: Array<{ req: Http2ServerRequest; session: ServerHttp2Session }> = [];
  let holdNext = 0;
  let arrived: () => void = () => {};

  before(async () => {
    // Node's default windows (64 KiB): an upload the server leaves unread cannot finish sending.
    orch = await startTlsH2Server((req, res) => {
      received.push({ req, session: req.stream.session as ServerHttp2Session });
      arrived();
      if (holdNext > 0) {
        holdNext -= 1;
        req.pause(); // read nothing, answer nothing: the body stays in the window
        return;
      }
      req.resume();
      req.on('end', () => {
        res.writeHead(503);
        res.end('busy');
      });
    });
    uri = orch.uri;
  });
  after(async () => {
    await closeSegmentConnections({ graceMs: 0 });
    await orch.close();
  });

  it('a connection share is less than two segments', () => {
    assert.ok(SEGMENT_BYTES <= CONNECTION_UPLOAD_BYTES && 2 * SEGMENT_BYTES > CONNECTION_UPLOAD_BYTES);
  });

  it('an upload the orchestrator leaves unread keeps its connection to itself; the next ones go on another and are answered', async () => {
    holdNext = 1;
    const gotFirst = new Promise<void>((r) => {
      arrived = r;
    });
    const held = submitSegment(request(uri)).catch((err: unknown) => err);
    await gotFirst;
    arrived = () => {};

    const t0 = performance.now();
    const outcomes = await Promise.allSettled([submitSegment(request(uri)), submitSegment(request(uri))]);
    for (const o of outcomes) {
      assert.equal(o.status, 'rejected');
      const err = (o as PromiseRejectedResult).reason as SegmentError;
      assert.ok(err instanceof SegmentError);
      assert.deepEqual([err.failure, err.status, err.message], ['http-status', 503, 'busy'], 'answered, not timed out behind the held upload');
    }
    assert.ok(performance.now() - t0 < 2000, 'before the 2-s header budget');
    const [first, ...rest] = received;
    for (const r of rest) assert.notEqual(r.session, first!.session, 'not on the connection of the upload left unread');
    assert.ok(pooledSessionCount(new URL(uri).origin) <= MAX_SESSIONS_PER_ORIGIN);

    // the held upload still fails on its own budget, as any unanswered segment does
    const err = (await held) as SegmentError;
    assert.equal(err.failure, 'timeout');
  });
});
