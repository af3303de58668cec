// A devnet orchestrator as a child process (scripts/devnet/orchestrator/main.ts, bundled) that can be SIGKILLed and
// started again with the same key and port, for bench/chaos.ts. It keeps the intervals it was up (from its
// "ready" line to its kill), appends its log to a file and records every ticket it reads (--ticket-log).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Hex } from 'viem';
import type { DevnetContracts } from '../scripts/devnet/deploy.ts';
import { exited, root, sleep } from './harness.ts';

export interface UpInterval {
  from: number;
  /** undefined while up */
  to?: number;
}

export interface OrchestratorSpec {
  index: number;
  privateKey: Hex;
  port: number;
  rpcUrl: string;
  contracts: DevnetContracts;
  /** wei per pixel */
  pricePerUnit: bigint;
  ticketEV: bigint;
  maxFaceValue: bigint;
  runDir: string;
  /** gas a redemption is assumed to cost (default 1) */
  redeemGas?: bigint;
  /** concurrent transcoding sessions (default 8) */
  maxSessions?: number;
  /** record every ticket read (default true; chaos checks them, load runs need not) */
  ticketLog?: boolean;
  /** write a V8 CPU profile there when it stops (node --cpu-prof) */
  cpuProfDir?: string;
  /** the bundled command line to start (bundleOrchestrator()) */
  bundle: string;
}

/** Children still running: killed if the bench itself exits early (a thrown error), so none is left behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export class OrchestratorProcess {
  readonly ups: UpInterval[] = [];
  readonly logFile: string;
  readonly ticketLog: string;
  uri = '';
  starts = 0;
  #proc: ChildProcess | undefined;

  constructor(readonly spec: OrchestratorSpec) {
    this.logFile = join(spec.runDir, `orchestrator-${spec.index + 1}.log`);
    this.ticketLog = join(spec.runDir, `orchestrator-${spec.index + 1}-tickets.jsonl`);
  }

  /** the running process's pid (undefined before the first start) */
  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  get up(): boolean {
    return this.ups.at(-1)?.to === undefined && this.ups.length > 0;
  }

  /** Starts it and waits for its "ready" line. */
  async start(): Promise<void> {
    const s = this.spec;
    const args = [
      ...(s.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', s.cpuProfDir] : []),
      ...[s.bundle, '--load-mode', '--host', '127.0.0.1', '--port', String(s.port)],
      ...['--rpc-url', s.rpcUrl, '--contracts', JSON.stringify(s.contracts), '--price-per-unit', String(s.pricePerUnit), '--pixels-per-unit', '1'],
      ...['--ticket-ev', String(s.ticketEV), '--max-face-value', String(s.maxFaceValue), '--redeem-gas', String(s.redeemGas ?? 1n), '--initialize-rounds'],
      ...['--max-sessions', String(s.maxSessions ?? 8), '--load-mode-cache', join(s.runDir, 'renditions')],
      ...(s.ticketLog === false ? [] : ['--ticket-log', this.ticketLog]),
    ];
    const proc = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ORCH_PRIVATE_KEY: s.privateKey }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#proc = proc;
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    this.starts++;
    const log = createWriteStream(this.logFile, { flags: 'a' });
    proc.stderr!.pipe(log, { end: false });
    let pending = '';
    let ready: { uri: string } | undefined;
    proc.stdout!.on('data', (chunk: Buffer) => {
      log.write(chunk);
      if (ready) return;
      pending += chunk.toString();
      for (const line of pending.split('\n')) {
        if (line.includes('"event":"ready"')) ready = JSON.parse(line) as { uri: string };
      }
      pending = pending.slice(pending.lastIndexOf('\n') + 1);
    });
    proc.once('exit', () => log.end());
    // Generous: on a machine shared with other work a start (loading, TLS key, chain reads) has taken a minute.
    for (const until = Date.now() + 300_000; !ready; await sleep(20)) {
      if (proc.exitCode !== null || Date.now() > until) throw new Error(`orchestrator ${s.index + 1} did not start; see ${this.logFile}`);
    }
    this.uri = ready.uri;
    this.ups.push({ from: Date.now() });
  }

  /** SIGKILL: no goodbye, whatever it was reading is lost. */
  async kill(): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    const last = this.ups.at(-1);
    if (last && last.to === undefined) last.to = Date.now();
    proc.kill('SIGKILL');
    await exited(proc);
  }

  /** SIGTERM at the end of the run (its pending redemptions may still be in flight). */
  async stop(): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    const last = this.ups.at(-1);
    if (last && last.to === undefined) last.to = Date.now();
    proc.kill('SIGTERM');
    await exited(proc);
  }
}

/** Sub-intervals of [from, to] in which none of `orchestrators` was up. */
export function noneUpWindows(orchestrators: readonly OrchestratorProcess[], from: number, to: number): { from: number; to: number }[] {
  const edges = orchestrators.flatMap((o) => o.ups.flatMap((u) => [u.from, u.to ?? to]));
  const points = [...new Set([from, to, ...edges.filter((t) => t > from && t < to)])].sort((a, b) => a - b);
  const upAt = (t: number) => orchestrators.some((o) => o.ups.some((u) => u.from <= t && t < (u.to ?? Number.POSITIVE_INFINITY)));
  const out: { from: number; to: number }[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i]!;
    const b = points[i + 1]!;
    if (upAt((a + b) / 2)) continue;
    const prev = out.at(-1);
    if (prev && prev.to === a) prev.to = b;
    else out.push({ from: a, to: b });
  }
  return out;
}
