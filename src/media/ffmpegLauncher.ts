// The ffmpeg launcher: a small child process that keeps the spare ffmpegs (or the frame counter) and
// starts them, and runs ffprobe and ffmpeg over files for the gateway, so that the gateway's own process
// never spawns one per segment or request (spareFfmpeg.ts says why).
// It is started with fork() and an IPC channel, takes requests in order, and exits (stopping what it
// started) when the channel closes.
import { countFrames, type FrameCount, frameCounterPid, prepareCounter, stopFrameCounter } from './frameCounter.ts';
import { prepareOnPipes, runOnPipes, SpareFfmpegTimeoutError, spareProcessIds, stopSpareFfmpegs, useFfmpeg } from './ffmpegSpares.ts';
import { runTool, type ToolName, type ToolOutcome } from './runTool.ts';

/** What the gateway asks; `id` pairs a request with its reply. */
export type LauncherRequest =
  | { type: 'prepare'; args: string[]; inputs: number }
  | { type: 'run'; id: number; args: string[]; inputs: Uint8Array[]; timeoutMs: number }
  | { type: 'pids'; id: number; of: 'spares' | 'counter' }
  | { type: 'prepareCount' }
  | { type: 'count'; id: number; inputs: Uint8Array[]; timeoutMs: number }
  /** one run of the tool at `path` over files, its `env` added to the launcher's own */
  | { type: 'tool'; id: number; name: ToolName; path: string; env: Record<string, string>; args: string[]; timeoutMs: number };

/** The launcher's answers: ffmpeg's stdout, the frame counter's counts, why either failed, how a tool's run went, or the process ids of the spares and the counter. */
export type LauncherReply =
  | { id: number; stdout: string }
  | { id: number; outcome: ToolOutcome }
  | { id: number; counts: FrameCount[] }
  | { id: number; error: { timeout: boolean; message: string } }
  | { id: number; pids: number[] };

/** The first argument: the ffmpeg binary the gateway found, and the environment it runs with. */
export interface LauncherBinary {
  path: string;
  env: Record<string, string>;
}

function reply(r: LauncherReply): void {
  process.send?.(r);
}

/** Replies to request `id` once `work` settles: its result, or why it failed. */
function replyWhenDone<T>(id: number, work: Promise<T>, answer: (result: T) => LauncherReply): void {
  work.then(
    (result) => reply(answer(result)),
    (err: Error) => reply({ id, error: { timeout: err instanceof SpareFfmpegTimeoutError, message: err.message } }),
  );
}

function serve(m: LauncherRequest): void {
  switch (m.type) {
    case 'prepare':
      prepareOnPipes(m.args, m.inputs);
      return;
    case 'run':
      replyWhenDone(m.id, runOnPipes(m.args, m.inputs, m.timeoutMs), (stdout) => ({ id: m.id, stdout }));
      return;
    case 'pids': {
      const counter = frameCounterPid();
      reply({ id: m.id, pids: m.of === 'spares' ? spareProcessIds() : counter === undefined ? [] : [counter] });
      return;
    }
    case 'prepareCount':
      prepareCounter();
      return;
    case 'count':
      replyWhenDone(m.id, countFrames(m.inputs, m.timeoutMs), (counts) => ({ id: m.id, counts }));
      return;
    case 'tool':
      replyWhenDone(m.id, runTool(m.name, m.path, { ...process.env, ...m.env }, m.args, m.timeoutMs), (outcome) => ({ id: m.id, outcome }));
      return;
  }
}

if (!process.send) {
  process.stderr.write('ffmpegLauncher runs as a child of the gateway, with an IPC channel\n');
  process.exit(2);
}
const given = JSON.parse(process.argv[2] ?? 'null') as LauncherBinary | null;
if (given) useFfmpeg(given.path, { ...process.env, ...given.env });
process.on('message', (m) => serve(m as LauncherRequest));
// the gateway exited or stopped the launcher: the spares go with it
process.on('disconnect', () => {
  stopSpareFfmpegs();
  stopFrameCounter();
  process.exit(0);
});
