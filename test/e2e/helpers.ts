// Whole-node test helpers: a gateway on free ports, an RTMP publisher of a 720p test pattern,
// HLS readers and ffprobe.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createServer as createNetServer } from 'node:net';
import { pino } from 'pino';
import { buildNodeConfig } from '../../src/cli/nodeConfig.ts';
import { ffmpegPath, ffprobePath, mediaToolEnv } from '../../src/media/ffmpegBinaries.ts';
import { startGateway, type Gateway } from '../../src/node/gateway.ts';
import { startNode } from '../../src/node/run.ts';
import { Writable } from 'node:stream';
import type { ChainServices } from '../../src/node/chain.ts';
import { testSourceArgs } from '../media/testMedia.ts';

const run = promisify(execFile);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A port nothing listens on (bound once, then released). */
export async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * A free port for a listener that binds only later, while other sockets come and go. It lies below the
 * kernel's ephemeral range, so an outgoing connection in the meantime cannot be given it (a port from
 * freePort() can be, and the late bind then fails with EADDRINUSE).
 */
export async function latePort(): Promise<number> {
  const range = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '32768 60999');
  const low = Number(range.trim().split(/\s+/)[0]) || 32768;
  const floor = Math.max(1024, low - 12_000);
  for (let tries = 0; tries < 50; tries++) {
    const port = floor + Math.floor(Math.random() * (low - floor));
    const srv = createNetServer();
    const ok = await new Promise<boolean>((r) => {
      srv.once('error', () => r(false));
      srv.listen(port, '127.0.0.1', () => r(true));
    });
    if (ok) {
      await new Promise((r) => srv.close(r));
      return port;
    }
  }
  throw new Error('no free port below the ephemeral range');
}

export interface TestGateway {
  gateway: Gateway;
  datadir: string;
  stop(): Promise<void>;
}

export async function startTestGateway(flags: Record<string, string>, chain?: ChainServices): Promise<TestGateway> {
  const datadir = await mkdtemp(join(tmpdir(), 'lpgw-'));
  const config = buildNodeConfig(new Map(Object.entries({ rtmpAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', cliAddr: '127.0.0.1:0', datadir, ...flags })));
  const log = pino({ level: process.env.LP_TEST_LOG ?? 'silent' });
  const gateway = await startGateway({ config, log, ...(chain ? { chain } : {}) });
  return {
    gateway,
    datadir,
    async stop() {
      await gateway.stop();
      await rm(datadir, { recursive: true, force: true });
    },
  };
}

export interface TestNode {
  gateway: Gateway;
  controlUrl: string;
  stop(): Promise<void>;
}

/** The whole node (gateway + control API, on-chain services when the flags ask for them) on free ports. */
export async function startTestNode(flags: Record<string, string>): Promise<TestNode> {
  const datadir = await mkdtemp(join(tmpdir(), 'lpnode-'));
  const config = buildNodeConfig(new Map(Object.entries({ rtmpAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', cliAddr: '127.0.0.1:0', datadir, ...flags })));
  let printed = '';
  const node = await startNode(
    config,
    pino({ level: process.env.LP_TEST_LOG ?? 'silent' }),
    new Writable({
      write: (c, _e, cb) => {
        printed += c;
        cb();
      },
    }),
  );
  return {
    gateway: node.gateway,
    controlUrl: /CLI server listening on (\S+)/.exec(printed)![1]!,
    async stop() {
      await node.stop();
      await rm(datadir, { recursive: true, force: true });
    },
  };
}

const publishers = new Set<ChildProcess>();

/** Publishes a live 1280x720 test pattern (real time) to an RTMP URL. */
export function publish720p(url: string, seconds: number): { exited: Promise<number | null>; kill(): void; startedAt: number } {
  const proc = spawn(ffmpegPath(), [...testSourceArgs({ seconds, fps: 30, gopSeconds: 2, size: '1280x720', realtime: true }), '-f', 'flv', url], {
    env: mediaToolEnv('ffmpeg'),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  publishers.add(proc);
  proc.stderr!.resume();
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      publishers.delete(proc);
      resolve(code);
    }),
  );
  return { exited, kill: () => proc.kill('SIGKILL'), startedAt: Date.now() };
}

export function killAllPublishers(): void {
  for (const p of publishers) p.kill('SIGKILL');
}

export async function getText(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}

export async function getBytes(url: string): Promise<Buffer> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

export function mediaSeqs(playlist: string): number[] {
  return [...playlist.matchAll(/\/(\d+)\.ts$/gm)].map((m) => Number(m[1]));
}

export async function probeSize(data: Buffer): Promise<{ width: number; height: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'lpprobe-'));
  try {
    const file = join(dir, 'seg.ts');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, data);
    const { stdout } = await run(ffprobePath(), ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'json', file], {
      env: mediaToolEnv('ffprobe'),
    });
    const s = JSON.parse(stdout).streams[0];
    return { width: s.width, height: s.height };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function waitUntil<T>(fn: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}
