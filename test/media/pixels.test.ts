import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { GrowableBytes } from '../../src/lib/growableBytes.ts';
import { ffmpegPath, mediaToolEnv } from '../../src/media/ffmpegBinaries.ts';
import { codedPictures, H264Error, spsFrameSize } from '../../src/media/h264.ts';
import { MpegTsError, videoElementaryStream } from '../../src/media/mpegts.ts';
import { bitstreamPixels, renditionsPixels } from '../../src/media/pixels.ts';
import { decodedPixels, decodedPixelsEach, ProbeError } from '../../src/media/probe.ts';

const run = promisify(execFile);

/** One rendition through renditionsPixels. */
async function renditionPixels(data: Uint8Array, opts: { decode: boolean }): Promise<bigint> {
  return (await renditionsPixels([data], { ...opts, names: ['r'] }))[0]!;
}

/** A short test-pattern segment from the real ffmpeg. */
async function encode(size: string, extra: string[], format = 'mpegts', seconds = '1'): Promise<Buffer> {
  const args = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`, '-f', 'lavfi', '-i', 'sine'];
  args.push('-t', seconds, '-c:v', 'libx264', ...extra, '-c:a', 'aac', '-f', format);
  if (format === 'mp4') args.push('-movflags', 'frag_keyframe+empty_moov');
  args.push('pipe:1');
  const { stdout } = await run(ffmpegPath(), args, { env: mediaToolEnv('ffmpeg'), encoding: 'buffer', maxBuffer: 64 << 20 });
  return stdout;
}

test('bitstream pixel counts equal a full decode: cropped sizes, profiles, B-frames, odd lengths', async () => {
  const cases: [string, string[], string][] = [
    ['426x240', ['-preset', 'ultrafast'], '1'], // 432×240 coded, cropped
    ['640x360', ['-preset', 'veryfast', '-profile:v', 'high'], '1.3'], // 368 coded, B-frames, 8x8 transform
    ['256x144', ['-preset', 'medium', '-profile:v', 'main', '-bf', '3'], '0.5'],
    ['1280x720', ['-preset', 'ultrafast', '-profile:v', 'baseline', '-slices', '4'], '0.4'], // several slices per picture
    ['320x240', ['-preset', 'ultrafast', '-pix_fmt', 'yuv444p'], '0.3'], // High 4:4:4, chroma cropping units of 1
  ];
  for (const [size, extra, seconds] of cases) {
    const ts = await encode(size, extra, 'mpegts', seconds);
    const counted = bitstreamPixels(ts);
    assert.ok(counted !== undefined && counted > 0n, size);
    assert.equal(counted, await decodedPixels(ts), `${size} ${extra.join(' ')}`);
    assert.equal(await renditionPixels(ts, { decode: true }), counted);
    assert.equal(await renditionPixels(ts, { decode: false }), counted);
  }
});

test('frame size comes from the SPS with cropping applied', async () => {
  const es = videoElementaryStream(await encode('426x240', ['-preset', 'ultrafast']));
  const pictures = codedPictures(es.data);
  assert.deepEqual([pictures.width, pictures.height, pictures.frames], [426, 240, 30]);
});

test('the elementary stream read into a reused scratch buffer: the same bytes, one buffer, each read its own count', async () => {
  const big = await encode('640x360', ['-preset', 'ultrafast']);
  const small = await encode('426x240', ['-preset', 'ultrafast']);
  const scratch = new GrowableBytes(0);
  const fresh = videoElementaryStream(big);
  const first = videoElementaryStream(big, scratch);
  assert.deepEqual(Buffer.from(first.data), Buffer.from(fresh.data));
  assert.deepEqual([first.pts, first.pesPackets, first.streamType], [fresh.pts, fresh.pesPackets, fresh.streamType]);
  const second = videoElementaryStream(small, scratch);
  assert.equal(second.data.buffer, first.data.buffer, 'the smaller stream reuses the buffer');
  assert.deepEqual(Buffer.from(second.data), Buffer.from(videoElementaryStream(small).data));
  // one after the other through the reader that uses its own scratch: each keeps its own count
  assert.equal(bitstreamPixels(big), 640n * 360n * 30n);
  assert.equal(bitstreamPixels(small), 426n * 240n * 30n);
});

test('formats the bitstream reader does not cover go to the decoder (fragmented MP4)', async () => {
  const mp4 = await encode('320x180', ['-preset', 'ultrafast'], 'mp4');
  assert.equal(bitstreamPixels(mp4), undefined);
  assert.equal(await renditionPixels(mp4, { decode: false }), 320n * 180n * 30n);
});

test('hostile input: torn, desynchronised, foreign or empty streams are errors, not guesses', async () => {
  const ts = await encode('320x180', ['-preset', 'ultrafast']);
  assert.throws(() => videoElementaryStream(ts.subarray(0, ts.length - 1)), MpegTsError);
  const desync = Buffer.from(ts);
  desync[188 * 5] = 0x00;
  assert.throws(() => videoElementaryStream(desync), MpegTsError);
  assert.throws(() => videoElementaryStream(Buffer.alloc(188 * 4, 0x47)), MpegTsError); // sync bytes, no program
  const noVideo = Buffer.alloc(188 * 10);
  for (let i = 0; i < noVideo.length; i += 188) noVideo.set([0x47, 0x1f, 0xff, 0x10], i); // null packets only
  assert.throws(() => videoElementaryStream(noVideo), /no video stream/);
  // slices without a parameter set, an SPS of garbage, an implausible size
  assert.throws(() => codedPictures(Buffer.from([0, 0, 1, 0x65, 0x88, 0x84])), H264Error);
  assert.throws(() => codedPictures(Buffer.from([1, 2, 3])), H264Error);
  assert.throws(() => spsFrameSize(Buffer.from([0x67, 0x42, 0x00])), H264Error);
  assert.throws(() => spsFrameSize(Buffer.concat([Buffer.from([0x67]), Buffer.alloc(2000, 0xff)])), H264Error);
  await assert.rejects(renditionPixels(Buffer.alloc(0), { decode: false }));
});

test('the in-process shape agrees with ffprobe: size, and frame rate from the PES timestamps (B-frames too)', async () => {
  const { probeBuffer } = await import('../../src/media/probe.ts');
  const { bitstreamShape } = await import('../../src/media/pixels.ts');
  for (const [size, rate, extra] of [
    ['426x240', '30', ['-preset', 'ultrafast']],
    ['640x360', '25', ['-preset', 'veryfast', '-bf', '3']],
    ['720x1280', '60', ['-preset', 'ultrafast']],
  ] as const) {
    const args = [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${size}:rate=${rate}`,
      '-t',
      '1',
      '-c:v',
      'libx264',
      ...extra,
      '-f',
      'mpegts',
      'pipe:1',
    ];
    const { stdout: ts } = await run(ffmpegPath(), args, { env: mediaToolEnv('ffmpeg'), encoding: 'buffer', maxBuffer: 64 << 20 });
    const shape = bitstreamShape(ts);
    const probed = await probeBuffer(ts);
    assert.ok(shape, size);
    assert.deepEqual([shape.width, shape.height], [probed.width, probed.height], size);
    assert.equal(shape.fps, Number(rate), `${size} fps`);
    assert.equal(shape.frames, Number(rate));
  }
  assert.equal(bitstreamShape(Buffer.alloc(188 * 10, 0x47)), undefined, 'unreadable: left to ffprobe');
  assert.equal(bitstreamShape(Buffer.from('not a transport stream at all, longer than one packet'.repeat(8))), undefined);
});

