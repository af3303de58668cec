import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ffmpegPath, mediaToolEnv } from '../../src/media/ffmpegBinaries.ts';
import { parseAnswer } from '../../src/media/frameCounter.ts';
import { SCHED_IDLE, schedulingPolicy } from '../../src/media/idlePriority.ts';
import { decodedPixelsEach, prepareDecode, ProbeError, ProbeTimeoutError } from '../../src/media/probe.ts';
import { frameCounterPath, frameCounterProcessIds, stopSpareFfmpegs } from '../../src/media/spareFfmpeg.ts';
import { processAlive } from './testMedia.ts';

const run = promisify(execFile);

// `npm run build` builds the counter wherever pkg-config finds FFmpeg's libraries (CI installs them)
const librariesHere = spawnSync('pkg-config', ['--exists', 'libavformat', 'libavcodec', 'libavutil']).status === 0;
const skip = frameCounterPath() ? false : 'the frame counter is not built here (no FFmpeg development libraries)';

async function encode(input: string[], seconds: string, more: string[] = []): Promise<Buffer> {
  const args = ['-hide_banner', '-loglevel', 'error', ...input, '-t', seconds, ...more, '-f', 'mpegts', 'pipe:1'];
  const { stdout } = await run(ffmpegPath(), args, { env: mediaToolEnv('ffmpeg'), encoding: 'buffer', maxBuffer: 64 << 20 });
  return stdout;
}
const video = (size: string, seconds: string, more: string[] = ['-c:v', 'libx264', '-preset', 'ultrafast']) =>
  encode(['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`], seconds, more);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the frame counter is built wherever the FFmpeg libraries are', () => {
  assert.equal(Boolean(frameCounterPath()), librariesHere);
});

test('the frame counter counts as ffmpeg does: sizes, odd lengths, B-frames, audio beside, HEVC', { skip }, async (t) => {
  t.after(stopSpareFfmpegs);
  const renditions = [
    await video('426x240', '1'),
    await video('640x360', '1.2'),
    // cropped size (not a multiple of 16), B-frames and a reordering delay
    await video('322x182', '0.9', ['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '3']),
    // audio first in the program, then video
    await encode(['-f', 'lavfi', '-i', 'sine=frequency=440', '-f', 'lavfi', '-i', 'testsrc2=size=256x144:rate=25'], '1', [
      '-c:a',
      'aac',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
    ]),
    await video('320x180', '0.5', ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=none']),
  ];
  const byFfmpeg = await decodedPixelsEach(renditions, undefined, 'ffmpeg');
  assert.deepEqual(await decodedPixelsEach(renditions, undefined, 'frame-count'), byFfmpeg);
  assert.equal(byFfmpeg[0], 426n * 240n * 30n);
  // the counter the default picks here, one process for every decode
  const [pid] = await frameCounterProcessIds();
  assert.deepEqual(await decodedPixelsEach(renditions.slice(0, 2)), byFfmpeg.slice(0, 2));
  assert.deepEqual(await frameCounterProcessIds(), [pid], 'the same counter answered again');
});

test('the frame counter runs below the event loop, started by the launcher, and ends with this process', { skip }, async (t) => {
  t.after(stopSpareFfmpegs);
  prepareDecode(2);
  const [pid] = await frameCounterProcessIds();
  assert.ok(pid, 'started ahead of the first decode');
  if (process.platform === 'linux') {
    const status = (p: number) => readFileSync(`/proc/${p}/status`, 'latin1');
    const parent = (p: number) => Number(/^PPid:\s+(\d+)/m.exec(status(p))?.[1]);
    // chrt sets the policy, then becomes the counter (same pid)
    for (let i = 0; i < 100 && !/^Name:\s+frame-count/m.test(status(pid)); i++) await sleep(20);
    if (spawnSync('chrt', ['--help']).status === 0) assert.equal(schedulingPolicy(pid), SCHED_IDLE, 'SCHED_IDLE');
    assert.notEqual(parent(pid), process.pid);
    assert.equal(parent(parent(pid)), process.pid, 'a child of the launcher, a child of this process');
  }
  // a process that prepared the counter and ended takes it along
  const script = `import { prepareDecode } from './src/media/probe.ts';
import { frameCounterProcessIds } from './src/media/spareFfmpeg.ts';
prepareDecode(2);
console.log((await frameCounterProcessIds())[0]);`;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 20_000 });
  const other = Number(stdout.trim());
  assert.ok(other > 0);
  for (let i = 0; i < 50 && processAlive(other); i++) await sleep(100);
  assert.ok(!processAlive(other), 'the counter exited once its gateway did');
});

test('hostile renditions: noise framed as MPEG-TS, no video, torn, empty; the counter lives on', { skip }, async (t) => {
  t.after(stopSpareFfmpegs);
  const good = await video('320x180', '1');
  const [expected] = await decodedPixelsEach([good], undefined, 'ffmpeg');
  const noise = Buffer.alloc(188 * 400);
  for (let i = 0; i < noise.length; i++) noise[i] = i % 188 === 0 ? 0x47 : (i * 2654435761) >>> 24;
  const audioOnly = await encode(['-f', 'lavfi', '-i', 'sine=frequency=440'], '1', ['-c:a', 'aac']);
  const torn = good.subarray(0, 188 * 3);
  for (const [bad, why] of [
    [noise, /input 1: no video/],
    [audioOnly, /input 1: no video stream/],
    [torn, /input 1: no video/],
  ] as const) {
    await assert.rejects(
      decodedPixelsEach([good, bad]),
      (err: unknown) => err instanceof ProbeError && !(err instanceof ProbeTimeoutError) && why.test(err.message),
    );
  }
  await assert.rejects(decodedPixelsEach([good, Buffer.alloc(0)]), ProbeError);
  const [pid] = await frameCounterProcessIds();
  assert.deepEqual(await decodedPixelsEach([good]), [expected]);
  assert.deepEqual(await frameCounterProcessIds(), [pid], 'bad media did not cost the counter');
});

test('a count past its time, or a counter killed from outside, says nothing about the media; a crash does', { skip }, async (t) => {
  t.after(stopSpareFfmpegs);
  const good = await video('320x180', '1');
  const [expected] = await decodedPixelsEach([good], undefined, 'ffmpeg');
  const long = await video('1280x720', '4');
  prepareDecode(1);
  const [first] = await frameCounterProcessIds();
  await assert.rejects(decodedPixelsEach([long], 5), (err: unknown) => err instanceof ProbeTimeoutError && /longer than/.test(err.message));
  for (let i = 0; i < 50 && processAlive(first!); i++) await sleep(20);
  assert.ok(!processAlive(first!), 'the counter past its time was killed');
  // the next count starts another
  assert.deepEqual(await decodedPixelsEach([good]), [expected]);
  const [second] = await frameCounterProcessIds();
  assert.ok(second && second !== first);
  // killed by an operator or the OOM killer mid-decode: inconclusive
  const killed = decodedPixelsEach([long]);
  setTimeout(() => process.kill(second, 'SIGKILL'), 30);
  await assert.rejects(killed, (err: unknown) => err instanceof ProbeTimeoutError && /ended while decoding \(SIGKILL\)/.test(err.message));
  // crashed by the segment it was decoding: held against the media
  assert.deepEqual(await decodedPixelsEach([good]), [expected]);
  const [third] = await frameCounterProcessIds();
  const crashed = decodedPixelsEach([long]);
  setTimeout(() => process.kill(third!, 'SIGSEGV'), 30);
  await assert.rejects(crashed, (err: unknown) => err instanceof ProbeError && !(err instanceof ProbeTimeoutError) && /crashed/.test(err.message));
  // counts wait their turn, each within its own time from when it was asked
  const many = await Promise.all([good, good, good].map((g) => decodedPixelsEach([g])));
  assert.deepEqual(many, [[expected], [expected], [expected]]);
});

test("the counter's answer is read strictly: one line per segment, in order", () => {
  assert.deepEqual(parseAnswer('0 30 426 240\n1 error no video stream\nend\n', 2), [{ frames: 30, width: 426, height: 240 }, { error: 'no video stream' }]);
  for (const bad of [
    '0 30 426 240\nend\n',
    '1 30 426 240\n0 30 426 240\nend\n',
    '0 30 426\n1 1 1 1\nend\n',
    '0 -3 426 240\n1 1 1 1\nend\n',
    `0 ${'9'.repeat(12)} 1 1\n1 1 1 1\nend\n`,
  ]) {
    assert.throws(() => parseAnswer(bad, 2), /frame counter answered/);
  }
});
