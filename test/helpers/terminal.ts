// A shell command line run in a real pseudo-terminal, typed at as an operator would. The terminal comes
// from util-linux `script` (in every Debian base system; nothing to build): it gives the command a pty,
// forwards what the test writes to the pty as keystrokes, and copies the screen to its standard output.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../scripts/livepeer-gateway.mjs', import.meta.url));

export interface TerminalSession {
  /** Everything the terminal showed so far (escape sequences included). */
  readonly screen: () => string;
  /** Resolves once the screen matches after `from` (default: anywhere); rejects on exit or after `timeoutMs`. */
  waitFor(pattern: RegExp, opts?: { timeoutMs?: number; from?: number }): Promise<RegExpExecArray>;
  /** Types a line and presses Enter. */
  typeLine(text: string): void;
  /** Presses Ctrl-C. */
  interrupt(): void;
  /** The command's exit code, once it has exited. */
  readonly exited: Promise<number | null>;
  kill(): void;
}

/**
 * Runs `commandLine` with bash in a pseudo-terminal. `livepeer-gateway` on its PATH is this checkout's
 * binary, as after `npm link`.
 */
export async function runInTerminal(commandLine: string, env: NodeJS.ProcessEnv): Promise<TerminalSession> {
  const binDir = await mkdtemp(join(tmpdir(), 'lpgw-bin-'));
  await symlink(BIN, join(binDir, 'livepeer-gateway'));
  const child: ChildProcess = spawn('script', ['--quiet', '--return', '--command', commandLine, '/dev/null'], {
    env: { ...env, SHELL: '/bin/bash', TERM: 'xterm', PATH: `${binDir}${delimiter}${env.PATH ?? process.env.PATH}` },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    screen += chunk.toString('utf8');
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  child.stdin!.on('error', () => {});
  let done = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      done = true;
      for (const l of listeners) l();
      void rm(binDir, { recursive: true, force: true });
      resolve(code);
    });
  });
  return {
    screen: () => screen,
    waitFor(pattern, opts = {}) {
      const timeoutMs = opts.timeoutMs ?? 90_000;
      const from = opts.from ?? 0;
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(screen.slice(from));
          if (m) {
            finish();
            resolve(m);
          } else if (done) {
            finish();
            reject(new Error(`the command exited before ${pattern} appeared; terminal:\n${screen}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`${pattern} did not appear within ${timeoutMs} ms; terminal:\n${screen}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    typeLine: (text) => child.stdin!.write(`${text}\r`),
    interrupt: () => child.stdin!.write('\x03'),
    exited,
    kill: () => {
      if (!done) child.kill('SIGKILL');
    },
  };
}

/** Fails with a clear sentence when a port that a verbatim command line needs is taken. */
export async function assertPortFree(port: number, what: string): Promise<void> {
  const srv = createServer();
  const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    srv.once('error', resolve);
    srv.listen(port, '127.0.0.1', () => resolve(undefined));
  });
  if (!err) {
    await new Promise((r) => srv.close(r));
    return;
  }
  throw new Error(`127.0.0.1:${port} is busy (${err.code}): ${what}. Stop whatever listens there (another gateway or test run?) and run the test again.`);
}
