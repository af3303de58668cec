import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ffmpegPath, ffprobePath, mediaToolEnv } from '../../src/media/ffmpegBinaries.ts';
import { decodedPixels, decodedPixelsEach, prepareDecode, ProbeError, ProbeTimeoutError } from '../../src/media/probe.ts';
import { CHRT, SCHED_BATCH, SCHED_IDLE, SCHED_OTHER, schedulingPolicy } from '../../src/media/idlePriority.ts';
import { launcherProcessId, spareProcessIds, stopSpareFfmpegs } from '../../src/media/spareFfmpeg.ts';
import { processAlive } from './testMedia.ts';

const run = promisify(execFile);

async function encode(size: string, seconds: string): Promise<Buffer> {
  const args = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`];
  args.push('-t', seconds, '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'mpegts', 'pipe:1');
  const { stdout } = await run(ffmpegPath(), args, { env: mediaToolEnv('ffmpeg'), encoding: 'buffer', maxBuffer: 64 << 20 });
  return stdout;
}

test('MPEG-TS renditions go through an ffmpeg started ahead, and count as the file-based decode does', async (t) => {
  t.after(stopSpareFfmpegs);
  const ts240 = await encode('426x240', '1');
  const ts360 = await encode('640x360', '1.2');
  const alone = [await decodedPixels(ts240), await decodedPixels(ts360)];
  prepareDecode(2, 'ffmpeg');
  const [ahead] = await spareProcessIds();
  assert.ok(ahead, 'a spare waits before the first decode');
  if (process.platform === 'linux') {
    // started through chrt, which sets the policy and then becomes ffmpeg (same pid)
    for (let i = 0; i < 100 && readFileSync(`/proc/${ahead}/comm`, 'latin1').trim() !== 'ffmpeg'; i++) await new Promise((r) => setTimeout(r, 20));
    if (existsSync('/usr/bin/chrt')) assert.equal(schedulingPolicy(ahead), SCHED_IDLE, 'SCHED_IDLE: below the event loop');
    else assert.equal(getPriority(ahead), 10, 'niceness 10: below the event loop');
  }
  assert.deepEqual(await decodedPixelsEach([ts240, ts360], undefined, 'ffmpeg'), alone);
  assert.ok(!(await spareProcessIds()).includes(ahead), 'the spare was used');
  const next = await spareStarted();
  assert.ok(next && next !== ahead, 'a new spare waits after the decode');
  // a spare that died while waiting is not used: the decode starts its own
  process.kill(next, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(await decodedPixelsEach([ts240, ts360], undefined, 'ffmpeg'), alone);
});

test('hostile renditions on the pipes: noise that looks like MPEG-TS, a decode past its time, a torn one', async (t) => {
  t.after(stopSpareFfmpegs);
  const good = await encode('320x180', '1');
  // sync bytes every 188 bytes, noise between: read as MPEG-TS, decodes to nothing
  const noise = Buffer.alloc(188 * 400);
  for (let i = 0; i < noise.length; i++) noise[i] = i % 188 === 0 ? 0x47 : (i * 2654435761) >>> 24;
  await assert.rejects(decodedPixelsEach([good, noise], undefined, 'ffmpeg'), ProbeError);
  // past its time the ffmpeg is killed and the decode fails; no process is left behind
  const long = await encode('1280x720', '4');
  stopSpareFfmpegs();
  prepareDecode(1, 'ffmpeg');
  const [pid] = await spareProcessIds();
  // a timeout is told apart from bad media: it says this machine was busy, not that the renditions are bad
  await assert.rejects(decodedPixelsEach([long], 5, 'ffmpeg'), (err: unknown) => err instanceof ProbeTimeoutError && /longer than 5 ms/.test(err.message));
  await assert.rejects(
    decodedPixelsEach([good, noise], undefined, 'ffmpeg'),
    (err: unknown) => err instanceof ProbeError && !(err instanceof ProbeTimeoutError),
  );
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(pid && !processAlive(pid), 'the timed-out ffmpeg is gone');
  // one torn input among good ones fails the lot rather than counting what decoded
  await assert.rejects(decodedPixelsEach([good, good.subarray(0, 188 * 3)], undefined, 'ffmpeg'), ProbeError);
});

test('a waiting spare does not keep the process alive, and exits with it', async () => {
  const script = `import { prepareDecode } from './src/media/probe.ts';
import { spareProcessIds } from './src/media/spareFfmpeg.ts';
prepareDecode(2, 'ffmpeg');
console.log((await spareProcessIds())[0]);`;
  const started = Date.now();
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 20_000 });
  assert.ok(Date.now() - started < 20_000);
  const pid = Number(stdout.trim());
  assert.ok(pid > 0);
  for (let i = 0; i < 50 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(!processAlive(pid), 'the spare ffmpeg exited once its parent did');
});

test('an ffmpeg removed while the gateway runs is named as gone, not as media it cannot read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ffmpeg-gone-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const copy = join(dir, 'ffmpeg');
  copyFileSync(ffmpegPath(), copy);
  chmodSync(copy, 0o755);
  // the binary is found at start-up, then removed (an upgrade, a cleanup) before the first decode
  const script = `import { unlinkSync } from 'node:fs';
import { decodedPixelsEach } from './src/media/probe.ts';
import { ffmpegPath } from './src/media/ffmpegBinaries.ts';
unlinkSync(ffmpegPath());
const ts = new Uint8Array(188 * 4).map((_, i) => (i % 188 === 0 ? 0x47 : 0)); // MPEG-TS framing: the pipe path
try { await decodedPixelsEach([ts], undefined, 'ffmpeg'); console.log('decoded'); }
catch (err) { console.log(err.constructor.name + ': ' + err.message); }`;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, FFMPEG_PATH: copy },
    timeout: 20_000,
  });
  assert.equal(stdout.trim(), `ProbeError: ffmpeg ${copy} is gone (set FFMPEG_PATH)`);
});

/**
 * The first spare waiting, looked for until one is (at most 2 s): the launcher starts the next spare on its
 * own turn after it answered a decode, so one asked for right after the answer may not be there yet.
 */
async function spareStarted(): Promise<number | undefined> {
  for (let i = 0; i < 100; i++) {
    const [pid] = await spareProcessIds();
    if (pid !== undefined) return pid;
    await new Promise((r) => setTimeout(r, 20));
  }
  return undefined;
}

/** The parent process id of `pid` (Linux: /proc/<pid>/status). */
function parentOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'latin1')
    .split('\n')
    .find((l) => l.startsWith('PPid:'));
  return Number(line?.split(/\s+/)[1]);
}

test('ffmpegs are started by the launcher, not by this process; a launcher that dies is replaced', { skip: process.platform !== 'linux' }, async (t) => {
  t.after(stopSpareFfmpegs);
  const ts = await encode('320x180', '1');
  const alone = [await decodedPixels(ts)];
  prepareDecode(1, 'ffmpeg');
  const [spare] = await spareProcessIds();
  assert.ok(spare, 'a spare waits');
  // fork() from a large process copies its page tables on the event loop: the spawns happen elsewhere
  const launcherPid = parentOf(spare);
  assert.notEqual(launcherPid, process.pid, 'the spare is not a child of the gateway process');
  assert.equal(parentOf(launcherPid), process.pid, 'its parent is the launcher, a child of the gateway process');
  assert.deepEqual(await decodedPixelsEach([ts], undefined, 'ffmpeg'), alone);
  // the launcher dies (OOM killer, an operator's kill): the next decode starts a new one
  process.kill(launcherPid, 'SIGKILL');
  for (let i = 0; i < 50 && processAlive(launcherPid); i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(await decodedPixelsEach([ts], undefined, 'ffmpeg'), alone);
  const again = await spareStarted();
  assert.ok(again, 'a spare waits again');
  assert.notEqual(parentOf(again), launcherPid);
});

test('the launcher and every thread of it run under SCHED_BATCH, the ffmpegs it starts under SCHED_IDLE', { skip: process.platform !== 'linux' }, async (t) => {
  t.after(stopSpareFfmpegs);
  const ts = await encode('320x180', '1');
  prepareDecode(1, 'ffmpeg');
  const [spare] = await spareProcessIds();
  const pid = launcherProcessId();
  assert.ok(pid !== undefined && spare !== undefined, 'a launcher runs and a spare waits');
  assert.equal(parentOf(spare), pid);
  // a decode has the launcher use its pipes and timers: threads it starts on demand inherit the policy
  assert.deepEqual(await decodedPixelsEach([ts], undefined, 'ffmpeg'), [await decodedPixels(ts)]);
  const tasks = `/proc/${pid}/task`;
  const policies = readdirSync(tasks).map((tid) => schedulingPolicy(Number(tid), tasks));
  assert.ok(policies.length >= 5, `node's main thread, V8's workers and libuv's: ${policies.length} threads`);
  // it works for the event loop, but nothing waits on it mid-segment: it must never preempt the loop
  const expected = CHRT ? SCHED_BATCH : SCHED_OTHER;
  assert.deepEqual(
    policies,
    policies.map(() => expected),
    `every thread of the launcher: ${policies.join(' ')}`,
  );
  const next = await spareStarted();
  assert.ok(next !== undefined, 'a spare waits after the decode');
  for (let i = 0; i < 100 && readFileSync(`/proc/${next}/comm`, 'latin1').trim() !== 'ffmpeg'; i++) await new Promise((r) => setTimeout(r, 20));
  if (CHRT) assert.equal(schedulingPolicy(next), SCHED_IDLE, 'lowered from the launcher: SCHED_IDLE');
});

