// Starts the devnet orchestrator's command line as a child process (main.ts through tsx, or its bundle)
// and waits for the ready line it prints first.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ReadyLine {
  uri: string;
  maxSessions: number;
}

export interface OrchestratorCommand {
  child: ChildProcess;
  ready: ReadyLine;
  /** SIGTERM, then its exit code */
  stop(): Promise<number | null>;
}

/** `nodeArgs`: what comes before the flags (e.g. ['--import', 'tsx', main]); off-chain (no key). */
export async function startOrchestratorCommand(nodeArgs: readonly string[], flags: readonly string[]): Promise<OrchestratorCommand> {
  const child = spawn(process.execPath, [...nodeArgs, ...flags], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ORCH_PRIVATE_KEY: '' },
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const lines = createInterface({ input: child.stdout! });
    const ready = await new Promise<ReadyLine>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no ready line within 15 s')), 15_000);
      lines.on('line', (line) => {
        const entry = JSON.parse(line) as ReadyLine & { event?: string };
        if (entry.event === 'ready') {
          clearTimeout(timer);
          resolve(entry);
        }
      });
      void exited.then((code) => reject(new Error(`exited with ${code}: ${stderr}`)));
    });
    return {
      child,
      ready,
      stop: () => {
        child.kill('SIGTERM');
        return exited;
      },
    };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}
