// One run of ffprobe or ffmpeg over files, bounded in time (killed past it, so it never lingers) and in
// output, and how it went. The ffmpeg launcher runs these for the gateway: a loaded gateway starts no child
// process of its own (spareFfmpeg.ts says why). The gateway runs one itself only when no launcher can.
import { execFile } from 'node:child_process';

export type ToolName = 'ffprobe' | 'ffmpeg';

/** Its stdout; or why there is none: the binary is gone, it ran past its time, or it could not read the media. */
export type ToolOutcome = { stdout: string } | { failed: 'gone' | 'timeout' | 'unreadable'; message: string };

/** Most stdout kept: ffprobe's JSON of a segment, or a frame list, is a few KiB. */
export const MAX_TOOL_STDOUT = 4 << 20;

/** Runs `path` (the `name` tool) with `args` and `env`, killed past `timeoutMs`. Never rejects. */
export function runTool(name: ToolName, path: string, env: NodeJS.ProcessEnv, args: readonly string[], timeoutMs: number): Promise<ToolOutcome> {
  return new Promise((resolve) => {
    execFile(path, [...args], { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_TOOL_STDOUT }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout: String(stdout) });
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      if (e.code === 'ENOENT') resolve({ failed: 'gone', message: `${name} ${path} is gone (set ${name.toUpperCase()}_PATH)` });
      // killed for its output, not its time: what it was given made it print without end
      else if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER')
        resolve({ failed: 'unreadable', message: `${name} cannot read the media: it printed more than ${MAX_TOOL_STDOUT} bytes` });
      else if (e.killed) resolve({ failed: 'timeout', message: `${name} took longer than ${timeoutMs} ms` });
      else {
        const last = String(stderr).trim().split('\n').slice(-2).join(' ') || e.message;
        resolve({ failed: 'unreadable', message: `${name} cannot read the media: ${last}` });
      }
    });
  });
}
