import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { encodeMultipart } from '../../src/ingest/multipart.ts';
import { createPushRoute, type PushRendition, type PushSegment } from '../../src/ingest/push.ts';
import { StreamRegistry, type IngestStream, type PublishDecision, type PublishRequest } from '../../src/ingest/streamRegistry.ts';
import { HttpError } from '../../src/lib/errors.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { startHttpListener, type HttpListener } from '../../src/server/http.ts';
import { makeTestClip } from '../media/testMedia.ts';

interface Ctx {
  n: number;
}

/** Split a multipart/mixed body into parts (headers lower-cased). */
function parseMultipart(body: Buffer, boundary: string): Array<{ headers: Record<string, string>; body: Buffer }> {
  const delim = Buffer.from(`--${boundary}`);
  const parts: Array<{ headers: Record<string, string>; body: Buffer }> = [];
  let pos = body.indexOf(delim);
  assert.equal(pos, 0, 'body starts with the first boundary');
  for (;;) {
    const afterDelim: number = pos + delim.length;
    if (body.subarray(afterDelim, afterDelim + 2).toString() === '--') break;
    assert.equal(body.subarray(afterDelim, afterDelim + 2).toString(), '\r\n');
    const headEnd = body.indexOf('\r\n\r\n', afterDelim);
    const headers: Record<string, string> = {};
    for (const line of body
      .subarray(afterDelim + 2, headEnd)
      .toString()
      .split('\r\n')) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headEnd + 4);
    assert.ok(next > 0, 'part is closed by a boundary');
    parts.push({ headers, body: body.subarray(headEnd + 4, next) });
    pos = next + 2;
  }
  return parts;
}

const IDLE_MS = 60_000;
const MAX_SEGMENT_BYTES = 4 * 1024 * 1024;

