// The frame counter: build/frame-count (native/frame_count.c), a process that stays up and decodes each
// segment it is sent, answering how many video frames it holds and their size. A dynamically linked
// ffmpeg spends ~50 ms of CPU resolving its libraries' symbols each time it starts, about what decoding a
// segment's renditions costs; the counter pays that once. It runs in the ffmpeg launcher (ffmpegLauncher.ts),
// under SCHED_IDLE like the spare ffmpegs, one request at a time; past its time it is killed and the next
// request starts a new one.
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SpareFfmpegError, SpareFfmpegTimeoutError } from './ffmpegSpares.ts';
import { idlePriority, lowerWithoutChrt } from './idlePriority.ts';

/** What the counter says of one segment. */
export type FrameCount = { frames: number; width: number; height: number } | { error: string };

/** Where `npm run build` puts the counter (two folders up from src/media and from dist/media). */
const COUNTER_PATH = fileURLToPath(new URL('../../build/frame-count', import.meta.url));
/** The counter's own bounds on a request (native/frame_count.c). */
export const MAX_COUNTER_SEGMENTS = 32;
const MAX_COUNTER_SEGMENT_BYTES = 256 << 20;
/** Most of the counter's answer kept: a line per segment. */
const MAX_ANSWER_BYTES = 64 << 10;
const MAX_STDERR = 4 << 10;
/** How a process dies from what it was decoding, rather than being killed. */
const CRASH_SIGNALS: ReadonlySet<string> = new Set(['SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGABRT']);

/** The counter's path when it was built on this machine, else undefined (decodes then use ffmpeg). */
export function frameCounterPath(): string | undefined {
  try {
    accessSync(COUNTER_PATH, constants.X_OK);
    return COUNTER_PATH;
  } catch {
    return undefined;
  }
}

interface Counter {
  readonly child: ChildProcess;
  gone: boolean;
  stderr: string;
}

let counter: Counter | undefined;
/** Requests wait their turn: the counter answers one at a time, in order. */
let queue: Promise<unknown> = Promise.resolve();

function start(path: string): Counter {
  const { command, args } = idlePriority(path, []);
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  lowerWithoutChrt(child);
  const c: Counter = { child, gone: false, stderr: '' };
  const gone = (): void => {
    c.gone = true;
    if (counter === c) counter = undefined;
  };
  child.once('exit', gone);
  child.once('error', gone);
  child.stdin!.on('error', () => {}); // EPIPE when it died: its exit says so
  child.stderr!.on('data', (d: Buffer) => {
    if (c.stderr.length < MAX_STDERR) c.stderr += d.toString('utf8');
  });
  idle(c, true);
  return c;
}

/** Lets the launcher exit while the counter waits with nothing asked of it. */
function idle(c: Counter, yes: boolean): void {
  for (const s of [c.child, ...c.child.stdio]) {
    const handle = s as unknown as { ref?: () => void; unref?: () => void } | null;
    if (yes) handle?.unref?.();
    else handle?.ref?.();
  }
}

function running(): Counter {
  if (counter && !counter.gone) return counter;
  const path = frameCounterPath();
  // (a timeout's kind: it says nothing about the media)
  if (!path) throw new SpareFfmpegTimeoutError('the frame counter is not built (npm run build)');
  counter = start(path);
  return counter;
}

/** Starts the counter now, so the first decode does not wait for it. */
export function prepareCounter(): void {
  try {
    running();
  } catch {
    // not built: the first count says so
  }
}

/** The request's bytes: u32 count, then u32 length and the bytes of each segment, little-endian. */
function request(inputs: readonly Uint8Array[]): Uint8Array[] {
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  return [u32(inputs.length), ...inputs.flatMap((d) => [u32(d.length), d])];
}

/** Reads "<i> <frames> <width> <height>" and "<i> error <why>" lines, one per input, in order. */
export function parseAnswer(text: string, inputs: number): FrameCount[] {
  const lines = text.split('\n').filter((l) => l !== '' && l !== 'end');
  if (lines.length !== inputs) throw new SpareFfmpegError(`the frame counter answered ${lines.length} lines for ${inputs} segments`);
  return lines.map((line, i) => {
    const fail = /^(\d+) error (.{1,200})$/.exec(line);
    if (fail && Number(fail[1]) === i) return { error: fail[2]! };
    const ok = /^(\d+) (\d{1,9}) (\d{1,6}) (\d{1,6})$/.exec(line);
    if (ok && Number(ok[1]) === i) return { frames: Number(ok[2]), width: Number(ok[3]), height: Number(ok[4]) };
    throw new SpareFfmpegError(`the frame counter answered "${line.slice(0, 80)}"`);
  });
}

