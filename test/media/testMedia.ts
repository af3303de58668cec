// Test helpers: small synthetic media made by ffmpeg (testsrc2 + sine), and
// ffmpeg publishers that are always cleaned up.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { ffmpegPath, mediaToolEnv } from '../../src/media/ffmpegBinaries.ts';

/** x264 settings light enough for a 2-core machine: 320x180, ultrafast, keyframe every `gopSeconds`. */
export function testSourceArgs(opts: { seconds: number; fps?: number; gopSeconds?: number; size?: string; realtime?: boolean }): string[] {
  const fps = opts.fps ?? 15;
  const gop = Math.round(fps * (opts.gopSeconds ?? 2));
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    ...(opts.realtime ? ['-re'] : []),
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${opts.size ?? '320x180'}:rate=${fps}`,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=44100',
    '-t',
    String(opts.seconds),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(gop),
    '-keyint_min',
    String(gop),
    '-sc_threshold',
    '0',
    '-c:a',
    'aac',
    '-b:a',
    '48k',
  ];
}

/** Write a short test clip (format from the extension: .ts, .mp4, .flv). */
export function makeTestClip(path: string, opts: { seconds: number; fps?: number; gopSeconds?: number; size?: string }): void {
  execFileSync(ffmpegPath(), [...testSourceArgs(opts), '-y', path], { env: mediaToolEnv('ffmpeg'), stdio: ['ignore', 'ignore', 'inherit'] });
}

export interface Publisher {
  readonly proc: ChildProcess;
  /** Exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  readonly stderr: () => string;
  kill(): void;
}

const publishers = new Set<ChildProcess>();

/** Publish a live test pattern to an RTMP URL in real time. */
export function publishTestStream(url: string, opts: { seconds: number; fps?: number; gopSeconds?: number; size?: string }): Publisher {
  const proc = spawn(ffmpegPath(), [...testSourceArgs({ ...opts, realtime: true }), '-f', 'flv', url], {
    env: mediaToolEnv('ffmpeg'),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  publishers.add(proc);
  let err = '';
  proc.stderr!.on('data', (c) => (err += c));
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      publishers.delete(proc);
      resolve(code);
    }),
  );
  return { proc, exited, stderr: () => err, kill: () => proc.kill('SIGKILL') };
}

/** SIGKILL every publisher still running (for after() hooks). */
export function killPublishers(): void {
  for (const p of publishers) p.kill('SIGKILL');
}

/** Child processes of this process, as "pid command" strings. */
export function childProcesses(): string[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !/\bps$/.test(l));
  } catch {
    return []; // ps exits 1 when there are none
  }
}

/** Whether a process with this id is still there (signal 0 checks without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolve when `check` is true, polling; reject after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
