import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { probeBuffer, probeFile, ProbeError } from '../../src/media/probe.ts';
import { SegmenterError, SegmenterStallError, parseSegmentListLine, runningSegmenters, startSegmenter, type SourceSegment } from '../../src/media/segmenter.ts';
import { childProcesses, makeTestClip, waitFor } from './testMedia.ts';

/** Alive and not a zombie. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'segmenter-test-'));
const clip = join(dir, 'clip.flv');

before(() => {
  makeTestClip(clip, { seconds: 6, gopSeconds: 2 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function collect(it: AsyncIterable<SourceSegment>): Promise<SourceSegment[]> {
  const out: SourceSegment[] = [];
  for await (const s of it) out.push(s);
  return out;
}

describe('segmenter (real ffmpeg, -c copy)', () => {
  it('cuts a 6 s clip into ~2 s MPEG-TS segments numbered from 0 and cleans up', async () => {
    const workDir = mkdtempSync(join(dir, 'w-'));
    const seg = startSegmenter({ inputUrl: clip, workDir });
    const segments = await collect(seg.segments);
    await seg.done;
    assert.deepEqual(
      segments.map((s) => s.seq),
      [0, 1, 2],
    );
    for (const s of segments) {
      assert.ok(Math.abs(s.durationMs - 2000) <= 100, `segment ${s.seq} lasts ${s.durationMs} ms`);
      const info = await probeBuffer(s.data);
      assert.equal(info.formatName, 'mpegts');
      assert.equal(info.videoCodec, 'h264');
      assert.equal(info.audioCodec, 'aac');
      assert.deepEqual([info.width, info.height], [320, 180]);
    }
    assert.deepEqual(readdirSync(workDir), [], 'temp folder removed');
    assert.equal(runningSegmenters(), 0);
    assert.deepEqual(
      childProcesses().filter((p) => /ffmpeg|ffprobe/.test(p)),
      [],
    );
  });

  it('stop() kills ffmpeg, ends the segments and removes temp files', async () => {
    // A server that accepts and never answers keeps ffmpeg waiting forever.
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const workDir = mkdtempSync(join(dir, 'w-'));
      const seg = startSegmenter({ inputUrl: `rtmp://127.0.0.1:${(silent.address() as AddressInfo).port}/stream/x/y`, workDir });
      const collected = collect(seg.segments);
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(runningSegmenters(), 1);
      await seg.stop();
      await seg.stop();
      assert.deepEqual(await collected, []);
      await seg.done;
      assert.equal(runningSegmenters(), 0);
      assert.deepEqual(readdirSync(workDir), []);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('fails with SegmenterStallError when no segment comes in time', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const t0 = Date.now();
      const seg = startSegmenter({
        inputUrl: `rtmp://127.0.0.1:${(silent.address() as AddressInfo).port}/stream/x/y`,
        stallTimeoutMs: 800,
      });
      await assert.rejects(collect(seg.segments), SegmenterStallError);
      await assert.rejects(seg.done, (e: Error) => {
        assert.ok(e instanceof SegmenterStallError);
        assert.match(e.message, /keyframe interval/);
        return true;
      });
      assert.ok(Date.now() - t0 < 5000);
      assert.equal(runningSegmenters(), 0);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('behind its input (ffmpeg paused) is slow, not stalled: the segments come once ffmpeg runs again', async () => {
    const long = join(dir, 'long.flv');
    makeTestClip(long, { seconds: 12, gopSeconds: 2, size: '640x360' });
    const input = new PassThrough();
    const seg = startSegmenter({ inputUrl: 'pipe:paused', input, workDir: mkdtempSync(join(dir, 'w-')), stallTimeoutMs: 800 });
    const collected = collect(seg.segments);
    await waitFor(() => childProcesses().some((p) => /ffmpeg/.test(p)), 20_000, 'the segmenter ffmpeg');
    const pid = Number(
      childProcesses()
        .find((p) => /ffmpeg/.test(p))!
        .split(' ')[0],
    );
    process.kill(pid, 'SIGSTOP');
    try {
      input.end(readFileSync(long));
      await new Promise((r) => setTimeout(r, 3000)); // several stall timeouts, the clip unread
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const segments = await collected;
    await seg.done;
    assert.ok(segments.length >= 5, `got ${segments.length} segments`);
  });

  it('reports an unreadable input with ffmpeg’s reason', async () => {
    const seg = startSegmenter({ inputUrl: join(dir, 'missing.flv') });
    await assert.rejects(seg.done, (e: Error) => {
      assert.ok(e instanceof SegmenterError);
      assert.match(e.message, /No such file/);
      return true;
    });
    await assert.rejects(collect(seg.segments), SegmenterError);
  });

  it('kills its ffmpeg when the node process exits', async () => {
    // The input server lives here, so ffmpeg would stay connected if nobody killed it.
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    // A child node process starts a segmenter, reports the ffmpeg pid, then exits.
    const segmenterUrl = new URL('../../src/media/segmenter.ts', import.meta.url).href;
    const script = join(dir, 'exit-child.ts');
    writeFileSync(
      script,
      `import { execFileSync } from 'node:child_process';
import { startSegmenter } from ${JSON.stringify(segmenterUrl)};
startSegmenter({ inputUrl: 'rtmp://127.0.0.1:${port}/stream/x/y' });
const poll = setInterval(() => {
  let out = '';
  try { out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' }); } catch {}
  // the segmenting ffmpeg, not fluent-ffmpeg's short capability probes
  const line = out.split('\\n').find((l) => /ffmpeg .*segment_list/.test(l));
  if (line) { clearInterval(poll); console.log('FFMPEG_PID', line.trim().split(/\\s+/)[0]); process.exit(0); }
}, 50);
`,
    );
    try {
      const out = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 20_000 });
      const pid = Number(/FFMPEG_PID (\d+)/.exec(out)?.[1]);
      assert.ok(pid > 0, out);
      await waitFor(() => !isAlive(pid), 3000, `ffmpeg ${pid} to die`);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('parses segment list lines', () => {
    assert.deepEqual(parseSegmentListLine('3.ts,6.000000,8.033333'), { file: '3.ts', startS: 6, endS: 8.033333 });
    assert.deepEqual(parseSegmentListLine('"a,b.ts",1,2'), { file: 'a,b.ts', startS: 1, endS: 2 });
    assert.equal(parseSegmentListLine('garbage'), undefined);
  });
});

describe('probe', () => {
  it('reads size, codecs and duration of a file', async () => {
    const info = await probeFile(clip);
    assert.equal(info.videoCodec, 'h264');
    assert.equal(info.width, 320);
    assert.ok(Math.abs(info.durationMs - 6000) < 200);
  });
  it('rejects bytes that are not media', async () => {
    await assert.rejects(probeBuffer(Buffer.from('definitely not video')), ProbeError);
    await assert.rejects(probeBuffer(Buffer.alloc(0)), ProbeError);
  });
});
