// The gateway's side of the ffmpeg launcher (ffmpegLauncher.ts). Node starts a child with fork() then
// exec(), and fork() copies the parent's page tables first, on the event loop: from a process of 45 MiB
// that takes about 1 ms, of 317 MiB 6 ms, of 782 MiB 15 ms (spawn of /bin/true, one core, Node 20). A
// gateway carrying 40 streams is that large, and a sampled decode spawned its ffmpeg from it, stalling
// every stream's segments for as long. The launcher is forked once, while the gateway is still small, and
// spawns the ffmpegs (and the probes' ffprobes) from its own small process; the segments go to it over the
// IPC channel, files to probe by their path.
import { type ChildProcess, fork } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mediaTool } from './ffmpegBinaries.ts';
import type { LauncherBinary, LauncherReply, LauncherRequest } from './ffmpegLauncher.ts';
import { SpareFfmpegError, SpareFfmpegTimeoutError } from './ffmpegSpares.ts';
import type { FrameCount } from './frameCounter.ts';
import { batchFork } from './idlePriority.ts';
import type { ToolName, ToolOutcome } from './runTool.ts';

export { FIRST_PIPE, SpareFfmpegError, SpareFfmpegTimeoutError } from './ffmpegSpares.ts';
export { type FrameCount, frameCounterPath } from './frameCounter.ts';

/** The launcher stopped, died or could not be reached: the decode did not run, nothing is known of the media. */
export class SpareFfmpegUnavailableError extends SpareFfmpegError {}

/** How long past a run's own timeout the launcher may take to answer before it counts as hung. */
const LAUNCHER_GRACE_MS = 5_000;
/** How long a question about the spares may take. */
const QUERY_TIMEOUT_MS = 10_000;

interface Waiting {
  settle(r: LauncherReply): void;
  fail(err: SpareFfmpegUnavailableError): void;
  timer: NodeJS.Timeout;
}

interface Launcher {
  readonly child: ChildProcess;
  readonly waiting: Map<number, Waiting>;
  gone: boolean;
}

let launcher: Launcher | undefined;
let nextId = 1;

/** The launcher's module beside this one, and how to run it: compiled JavaScript as is, sources through tsx. */
function launcherModule(): { path: string; execArgv: string[] } {
  const ext = extname(fileURLToPath(import.meta.url));
  const path = fileURLToPath(new URL(`./ffmpegLauncher${ext}`, import.meta.url));
  return { path, execArgv: ext === '.ts' ? ['--import', import.meta.resolve('tsx')] : [] };
}

/** Lets this process exit while the launcher waits with nothing asked of it. */
function setIdle(l: Launcher, idle: boolean): void {
  if (idle) {
    l.child.unref();
    l.child.channel?.unref();
  } else {
    l.child.ref();
    l.child.channel?.ref();
  }
}

function end(l: Launcher, why: string): void {
  if (l.gone) return;
  l.gone = true;
  if (launcher === l) launcher = undefined;
  for (const w of l.waiting.values()) {
    clearTimeout(w.timer);
    w.fail(new SpareFfmpegUnavailableError(why));
  }
  l.waiting.clear();
}

function isReply(m: unknown): m is LauncherReply {
  return typeof m === 'object' && m !== null && typeof (m as { id?: unknown }).id === 'number';
}

