// Starts and stops a local anvil chain (from the @foundry-rs/anvil npm package) that stands in for
// Arbitrum One: chain id 42161, the default anvil mnemonic accounts, listening on 127.0.0.1 only.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readBody } from '../../src/lib/body.ts';
import { DevnetError } from './errors.ts';

export const ARBITRUM_ONE_CHAIN_ID = 42161;

export interface AnvilOptions {
  /** TCP port; a free one is picked by the OS when omitted or 0. */
  port?: number;
  /** Defaults to 42161 (Arbitrum One) so chain-specific code paths run as in production. */
  chainId?: number;
  /** Seconds between blocks (interval mining). Omitted: a block is mined for every transaction. */
  blockTime?: number;
  /** How long to wait for the RPC to answer, in ms (default 20 000). */
  startTimeoutMs?: number;
}

export interface Anvil {
  rpcUrl: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

// npm package suffixes published by foundry for each platform.
const PLATFORMS: Record<string, string> = { linux: 'linux', darwin: 'darwin', win32: 'win32' };
const ARCHS: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

/** Absolute path of the anvil binary shipped in node_modules for this platform. */
export function anvilBinaryPath(): string {
  const platform = PLATFORMS[process.platform];
  const arch = ARCHS[process.arch];
  if (!platform || !arch) {
    throw new DevnetError(`anvil is not published for ${process.platform}/${process.arch}; install foundry and put anvil on PATH`);
  }
  const pkg = `@foundry-rs/anvil-${platform}-${arch}`;
  const require = createRequire(import.meta.url);
  let pkgDir: string;
  try {
    pkgDir = dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    throw new DevnetError(`${pkg} is not installed: run npm install (it is an optional dependency of @foundry-rs/anvil)`);
  }
  const bin = join(pkgDir, 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  if (!existsSync(bin)) throw new DevnetError(`anvil binary missing at ${bin}: reinstall ${pkg}`);
  return bin;
}

// Every anvil still running when this process exits is killed, also on SIGINT/SIGTERM/SIGHUP.
const running = new Set<ChildProcess>();
let exitHooksInstalled = false;

function killAll(): void {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  running.clear();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAll();
      // If nobody else handles the signal, keep its default meaning (terminate).
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
}

// On Linux, setpriv makes the kernel kill anvil when its parent dies, even on SIGKILL of the parent.
let setprivAvailable: boolean | undefined;
function hasSetpriv(): boolean {
  if (setprivAvailable === undefined) {
    setprivAvailable = process.platform === 'linux' && spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status === 0;
  }
  return setprivAvailable;
}

/** eth_chainId's answer is a few dozen bytes. */
const MAX_RPC_ANSWER_BYTES = 64 * 1024;

async function rpcAnswers(rpcUrl: string): Promise<boolean> {
  try {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(1000),
    });
    if (!res.body) return false;
    const body = JSON.parse((await readBody(res.body, MAX_RPC_ANSWER_BYTES)).toString('utf8')) as { result?: string };
    return typeof body.result === 'string';
  } catch {
    return false;
  }
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Starts anvil and resolves once `eth_chainId` answers. */
export async function startAnvil(opts: AnvilOptions = {}): Promise<Anvil> {
  const chainId = opts.chainId ?? ARBITRUM_ONE_CHAIN_ID;
  const timeoutMs = opts.startTimeoutMs ?? 20_000;
  const args = ['--host', '127.0.0.1', '--port', String(opts.port ?? 0), '--chain-id', String(chainId)];
  if (opts.blockTime !== undefined) args.push('--block-time', String(opts.blockTime));

  const bin = anvilBinaryPath();
  installExitHooks();
  const child = hasSetpriv()
    ? spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));

  // anvil logs every RPC method on stdout; keep the pipes drained so it never blocks on a full pipe,
  // and remember the tail for error messages.
  let output = '';
  const remember = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', remember);
  child.stderr?.on('data', remember);

  const stopChild = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    if (!(await waitForExit(child, 3000))) {
      child.kill('SIGKILL');
      await waitForExit(child, 3000);
    }
    running.delete(child);
  };

  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new DevnetError(`anvil did not start within ${timeoutMs} ms`)), timeoutMs);
      const onData = (): void => {
        // With --port 0 the OS picks the port; anvil prints the one it got.
        const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          resolve(Number(m[1]));
        }
      };
      child.stdout?.on('data', onData);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new DevnetError(`could not run anvil (${bin}): ${err.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new DevnetError(`anvil exited during start-up (code ${code}, signal ${signal}):\n${output}`));
      });
    });

    const rpcUrl = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + timeoutMs;
    while (!(await rpcAnswers(rpcUrl))) {
      if (child.exitCode !== null) throw new DevnetError(`anvil exited during start-up:\n${output}`);
      if (Date.now() > deadline) throw new DevnetError(`anvil on ${rpcUrl} did not answer eth_chainId within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }

    const pid = child.pid;
    if (pid === undefined) throw new DevnetError('anvil started without a pid');
    let stopping: Promise<void> | undefined;
    return { rpcUrl, port, pid, stop: () => (stopping ??= stopChild()) };
  } catch (err) {
    await stopChild();
    throw err;
  }
}