describe('HTTP push ingest (real HTTP, real ffprobe)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'push-test-'));
  let segment: Buffer;
  let mp4: Buffer;
  let http: HttpListener;
  let registry: StreamRegistry<Ctx>;
  // The idle watchdog runs on this clock, moved by hand: no test depends on how fast the machine is.
  let clock = 0;
  let authorize: (req: PublishRequest) => Promise<PublishDecision<Ctx>>;
  let transcode: (s: PushSegment<Ctx>) => Promise<PushRendition[]>;
  const auths: PublishRequest[] = [];
  const segs: PushSegment<Ctx>[] = [];
  const ended: Array<[IngestStream<Ctx>, string]> = [];

  before(async () => {
    makeTestClip(join(dir, 'seg.ts'), { seconds: 2, gopSeconds: 2 });
    makeTestClip(join(dir, 'seg.mp4'), { seconds: 1, gopSeconds: 1 });
    segment = readFileSync(join(dir, 'seg.ts'));
    mp4 = readFileSync(join(dir, 'seg.mp4'));
    registry = new StreamRegistry<Ctx>({
      authorize: (req) => {
        auths.push(req);
        return authorize(req);
      },
      onEnded: (s, reason) => ended.push([s, reason]),
      idleTimeoutMs: IDLE_MS,
      now: () => clock,
      log: silentLogger(),
    });
    const route = createPushRoute<Ctx>({
      registry,
      transcode: (s) => {
        segs.push(s);
        return transcode(s);
      },
      maxSegmentBytes: MAX_SEGMENT_BYTES,
      log: silentLogger(),
    });
    http = await startHttpListener({ log: silentLogger(), port: 0, routes: [route] });
  });
  after(async () => {
    registry.close('test over');
    await http.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    for (const st of registry.streams()) registry.end(st, 'test reset');
    auths.length = 0;
    segs.length = 0;
    ended.length = 0;
    let n = 0;
    authorize = async () => ({ accept: true, context: { n: n++ } });
    transcode = async (s) => [
      { name: 'P240p30fps16x9', format: s.format, data: Buffer.from(`low-${s.seq}`) },
      { name: 'P360p30fps16x9', format: s.format, data: Buffer.from(`high-${s.seq}`) },
    ];
  });

  const put = (path: string, body: Buffer | string, headers: Record<string, string> = {}, method = 'PUT') => fetch(http.url + path, { method, body, headers });

  it('takes a real segment and answers multipart/mixed, one part per rendition', async () => {
    const res = await put('/live/pushy/7.ts', segment, {
      Accept: 'multipart/mixed',
      'Content-Duration': '2000',
      'Content-Resolution': '320x180',
    });
    assert.equal(res.status, 200);
    const ctype = res.headers.get('content-type')!;
    const boundary = /^multipart\/mixed; boundary=(\S+)$/.exec(ctype)?.[1];
    assert.ok(boundary, ctype);
    const parts = parseMultipart(Buffer.from(await res.arrayBuffer()), boundary);
    assert.equal(parts.length, 2);
    assert.deepEqual(parts[0]!.headers, {
      'content-disposition': 'attachment; filename="P240p30fps16x9_7.ts"',
      'content-length': '5',
      'content-type': 'video/mp2t; name="P240p30fps16x9_7.ts"',
      'rendition-name': 'P240p30fps16x9',
    });
    assert.equal(parts[0]!.body.toString(), 'low-7');
    assert.equal(parts[1]!.headers['rendition-name'], 'P360p30fps16x9');
    assert.equal(parts[1]!.body.toString(), 'high-7');

    assert.equal(auths.length, 1);
    assert.deepEqual([auths[0]!.ingest, auths[0]!.urlId], ['push', 'pushy']);
    assert.equal(auths[0]!.url, `http://127.0.0.1:${http.port}/live/pushy/7.ts`);
    const s = segs[0]!;
    assert.equal(s.seq, 7);
    assert.equal(s.durationMs, 2000);
    assert.equal(s.format, 'mpegts');
    assert.deepEqual(s.resolution, { width: 320, height: 180 });
    assert.equal(s.media.videoCodec, 'h264');
    assert.equal(s.data.length, segment.length);
    assert.equal(s.forceSessionReinit, false);
    assert.equal(s.clip, undefined);
  });

  it('answers 200 with an empty body without Accept: multipart/mixed, and reuses the stream', async () => {
    const a = await put('/live/plain/0.ts', segment, { 'Content-Duration': 'two seconds' }, 'POST');
    assert.equal(a.status, 200);
    assert.equal(await a.text(), '');
    const b = await put('/live/plain/1.ts', segment);
    assert.equal(b.status, 200);
    assert.equal(auths.length, 1, 'authorized once per stream');
    assert.deepEqual(
      segs.map((s) => [s.seq, s.durationMs, s.stream.context.n]),
      [
        [0, 2000, 0],
        [1, 2000, 0],
      ],
      'default duration 2000 ms; same stream context',
    );
    assert.ok(registry.pushStream('plain'));
  });

  it('applies the 405 and 400 rules', async () => {
    const get = await fetch(`${http.url}/live/x/0.ts`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST, PUT');
    assert.equal((await fetch(`${http.url}/live/x/0.ts`, { method: 'DELETE' })).status, 405);
    const m3u8 = await put('/live/x/index.m3u8', '#EXTM3U');
    assert.equal(m3u8.status, 400);
    assert.match(await m3u8.text(), /ignoring file extension: \.m3u8/);
    assert.equal((await put('/live/x/0.flv', segment)).status, 400);
    assert.equal((await put('/live/x/0', segment)).status, 400);
    assert.equal((await put('/live/0.ts', segment)).status, 200, 'the file name is the manifest ID when there is no folder');
    assert.equal((await put('/live/x/0.ts', segment, { 'Livepeer-Transcode-Configuration': '{bad json' })).status, 400);
    assert.equal((await put('/live/x/0.ts', segment, { 'Livepeer-Transcode-Configuration': '{"profiles": 5}' })).status, 400);
    assert.equal((await put('/live/x/0.ts', segment, { 'Content-Slice-From': '3000', 'Content-Slice-To': '1000' })).status, 400);
    assert.equal((await put('/live/x/0.ts', segment, { 'Content-Duration': '-2000' })).status, 400, 'a negative duration');
    assert.equal((await put('/live/x/0.ts', segment, { 'Content-Duration': '99999999999' })).status, 400, 'longer than 5 minutes');
    assert.equal(auths.filter((a) => a.urlId === 'x').length, 0, 'bad requests never reach authorization');
  });

  it('answers 422 for bytes ffprobe cannot read; the stream was authorized before its body was read', async () => {
    const res = await put('/live/junk/0.ts', Buffer.from('this is not a video segment'));
    assert.equal(res.status, 422);
    assert.equal(auths.length, 1);
  });

  it('answers 413 for a body over the limit, declared or streamed, and closes the connection', async () => {
    const declared = await rawPut('/live/big/0.ts', MAX_SEGMENT_BYTES + 1, Buffer.alloc(16));
    assert.equal(declared.status, 413);
    assert.equal(declared.headers.connection, 'close');
    assert.equal(auths.length, 0, 'a declared length over the limit is refused before anyone is asked');
    const streamed = await rawPut('/live/big/0.ts', undefined, Buffer.alloc(MAX_SEGMENT_BYTES + 64 * 1024));
    assert.equal(streamed.status, 413);
    assert.equal(auths.length, 1, 'a chunked body is authorized first, then cut at the limit');
    assert.equal((await put('/live/after/0.ts', segment)).status, 200, 'the listener still takes pushes');
  });

  it('answers the authorization verdict: its status when refused, 500 when the hook fails', async () => {
    authorize = async () => ({ accept: false, status: 403, reason: 'webhook said no' });
    const denied = await put('/live/denied/0.ts', segment);
    assert.equal(denied.status, 403);
    assert.match(await denied.text(), /^Could not create stream ID: webhook said no/);
    authorize = async () => ({ accept: false, status: 500, reason: 'bad profiles' });
    assert.equal((await put('/live/full/0.ts', segment)).status, 500);
    authorize = async () => {
      throw new Error('boom');
    };
    assert.equal((await put('/live/boom/0.ts', segment)).status, 500);
    assert.equal(registry.size, 0);
  });

  it('refuses a push to a name that is live on another ingest or under another URL ID; the live stream goes on', async () => {
    const rtmpStream = await registry.open({ ingest: 'rtmp', urlId: 'onrtmp', streamKey: 'k', url: 'rtmp://h/live/onrtmp', remoteAddress: '' }, () => ({
      close: () => {},
    }));
    const clash = await put('/live/onrtmp/0.ts', segment);
    assert.equal(clash.status, 403);
    assert.match(await clash.text(), /already live \(rtmp\)/);
    authorize = async () => ({ accept: true, manifestId: 'shared', context: { n: 1 } });
    assert.equal((await put('/live/ext-a/0.ts', segment)).status, 200);
    assert.equal((await put('/live/ext-b/0.ts', segment)).status, 403);
    assert.equal(registry.get('onrtmp'), rtmpStream);
    assert.equal(registry.pushStream('ext-a')?.manifestId, 'shared');
    assert.equal(ended.length, 0);
  });

  it('maps transcode failures to their status: HttpError as thrown, anything else 500', async () => {
    transcode = async () => {
      throw new HttpError(503, 'No sessions available');
    };
    const r503 = await put('/live/t/0.ts', segment);
    assert.equal(r503.status, 503);
    assert.match(await r503.text(), /No sessions available/);
    transcode = async () => {
      throw new HttpError(422, 'bad input');
    };
    assert.equal((await put('/live/t/1.ts', segment)).status, 422);
    transcode = async () => {
      throw new Error('max attempts');
    };
    const r500 = await put('/live/t/2.ts', segment);
    assert.equal(r500.status, 500);
    assert.match(await r500.text(), /http push error processing segment url=\/live\/t\/2\.ts err=max attempts/);
  });

  it('passes the transcode header, slices and MP4 input through, and flags a format change', async () => {
    const cfg = JSON.stringify({ manifestID: 'ignored-here', profiles: [{ name: 'tiny', width: 64, height: 36, bitrate: 50000 }] });
    const res = await put('/live/cfg/0.mp4', mp4, {
      'Livepeer-Transcode-Configuration': cfg,
      'Content-Slice-From': '100',
      'Content-Slice-To': '900',
      Accept: 'multipart/mixed',
    });
    assert.equal(res.status, 200);
    const parts = parseMultipart(Buffer.from(await res.arrayBuffer()), /boundary=(\S+)/.exec(res.headers.get('content-type')!)![1]!);
    assert.match(parts[0]!.headers['content-type']!, /^video\/mp4; name="P240p30fps16x9_0\.mp4"$/);
    assert.equal(auths[0]!.format, 'mp4');
    assert.equal(auths[0]!.transcodeConfiguration!.profiles!.length, 1);
    assert.deepEqual(segs[0]!.clip, { fromMs: 100, toMs: 900 });
    assert.equal(segs[0]!.format, 'mp4');

    // Same stream, other container/size: the orchestrator session must be re-initialised.
    await put('/live/cfg/1.ts', segment, { 'Content-Slice-To': '1500' });
    assert.equal(segs[1]!.forceSessionReinit, false, 'same codec, pixel format and size');
    assert.deepEqual(segs[1]!.clip, { fromMs: 0, toMs: 1500 }, 'an open start');
    makeTestClip(join(dir, 'big.ts'), { seconds: 1, gopSeconds: 1, size: '480x270' });
    await put('/live/cfg/2.ts', readFileSync(join(dir, 'big.ts')));
    assert.equal(segs[2]!.forceSessionReinit, true);
    // and the header can ask for it on any segment
    await put('/live/cfg/3.ts', readFileSync(join(dir, 'big.ts')), { 'Livepeer-Transcode-Configuration': JSON.stringify({ forceSessionReinit: true }) });
    assert.equal(segs[3]!.forceSessionReinit, true);
  });

  it('sends URI parts when a rendition is only a URL', () => {
    const body = encodeMultipart('b0', 3, [{ name: 'P240p30fps16x9', format: 'mpegts', url: 'https://os/x.ts' }]);
    assert.equal(
      body.toString(),
      '--b0\r\n' +
        'Content-Disposition: attachment; filename="P240p30fps16x9_3.txt"\r\n' +
        'Content-Length: 15\r\n' +
        'Content-Type: application/vnd+livepeer.uri; name="P240p30fps16x9_3.txt"\r\n' +
        'Rendition-Name: P240p30fps16x9\r\n\r\n' +
        'https://os/x.ts\r\n--b0--\r\n',
    );
  });

  it('shares one authorization between concurrent first pushes', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    authorize = async () => {
      await gate;
      return { accept: true, context: { n: 42 } };
    };
    const both = Promise.all([put('/live/conc/0.ts', segment), put('/live/conc/1.ts', segment)]);
    // both requests have been probed and are waiting on the one authorization
    while (auths.length === 0) await new Promise((r) => setTimeout(r, 20));
    release();
    const [a, b] = await both;
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(auths.length, 1);
    assert.equal(segs[0]!.stream, segs[1]!.stream);
  });

  it('maps the URL ID to the authorized manifest ID and removes the stream once idle', async () => {
    authorize = async () => ({ accept: true, manifestId: 'internal-1', context: { n: 1 } });
    assert.equal((await put('/live/ext-a/0.ts', segment)).status, 200);
    assert.equal(segs[0]!.stream.manifestId, 'internal-1');
    assert.equal(segs[0]!.stream.urlId, 'ext-a');
    clock += IDLE_MS - 1000;
    registry.sweep();
    assert.equal((await put('/live/ext-a/1.ts', segment)).status, 200);
    assert.equal(auths.length, 1, 'a push within the idle time continues the stream');
    clock += IDLE_MS + 1;
    registry.sweep();
    assert.deepEqual(
      ended.map(([s, r]) => [s.manifestId, r]),
      [['internal-1', 'idle']],
    );
    assert.equal(registry.get('internal-1'), undefined);
    assert.equal((await put('/live/ext-a/2.ts', segment)).status, 200);
    assert.equal(auths.length, 2, 'the next push starts a new stream');
  });

  it('keeps a stream alive while its transcode runs, however long', async () => {
    let finish!: () => void;
    const running = new Promise<void>((r) => (finish = r));
    transcode = async () => {
      await running;
      return [];
    };
    const pending = put('/live/slow/0.ts', segment, { Accept: 'multipart/mixed' });
    while (segs.length === 0) await new Promise((r) => setTimeout(r, 20));
    clock += 10 * IDLE_MS;
    registry.sweep();
    assert.equal(ended.length, 0, 'not removed while the request runs');
    finish();
    assert.equal((await pending).status, 200);
    clock += IDLE_MS + 1;
    registry.sweep();
    assert.deepEqual(
      ended.map(([s, r]) => [s.manifestId, r]),
      [['slow', 'idle']],
    );
  });

  /** A PUT with a chosen Content-Length (or chunked when undefined), read to the status line and headers. */
  function rawPut(path: string, contentLength: number | undefined, body: Buffer) {
    return new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
      const req = request(
        `${http.url}${path}`,
        { method: 'PUT', headers: contentLength === undefined ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': String(contentLength) } },
        (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, headers: res.headers });
        },
      );
      // The server may close before it has read everything we send.
      req.on('error', (err) => (err.message.includes('EPIPE') || err.message.includes('ECONNRESET') ? undefined : reject(err)));
      req.end(body);
    });
  }
});