test('a segment’s renditions decode in one process, each counted as it would be alone', async () => {
  const ts240 = await encode('426x240', ['-preset', 'ultrafast', '-bf', '2'], 'mpegts', '1');
  const ts360 = await encode('640x360', ['-preset', 'veryfast', '-profile:v', 'high'], 'mpegts', '1.3');
  const mp4 = await encode('320x180', ['-preset', 'ultrafast'], 'mp4');
  const alone = [await decodedPixels(ts240), await decodedPixels(ts360), await decodedPixels(mp4)];
  assert.deepEqual(await decodedPixelsEach([ts240, ts360, mp4]), alone);
  const names = ['P240p', 'P360p', 'mp4'];
  assert.deepEqual(await renditionsPixels([ts240, ts360, mp4], { decode: true, names }), alone);
  // without the decode only the MP4 (no bitstream reader) goes to ffmpeg
  assert.deepEqual(await renditionsPixels([ts240, ts360, mp4], { decode: false, names }), alone);
  assert.deepEqual(await decodedPixelsEach([]), []);
});

test('hostile renditions: one unreadable among good ones fails the lot, naming it where the bitstream shows it', async () => {
  const good = await encode('320x180', ['-preset', 'ultrafast']);
  const torn = good.subarray(0, good.length - 1);
  await assert.rejects(renditionsPixels([good, torn], { decode: false, names: ['ok', 'torn'] }), /rendition torn cannot be read/);
  const noise = Buffer.alloc(64 * 1024);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  await assert.rejects(renditionsPixels([good, noise], { decode: true, names: ['ok', 'noise'] }), ProbeError);
  await assert.rejects(decodedPixelsEach([good, Buffer.alloc(0)]), ProbeError);
});
