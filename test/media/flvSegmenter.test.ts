import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ffmpegPath, mediaToolEnv } from '../../src/media/ffmpegBinaries.ts';
import { type FlvSegmenter, startFlvSegmenter } from '../../src/media/flvSegmenter.ts';
import { probeBuffer } from '../../src/media/probe.ts';
import { SegmenterError, SegmenterStallError, type SourceSegment } from '../../src/media/segmenter.ts';
import { flvFileTags } from './flvFile.ts';
import { childProcesses, makeTestClip } from './testMedia.ts';

const dir = mkdtempSync(join(tmpdir(), 'flv-segmenter-test-'));
const h264 = join(dir, 'h264-aac.flv');
const alaw = join(dir, 'h264-alaw.flv');

before(() => {
  makeTestClip(h264, { seconds: 7, gopSeconds: 2 });
  // G.711 A-law audio: FLV carries it, the in-process muxer does not
  execFileSync(
    ffmpegPath(),
    [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=15', '-f', 'lavfi', '-i', 'sine=sample_rate=8000', '-t', '5'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-c:a', 'pcm_alaw', '-f', 'flv', alaw],
    ],
    { env: mediaToolEnv('ffmpeg') },
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function collect(it: AsyncIterable<SourceSegment>): Promise<SourceSegment[]> {
  const out: SourceSegment[] = [];
  for await (const s of it) out.push(s);
  return out;
}

/** Writes `tag` as the RTMP ingest does: from space that is overwritten as soon as write() returns. */
const reused = Buffer.alloc(4 << 20);
function writeReused(seg: FlvSegmenter, tag: Buffer, receivedAt: number): void {
  const view = reused.subarray(0, tag.length);
  tag.copy(view);
  seg.write(view, receivedAt);
  view.fill(0xa5);
}

const ffmpegChildren = () => childProcesses().filter((p) => /ffmpeg/.test(p)).length;

describe('FLV segmenter (in-process, ffmpeg for other codecs)', () => {
  it('cuts H.264/AAC in-process as the tags arrive: each segment out on the tag that closes it, with that tag’s arrival', async () => {
    const seg = startFlvSegmenter({ name: 'test' });
    const tags = flvFileTags(h264);
    const got: SourceSegment[] = [];
    const reading = (async () => {
      for await (const s of seg.segments) got.push(s);
    })();
    let firstCutAtTag = -1;
    for (const [i, tag] of tags.entries()) {
      writeReused(seg, tag, 1000 + i);
      await new Promise(setImmediate);
      if (got.length > 0 && firstCutAtTag < 0) firstCutAtTag = i;
    }
    assert.ok(firstCutAtTag > 0 && firstCutAtTag < tags.length - 1, 'the first segment came out mid-stream, not at the end');
    assert.equal(got[0]!.closedAt, 1000 + firstCutAtTag, 'closedAt is the arrival of the tag that closed it');
    seg.end();
    await reading;
    await seg.done;
    assert.equal(seg.mode, 'in-process');
    assert.deepEqual(
      got.map((s) => s.seq),
      [0, 1, 2, 3],
    );
    assert.equal(got[3]!.closedAt, undefined, 'the last segment is closed by the end of the stream');
    for (const s of got.slice(0, 3)) assert.ok(Math.abs(s.durationMs - 2000) <= 100, `~2 s (${s.durationMs} ms)`);
    const probed = await probeBuffer(got[1]!.data);
    assert.equal(probed.width, 320);
    const shape = got[1]!.shape;
    assert.deepEqual([shape?.width, shape?.height], [320, 180], 'the size read while muxing');
    assert.ok(Math.abs((shape?.fps ?? 0) - 15) < 0.05, `the frame rate read while muxing (${shape?.fps}; FLV stamps whole ms)`);
    assert.equal(ffmpegChildren(), 0, 'no ffmpeg process');
  });

  it('hands a stream in a codec it does not mux to ffmpeg, from its first frame', async () => {
    const seg = startFlvSegmenter({ name: 'test', workDir: dir });
    const segments = collect(seg.segments);
    for (const tag of flvFileTags(alaw)) writeReused(seg, tag, performance.now());
    seg.end();
    const got = await segments;
    await seg.done;
    assert.equal(seg.mode, 'ffmpeg');
    assert.deepEqual(
      got.map((s) => s.seq),
      [0, 1, 2],
    );
    const total = got.reduce((n, s) => n + s.durationMs, 0);
    assert.ok(Math.abs(total - 5000) <= 100, `the whole 5 s are there (${total} ms)`);
    assert.ok(got[0]!.closedAt !== undefined, 'closing keyframes are still traced through ffmpeg');
  });

  it('fails a stream whose codec changes after its first segment', async () => {
    const seg = startFlvSegmenter({ name: 'test' });
    const segments = collect(seg.segments);
    const tags = flvFileTags(h264);
    for (const tag of tags.slice(0, Math.floor(tags.length * 0.6))) seg.write(tag, performance.now());
    for (const tag of flvFileTags(alaw).slice(1)) seg.write(tag, performance.now());
    await assert.rejects(segments, (err: Error) => err instanceof SegmenterError && /codec/.test(err.message));
    await assert.rejects(seg.done, SegmenterError);
  });

  it('fails with SegmenterStallError when no segment comes in time (no keyframe after the first)', async () => {
    const seg = startFlvSegmenter({ name: 'test', stallTimeoutMs: 400 });
    const segments = collect(seg.segments);
    // headers and the first keyframe only: the segment never closes
    for (const tag of flvFileTags(h264).slice(0, 6)) seg.write(tag, performance.now());
    const keepAlive = setInterval(() => {}, 100); // the stall timer does not hold the process open
    await assert.rejects(segments, SegmenterStallError);
    clearInterval(keepAlive);
  });

  it('stop() ends the segments without an error and ignores later tags', async () => {
    const seg = startFlvSegmenter({ name: 'test' });
    const segments = collect(seg.segments);
    const tags = flvFileTags(h264);
    for (const tag of tags.slice(0, 100)) seg.write(tag, performance.now());
    await seg.stop();
    for (const tag of tags.slice(100)) seg.write(tag, performance.now());
    await segments;
    await seg.done;
  });
});
