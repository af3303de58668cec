import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import {
  PushError,
  createPushIngest,
  encodeMultipart,
  type PushAuthInfo,
  type PushDecision,
  type PushIngest,
  type PushRendition,
  type PushSegment,
  type PushStream,
} from '../../src/ingest/push.ts';
import { startHttpListener, type HttpListener } from '../../src/server/http.ts';
import { makeTestClip, waitFor } from '../media/testMedia.ts';
import { silentLogger } from '../../src/lib/log.ts';

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

describe('HTTP push ingest (real HTTP, real ffprobe)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'push-test-'));
  let segment: Buffer;
  let mp4: Buffer;
  let http: HttpListener;
  let push: PushIngest<Ctx>;
  let authorize: (info: PushAuthInfo) => Promise<PushDecision<Ctx>>;
  let transcode: (s: PushSegment<Ctx>) => Promise<PushRendition[]>;
  const auths: PushAuthInfo[] = [];
  const segs: PushSegment<Ctx>[] = [];
  const ended: Array<[PushStream<Ctx>, string]> = [];

  before(async () => {
    makeTestClip(join(dir, 'seg.ts'), { seconds: 2, gopSeconds: 2 });
    makeTestClip(join(dir, 'seg.mp4'), { seconds: 1, gopSeconds: 1 });
    segment = readFileSync(join(dir, 'seg.ts'));
    mp4 = readFileSync(join(dir, 'seg.mp4'));
    push = createPushIngest<Ctx>({
      log: pino({ level: 'silent' }),
      idleTimeoutMs: 400,
      authorize: (info) => {
        auths.push(info);
        return authorize(info);
      },
      transcode: (s) => {
        segs.push(s);
        return transcode(s);
      },
      onStreamEnded: (s, reason) => ended.push([s, reason]),
    });
    http = await startHttpListener({ log: silentLogger(), port: 0, routes: [push.route] });
  });
  after(async () => {
    push.close();
    await http.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    for (const st of push.streams()) push.endStream(st.manifestId, 'test reset');
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
    assert.equal(auths[0]!.manifestId, 'pushy');
    assert.equal(auths[0]!.url, `http://127.0.0.1:${http.port}/live/pushy/7.ts`);
    const s = segs[0]!;
    assert.equal(s.seq, 7);
    assert.equal(s.durationMs, 2000);
    assert.equal(s.format, 'mpegts');
    assert.deepEqual(s.resolution, { width: 320, height: 180 });
    assert.equal(s.media.videoCodec, 'h264');
    assert.equal(s.data.length, segment.length);
    assert.equal(s.forceSessionReinit, false);
  });

  it('answers 200 with an empty body without Accept: multipart/mixed, and reuses the stream', async () => {
    const a = await put('/live/plain/0.ts', segment, {}, 'POST');
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
    assert.ok(push.stream('plain'));
  });

  it('applies the 405 and 400 rules', async () => {
    assert.equal((await fetch(`${http.url}/live/x/0.ts`)).status, 405);
    assert.equal((await fetch(`${http.url}/live/x/0.ts`, { method: 'DELETE' })).status, 405);
    const m3u8 = await put('/live/x/index.m3u8', '#EXTM3U');
    assert.equal(m3u8.status, 400);
    assert.match(await m3u8.text(), /ignoring file extension: \.m3u8/);
    assert.equal((await put('/live/x/0.flv', segment)).status, 400);
    assert.equal((await put('/live/x/0', segment)).status, 400);
    assert.equal((await put('/live/0.ts', segment)).status, 200, 'the file name is the manifest ID when there is no folder');
    assert.equal((await put('/live/x/0.ts', segment, { 'Livepeer-Transcode-Configuration': '{bad json' })).status, 400);
    assert.equal((await put('/live/x/0.ts', segment, { 'Content-Slice-From': '3000', 'Content-Slice-To': '1000' })).status, 400);
    assert.equal(auths.filter((a) => a.manifestId === 'x').length, 0, 'bad requests never reach authorization');
  });

  it('answers 422 for bytes ffprobe cannot read', async () => {
    const res = await put('/live/junk/0.ts', Buffer.from('this is not a video segment'));
    assert.equal(res.status, 422);
    assert.equal(auths.length, 0);
  });

  it('answers 403 when authorization refuses and 500 when the hook fails', async () => {
    authorize = async () => ({ accept: false, reason: 'webhook said no' });
    assert.equal((await put('/live/denied/0.ts', segment)).status, 403);
    authorize = async () => ({ accept: false, status: 500, reason: 'Too many connections' });
    assert.equal((await put('/live/full/0.ts', segment)).status, 500);
    authorize = async () => {
      throw new Error('boom');
    };
    assert.equal((await put('/live/boom/0.ts', segment)).status, 500);
    assert.equal(push.streams().length, 0);
  });

  it('maps transcode failures to 503 / 422 / 500', async () => {
    transcode = async () => {
      throw new PushError(503, 'No sessions available');
    };
    const r503 = await put('/live/t/0.ts', segment);
    assert.equal(r503.status, 503);
    assert.match(await r503.text(), /No sessions available/);
    transcode = async () => {
      throw new PushError(422, 'bad input');
    };
    assert.equal((await put('/live/t/1.ts', segment)).status, 422);
    transcode = async () => {
      throw new Error('max attempts');
    };
    assert.equal((await put('/live/t/2.ts', segment)).status, 500);
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
    await put('/live/cfg/1.ts', segment);
    assert.equal(segs[1]!.forceSessionReinit, false, 'same codec, pixel format and size');
    makeTestClip(join(dir, 'big.ts'), { seconds: 1, gopSeconds: 1, size: '480x270' });
    await put('/live/cfg/2.ts', readFileSync(join(dir, 'big.ts')));
    assert.equal(segs[2]!.forceSessionReinit, true);
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
    authorize = async () => {
      await new Promise((r) => setTimeout(r, 200));
      return { accept: true, context: { n: 42 } };
    };
    const [a, b] = await Promise.all([put('/live/conc/0.ts', segment), put('/live/conc/1.ts', segment)]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(auths.length, 1);
  });

  it('maps the URL ID to the authorized manifest ID and removes idle streams', async () => {
    authorize = async () => ({ accept: true, manifestId: 'internal-1', context: { n: 1 } });
    assert.equal((await put('/live/ext-a/0.ts', segment)).status, 200);
    assert.equal(segs[0]!.stream.manifestId, 'internal-1');
    assert.equal(segs[0]!.stream.externalManifestId, 'ext-a');
    assert.equal((await put('/live/ext-a/1.ts', segment)).status, 200);
    assert.equal(auths.length, 1);
    await waitFor(() => ended.length === 1, 3000, 'idle removal');
    assert.deepEqual([ended[0]![0].manifestId, ended[0]![1]], ['internal-1', 'idle']);
    assert.equal(push.stream('internal-1'), undefined);
  });

  it('keeps a stream alive during a long transcode', async () => {
    transcode = async () => {
      await new Promise((r) => setTimeout(r, 1000));
      return [];
    };
    assert.equal((await put('/live/slow/0.ts', segment, { Accept: 'multipart/mixed' })).status, 200);
    assert.equal(ended.length, 0, 'not removed while the request was running (idle limit 400 ms)');
    push.endStream('slow', 'payment failed');
    assert.deepEqual(
      ended.map(([s, r]) => [s.manifestId, r]),
      [['slow', 'payment failed']],
    );
  });
});