function countNow(inputs: readonly Uint8Array[], timeoutMs: number): Promise<FrameCount[]> {
  return new Promise<FrameCount[]>((resolve, reject) => {
    if (inputs.length === 0 || inputs.length > MAX_COUNTER_SEGMENTS) {
      reject(new SpareFfmpegError(`the frame counter takes 1 to ${MAX_COUNTER_SEGMENTS} segments, not ${inputs.length}`));
      return;
    }
    if (inputs.some((d) => d.length > MAX_COUNTER_SEGMENT_BYTES)) {
      reject(new SpareFfmpegError('a segment too large for the frame counter'));
      return;
    }
    let c: Counter;
    try {
      c = running();
    } catch (err) {
      reject(err);
      return;
    }
    idle(c, false);
    let answer = '';
    const settle = (err: Error | undefined, counts?: FrameCount[]): void => {
      clearTimeout(timer);
      c.child.stdout!.off('data', onData);
      c.child.off('exit', onExit);
      c.child.off('error', onError);
      if (!c.gone) idle(c, true);
      if (err) reject(err);
      else resolve(counts!);
    };
    const timer = setTimeout(() => {
      c.child.kill('SIGKILL');
      settle(new SpareFfmpegTimeoutError(`the frame counter took longer than the ${timeoutMs} ms left`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      answer += d.toString('latin1');
      if (answer.length > MAX_ANSWER_BYTES) {
        c.child.kill('SIGKILL');
        settle(new SpareFfmpegError('the frame counter printed more than expected'));
      } else if (answer.endsWith('end\n')) {
        try {
          settle(undefined, parseAnswer(answer, inputs.length));
        } catch (err) {
          c.child.kill('SIGKILL');
          settle(err as Error);
        }
      }
    };
    // A counter that crashes mid-decode was crashed by the segments: the media is suspect. One killed from
    // outside (the OOM killer, an operator) or exiting otherwise says nothing about them.
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      const why = c.stderr.trim().split('\n').at(-1);
      const how = `${signal ?? `exit code ${code}`}${why ? `: ${why}` : ''}`;
      settle(
        signal && CRASH_SIGNALS.has(signal)
          ? new SpareFfmpegError(`the frame counter crashed decoding these segments (${how})`)
          : new SpareFfmpegTimeoutError(`the frame counter ended while decoding (${how})`),
      );
    };
    const onError = (err: Error): void => settle(new SpareFfmpegTimeoutError(`the frame counter cannot start: ${err.message}`));
    c.child.stdout!.on('data', onData);
    c.child.once('exit', onExit);
    c.child.once('error', onError);
    for (const part of request(inputs)) c.child.stdin!.write(part);
  });
}

/**
 * Frame count and size of each MPEG-TS segment, decoded in full by the counter. Throws SpareFfmpegError when
 * the counter crashed on these segments; SpareFfmpegTimeoutError (nothing known of the media) past
 * `timeoutMs`, when it was killed or ended otherwise, or when it is not built.
 */
export function countFrames(inputs: readonly Uint8Array[], timeoutMs: number): Promise<FrameCount[]> {
  // the time counts from the request, waiting for its turn included, as a decode's own ffmpeg's would
  const deadline = performance.now() + timeoutMs;
  const turn = queue.then(() => {
    const left = Math.floor(deadline - performance.now());
    if (left <= 0) throw new SpareFfmpegTimeoutError(`the frame counter took longer than ${timeoutMs} ms (busy with earlier segments)`);
    return countNow(inputs, left);
  });
  queue = turn.catch(() => {});
  return turn;
}

/** Stops the counter (at shutdown; it also exits when its stdin closes with the launcher). */
export function stopFrameCounter(): void {
  counter?.child.kill('SIGKILL');
  counter = undefined;
}

/** The counter's process id while it runs. */
export function frameCounterPid(): number | undefined {
  return counter && !counter.gone ? counter.child.pid : undefined;
}
