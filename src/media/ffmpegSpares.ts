// An ffmpeg started before it is needed, waiting on its input pipes. Starting ffmpeg (loading its libraries,
// registering codecs) costs 140–200 ms of CPU, more than decoding a 2 s rendition; a sampled decode takes
// the spare, writes the segments into its pipes, and a new spare starts once that decode is over (not
// during it: both would share the core the segment is waiting on). These run in the ffmpeg launcher
// (ffmpegLauncher.ts), a small process, never in the gateway's: see spareFfmpeg.ts for why.
import { type ChildProcess, spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { GatewayError } from '../lib/errors.ts';
import { ffmpegPath, mediaToolEnv } from './ffmpegBinaries.ts';
import { CHRT, CHRT_CANNOT_EXECUTE, CHRT_NOT_FOUND, idlePriority, lowerWithoutChrt } from './idlePriority.ts';
import { MAX_TOOL_STDOUT } from './runTool.ts';

/** ffmpeg failed, timed out or could not start. */
export class SpareFfmpegError extends GatewayError {}
/** ffmpeg did not finish in time (on a machine too busy to give it the core). */
export class SpareFfmpegTimeoutError extends SpareFfmpegError {}

/** Where the first input pipe is (0–2 are stdin, stdout, stderr). */
export const FIRST_PIPE = 3;
/** Most stderr kept, for the error message. */
const MAX_STDERR = 16 << 10;

interface Spare {
  readonly child: ChildProcess;
  /** Set when the process ended (or failed to start) while waiting. */
  gone: boolean;
}

/** One spare per argument list in use (one per number of renditions, in practice); few distinct ones. */
const spares = new Map<string, Spare>();
const MAX_SPARES = 4;

const keyOf = (args: readonly string[]): string => args.join('\0');

/** The ffmpeg to start: the one the gateway found (given to the launcher), else this process's own. */
let binary: { path: string; env: NodeJS.ProcessEnv } | undefined;

/** Starts every spare from now on with this binary and environment. */
export function useFfmpeg(path: string, env: NodeJS.ProcessEnv): void {
  binary = { path, env };
}

const ffmpeg = (): { path: string; env: NodeJS.ProcessEnv } => binary ?? { path: ffmpegPath(), env: mediaToolEnv('ffmpeg') };

function start(args: readonly string[], inputs: number): Spare {
  const stdio: Array<'ignore' | 'pipe'> = ['ignore', 'pipe', 'pipe', ...Array.from({ length: inputs }, () => 'pipe' as const)];
  // nothing waits on these decodes: they run below the event loop (idlePriority.ts)
  const { path, env } = ffmpeg();
  const { command, args: commandArgs } = idlePriority(path, args);
  const child = spawn(command, commandArgs, { env, stdio });
  lowerWithoutChrt(child);
  const spare: Spare = { child, gone: false };
  child.once('exit', () => {
    spare.gone = true;
  });
  child.once('error', () => {
    spare.gone = true;
  });
  // A waiting spare must not keep the process alive; its pipes close when the process exits, so ffmpeg
  // reads an end of input and exits too.
  child.unref();
  for (const s of child.stdio) (s as unknown as { unref?: () => void } | null)?.unref?.();
  return spare;
}

function take(args: readonly string[], inputs: number): Spare {
  const key = keyOf(args);
  const spare = spares.get(key);
  spares.delete(key);
  if (spare && !spare.gone) return spare;
  return start(args, inputs);
}

/** Starts a spare for `args` now unless one waits already. */
export function prepareOnPipes(args: readonly string[], inputs: number): void {
  const key = keyOf(args);
  if (spares.has(key)) return;
  if (spares.size >= MAX_SPARES) {
    const [oldest] = spares.keys();
    spares.get(oldest!)?.child.kill('SIGKILL');
    spares.delete(oldest!);
  }
  try {
    spares.set(key, start(args, inputs));
  } catch {
    // no ffmpeg now: the next run starts its own and reports why
  }
}

/**
 * Runs ffmpeg with `args` (whose inputs are `pipe:3`, `pipe:4`, … one per element of `inputs`) on these
 * bytes, through a process started ahead when there is one; resolves to its stdout. Killed past
 * `timeoutMs`. Only for inputs ffmpeg reads without seeking (MPEG-TS), since a pipe cannot seek.
 */
export function runOnPipes(args: readonly string[], inputs: readonly Uint8Array[], timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let spare: Spare;
    try {
      spare = take(args, inputs.length);
    } catch (err) {
      reject(new SpareFfmpegError(`ffmpeg cannot start: ${(err as Error).message}`, { cause: err }));
      return;
    }
    const { child } = spare;
    child.ref();
    for (const s of child.stdio) (s as unknown as { ref?: () => void } | null)?.ref?.();
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let failure: string | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      failure = `ffmpeg took longer than ${timeoutMs} ms`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      outBytes += d.length;
      if (outBytes > MAX_TOOL_STDOUT) {
        failure = 'ffmpeg printed more than expected';
        child.kill('SIGKILL');
        return;
      }
      out.push(d);
    });
    child.stderr!.on('data', (d: Buffer) => {
      if (err.length < MAX_STDERR) err += d.toString('utf8');
    });
    let settled = false;
    const finish = (code: number | null, error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      setImmediate(() => prepareOnPipes(args, inputs.length));
      if (error) {
        const enoent = (error as NodeJS.ErrnoException).code === 'ENOENT';
        reject(new SpareFfmpegError(enoent ? `ffmpeg ${ffmpeg().path} is gone (set FFMPEG_PATH)` : `ffmpeg cannot start: ${error.message}`, { cause: error }));
      } else if (failure) {
        reject(timedOut ? new SpareFfmpegTimeoutError(failure) : new SpareFfmpegError(failure));
      } else if (CHRT && (code === CHRT_NOT_FOUND || code === CHRT_CANNOT_EXECUTE) && err.startsWith('chrt:')) {
        reject(new SpareFfmpegError(code === CHRT_NOT_FOUND ? `ffmpeg ${ffmpeg().path} is gone (set FFMPEG_PATH)` : `ffmpeg cannot start: ${err.trim()}`));
      } else if (code !== 0) {
        const last = err.trim().split('\n').slice(-2).join(' ');
        reject(new SpareFfmpegError(`ffmpeg cannot read the media: ${last || `exit code ${code}`}`));
      } else {
        resolve(Buffer.concat(out).toString('utf8'));
      }
    };
    // stdout and stderr are read to their end before the result counts ('close', not 'exit')
    child.once('close', (code) => finish(code));
    child.once('error', (e) => finish(null, e));
    for (const [i, data] of inputs.entries()) {
      const pipe = child.stdio[FIRST_PIPE + i] as Writable;
      pipe.on('error', () => {}); // EPIPE when ffmpeg gave up early: its exit says why
      pipe.end(data);
    }
  });
}

/** Stops the spares (at shutdown; they would also exit on their own once this process does). */
export function stopSpareFfmpegs(): void {
  for (const spare of spares.values()) spare.child.kill('SIGKILL');
  spares.clear();
}

/** Process ids of the spares waiting now (what `/status` or a test may look at). */
export function spareProcessIds(): number[] {
  return [...spares.values()].flatMap((s) => (s.gone || s.child.pid === undefined ? [] : [s.child.pid]));
}