test('a probe of media that is not MPEG-TS runs ffprobe from the launcher, not from this process', { skip: process.platform !== 'linux' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ffprobe-parent-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // MP4 with its index at the end: read from a file, which ffprobe may seek in
  const mp4 = join(dir, 'clip.mp4');
  await run(
    ffmpegPath(),
    ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-t', '1', '-c:v', 'libx264', '-preset', 'ultrafast', mp4],
    {
      env: mediaToolEnv('ffmpeg'),
    },
  );
  // the real ffprobe, through a script that notes which process started it
  const parents = join(dir, 'parents');
  const wrapper = join(dir, 'ffprobe');
  writeFileSync(wrapper, `#!/bin/sh\necho $PPID >> '${parents}'\nexec '${ffprobePath()}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  const script = `import { readFileSync } from 'node:fs';
import { probeBuffer } from './src/media/probe.ts';
import { launcherProcessId, stopSpareFfmpegs } from './src/media/spareFfmpeg.ts';
const info = await probeBuffer(readFileSync(${JSON.stringify(mp4)}));
console.log(JSON.stringify({ info, launcher: launcherProcessId(), self: process.pid }));
stopSpareFfmpegs();`;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, FFPROBE_PATH: wrapper },
    timeout: 30_000,
  });
  const r = JSON.parse(stdout) as { info: { formatName: string; width: number; height: number }; launcher: number; self: number };
  assert.match(r.info.formatName, /mp4/);
  assert.deepEqual([r.info.width, r.info.height], [320, 180]);
  assert.ok(r.launcher && r.launcher !== r.self, 'a launcher ran');
  // fork() from a gateway holding its streams' windows copies its page tables on the event loop
  assert.deepEqual(readFileSync(parents, 'utf8').trim().split('\n').map(Number), [r.launcher], 'ffprobe was a child of the launcher');
});

test('a decode cut short by the launcher stopping says nothing about the media', async (t) => {
  t.after(stopSpareFfmpegs);
  const long = await encode('1280x720', '4');
  prepareDecode(1, 'ffmpeg');
  const decoding = decodedPixelsEach([long], undefined, 'ffmpeg');
  setTimeout(stopSpareFfmpegs, 50);
  // not ProbeError alone, which the verification holds against the orchestrator
  await assert.rejects(decoding, (err: unknown) => err instanceof ProbeTimeoutError && /launcher was stopped/.test(err.message));
  // the next decode starts a launcher again
  const good = await encode('320x180', '1');
  assert.deepEqual(await decodedPixelsEach([good], undefined, 'ffmpeg'), [await decodedPixels(good)]);
});