/** The running launcher, started now if there is none (throws when there is no ffmpeg to give it). */
function connect(): Launcher {
  if (launcher && !launcher.gone) return launcher;
  const tool = mediaTool('ffmpeg');
  const binary: LauncherBinary = { path: tool.path, env: tool.env };
  const { path, execArgv } = launcherModule();
  // below the event loop: on one core, its work on each decode's bytes took the core from the loop mid-segment
  const below = batchFork(execArgv);
  const child = fork(path, [JSON.stringify(binary)], { ...below, serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const l: Launcher = { child, waiting: new Map(), gone: false };
  child.on('message', (m: unknown) => {
    if (!isReply(m)) return;
    const w = l.waiting.get(m.id);
    if (!w) return;
    l.waiting.delete(m.id);
    clearTimeout(w.timer);
    if (l.waiting.size === 0) setIdle(l, true);
    w.settle(m);
  });
  child.once('exit', (code, signal) => end(l, `the ffmpeg launcher exited (${signal ?? `code ${code}`})`));
  child.once('error', (err) => end(l, `the ffmpeg launcher failed: ${err.message}`));
  setIdle(l, true);
  launcher = l;
  return l;
}

/** Sends a request and waits for its reply, at most `timeoutMs` (then the launcher is taken as hung). */
function ask(request: LauncherRequest & { id: number }, timeoutMs: number): Promise<LauncherReply> {
  return new Promise<LauncherReply>((resolve, reject) => {
    let l: Launcher;
    try {
      l = connect();
    } catch (err) {
      reject(new SpareFfmpegError(`ffmpeg cannot start: ${(err as Error).message}`, { cause: err }));
      return;
    }
    const timer = setTimeout(() => {
      l.waiting.delete(request.id);
      reject(new SpareFfmpegTimeoutError(`the ffmpeg launcher did not answer in ${timeoutMs} ms`));
      // whatever else it holds fails with it; the next request starts a new one
      l.child.kill('SIGKILL');
    }, timeoutMs);
    l.waiting.set(request.id, { settle: resolve, fail: reject, timer });
    setIdle(l, false);
    l.child.send(request, (err) => {
      if (err) end(l, `the ffmpeg launcher cannot be reached: ${err.message}`);
    });
  });
}

/** Sends a request that has no reply (starting something ahead). */
function tell(request: LauncherRequest): void {
  try {
    connect().child.send(request, () => {});
  } catch {
    // no launcher now: the next run or count reports why
  }
}

/** The launcher's failure reply as an error, or undefined for any other reply. */
function failureOf(r: LauncherReply): SpareFfmpegError | undefined {
  if (!('error' in r)) return undefined;
  return r.error.timeout ? new SpareFfmpegTimeoutError(r.error.message) : new SpareFfmpegError(r.error.message);
}

/** Has a spare ffmpeg for `args` (with `inputs` input pipes) started ahead, unless one waits already. */
export function prepareOnPipes(args: readonly string[], inputs: number): void {
  tell({ type: 'prepare', args: [...args], inputs });
}

/**
 * Runs ffmpeg with `args` (whose inputs are `pipe:3`, `pipe:4`, … one per element of `inputs`) on these
 * bytes, in the launcher, through a spare when one waits; resolves to its stdout. Killed past `timeoutMs`
 * (SpareFfmpegTimeoutError). Only for inputs ffmpeg reads front to back (MPEG-TS): a pipe cannot seek.
 */
export async function runOnPipes(args: readonly string[], inputs: readonly Uint8Array[], timeoutMs: number): Promise<string> {
  const id = nextId++;
  const r = await ask({ type: 'run', id, args: [...args], inputs: [...inputs], timeoutMs }, timeoutMs + LAUNCHER_GRACE_MS);
  if ('stdout' in r) return r.stdout;
  throw failureOf(r) ?? new SpareFfmpegError('the ffmpeg launcher answered something else');
}

/** Has the launcher start the frame counter now, unless it runs already. */
export function prepareCounter(): void {
  tell({ type: 'prepareCount' });
}

/**
 * Frame count and size of each MPEG-TS segment, from the frame counter in the launcher (frameCounter.ts).
 * SpareFfmpegTimeoutError past `timeoutMs`, SpareFfmpegUnavailableError when the launcher is gone,
 * SpareFfmpegError when the counter crashed on these segments; a timeout also when it was killed or is not built.
 */
export async function countOnCounter(inputs: readonly Uint8Array[], timeoutMs: number): Promise<FrameCount[]> {
  const id = nextId++;
  const r = await ask({ type: 'count', id, inputs: [...inputs], timeoutMs }, timeoutMs + LAUNCHER_GRACE_MS);
  if ('counts' in r) return r.counts;
  throw failureOf(r) ?? new SpareFfmpegError('the ffmpeg launcher answered something else');
}

/**
 * Runs the `name` tool at `path` over files (`args` name them), in the launcher, `env` added to its
 * environment; resolves to how it went. SpareFfmpegTimeoutError when the launcher did not answer in time,
 * SpareFfmpegUnavailableError when it is gone, SpareFfmpegError when none could start.
 */
export async function runToolInLauncher(
  name: ToolName,
  path: string,
  env: Record<string, string>,
  args: readonly string[],
  timeoutMs: number,
): Promise<ToolOutcome> {
  const id = nextId++;
  const r = await ask({ type: 'tool', id, name, path, env, args: [...args], timeoutMs }, timeoutMs + LAUNCHER_GRACE_MS);
  if ('outcome' in r) return r.outcome;
  throw failureOf(r) ?? new SpareFfmpegError('the ffmpeg launcher answered something else');
}

async function pidsOf(of: 'spares' | 'counter'): Promise<number[]> {
  const r = await ask({ type: 'pids', id: nextId++, of }, QUERY_TIMEOUT_MS);
  return 'pids' in r && Array.isArray(r.pids) ? r.pids.filter((p) => Number.isSafeInteger(p)) : [];
}

/** Process ids of the spares waiting now (what `/status` or a test may look at). */
export const spareProcessIds = (): Promise<number[]> => pidsOf('spares');
/** The frame counter's process id while it runs, as a list (empty when it does not). */
export const frameCounterProcessIds = (): Promise<number[]> => pidsOf('counter');

/** Forks the launcher now, while this process is small, unless it runs: later probes and decodes find it. */
export function startFfmpegLauncher(): void {
  try {
    connect();
  } catch {
    // no ffmpeg to give it: a probe then runs ffprobe from this process, a decode fails as it would
  }
}

/** The launcher's process id while it runs (tests and benches look at it). */
export const launcherProcessId = (): number | undefined => (launcher && !launcher.gone ? launcher.child.pid : undefined);

/** Stops the launcher and its spares (at shutdown; they would also exit on their own once this process does). */
export function stopSpareFfmpegs(): void {
  const l = launcher;
  if (!l) return;
  end(l, 'the ffmpeg launcher was stopped');
  // closing the channel is the launcher's signal to stop its spares and exit
  if (l.child.connected) l.child.disconnect();
  else l.child.kill('SIGKILL');
}
