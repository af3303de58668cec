// What bench/load.ts and bench/soak.ts share: core pinning, /proc accounting of a process tree, the
// pre-encoded 720p input and its publishers, and the gateway binary started on the devnet.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalNetwork } from '../scripts/devnet/network.ts';
import { ffmpegPath, mediaToolEnv } from '../src/media/ffmpegBinaries.ts';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The q-quantile of xs (nearest rank; NaN when empty). */
export const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]! : Number.NaN;
};
/** The middle value; for an even count, the mean of the two middle ones. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const CLK_TCK = 100; // Linux USER_HZ
const PAGE_KB = 4;

// ---- pinning ---------------------------------------------------------------------------------------
export const twoCores = cpus().length >= 2 && existsSync('/usr/bin/taskset');
/** This process and everything it starts from now on run on core 1 (the system under test gets core 0). */
export function pinSelfToCore1(): void {
  if (twoCores) execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
}
/** A command line that runs on core 0. */
export const pinned = (cmd: string, cmdArgs: string[]): [string, string[]] => (twoCores ? ['taskset', ['-c', '0', cmd, ...cmdArgs]] : [cmd, cmdArgs]);

// ---- /proc accounting of a process tree ------------------------------------------------------------
interface ProcRow {
  pid: number;
  ppid: number;
  cpuTicks: number;
  childTicks: number;
  /** of cpuTicks, those in the kernel (system calls, page faults) */
  sysTicks: number;
  /** minor page faults so far */
  minflt: number;
  rssKb: number;
}
/**
 * A /proc stat file (a process's or a thread's): its name, and the fields after it, from the state on
 * (proc(5) numbers them from 3), so f[11] + f[12] are its user + system ticks. Undefined once it is gone.
 */
function readStat(path: string): { name: string; f: string[] } | undefined {
  try {
    const stat = readFileSync(path, 'utf8');
    const end = stat.lastIndexOf(')');
    return { name: stat.slice(stat.indexOf('(') + 1, end), f: stat.slice(end + 2).split(' ') };
  } catch {
    return undefined;
  }
}
function readProc(pid: number): ProcRow | undefined {
  const f = readStat(`/proc/${pid}/stat`)?.f;
  if (!f) return undefined; // gone
  return {
    pid,
    ppid: Number(f[1]),
    cpuTicks: Number(f[11]) + Number(f[12]),
    childTicks: Number(f[13]) + Number(f[14]),
    sysTicks: Number(f[12]),
    minflt: Number(f[7]),
    rssKb: Number(f[21]) * PAGE_KB,
  };
}
/**
 * CPU seconds so far of the threads of `pids`, by group: each process's main thread ('main'), and the
 * others by name (Node leaves V8's and libuv's helper threads named 'node': 'helpers'; the gateway's
 * malloc addon names its thread 'heap-prefault').
 */
export function threadGroupCpuS(pids: readonly number[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // gone
    }
    for (const tid of tids) {
      const stat = readStat(`/proc/${pid}/task/${tid}/stat`);
      if (!stat) continue; // the thread ended
      const group = Number(tid) === pid ? 'main' : stat.name === 'node' ? 'helpers' : stat.name;
      out.set(group, (out.get(group) ?? 0) + (Number(stat.f[11]) + Number(stat.f[12])) / CLK_TCK);
    }
  }
  return out;
}
/** Busy and total jiffies of each CPU core so far (/proc/stat), for how busy each core was over a window. */
export function coreTimes(): { busy: number; total: number }[] {
  return readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((l) => /^cpu\d+ /.test(l))
    .map((l) => {
      const f = l.trim().split(/\s+/).slice(1).map(Number);
      const idle = (f[3] ?? 0) + (f[4] ?? 0); // idle + iowait
      const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
      return { busy: total - idle, total };
    });
}

/** Per core, the share of time it was busy between two coreTimes() readings, in %. */
export function coreBusy(a: ReturnType<typeof coreTimes>, b: ReturnType<typeof coreTimes>): number[] {
  return b.map((x, i) => {
    const dt = x.total - (a[i]?.total ?? 0);
    return dt > 0 ? ((x.busy - (a[i]?.busy ?? 0)) / dt) * 100 : 0;
  });
}

/**
 * bench/load.ts with `flags`, in a process of its own with its output passed through: its `load:` line, and
 * a reader of the line's numeric fields (NaN for a field it does not have).
 */
export function loadRunLine(flags: readonly string[]): Promise<{ line: string; field: (name: string) => number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'bench/load.ts', ...flags], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout!.on('data', (c: Buffer) => {
      out += c;
      process.stdout.write(c);
    });
    p.once('exit', (code) => {
      const line = /^load: .*$/m.exec(out)?.[0];
      if (code !== 0 || !line) return reject(new Error(`bench/load.ts ${flags.join(' ')} failed (exit ${code})`));
      resolve({ line, field: (name) => Number(new RegExp(`\\b${name}=(\\d+(?:\\.\\d+)?)`).exec(line)?.[1] ?? Number.NaN) });
    });
  });
}

/** CPU seconds (the processes, their live descendants and reaped children), RSS (all, and of the roots alone) and process count of the trees rooted at `roots`. */
export function treeStats(roots: readonly number[]): {
  cpuS: number;
  rootCpuS: number;
  /** of rootCpuS, in the kernel */
  rootSysCpuS: number;
  /** the roots' own minor page faults so far */
  rootFaults: number;
  rssKb: number;
  rootRssKb: number;
  processes: number;
} {
  const rows = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readProc(Number(d)))
    .filter((r): r is ProcRow => r !== undefined);
  const children = new Map<number, ProcRow[]>();
  for (const r of rows) children.set(r.ppid, [...(children.get(r.ppid) ?? []), r]);
  let ticks = 0;
  let rssKb = 0;
  let processes = 0;
  const visit = (r: ProcRow) => {
    ticks += r.cpuTicks + r.childTicks;
    rssKb += r.rssKb;
    processes++;
    for (const c of children.get(r.pid) ?? []) visit(c);
  };
  let rootRssKb = 0;
  let rootTicks = 0;
  let rootSysTicks = 0;
  let rootFaults = 0;
  for (const pid of roots) {
    const r = rows.find((x) => x.pid === pid);
    if (r) {
      rootRssKb += r.rssKb;
      rootTicks += r.cpuTicks; // its own threads, not its children
      rootSysTicks += r.sysTicks;
      rootFaults += r.minflt;
      visit(r);
    }
  }
  return { cpuS: ticks / CLK_TCK, rootCpuS: rootTicks / CLK_TCK, rootSysCpuS: rootSysTicks / CLK_TCK, rootFaults, rssKb, rootRssKb, processes };
}
/** Children of `parent` whose command name (/proc/PID/comm) is `name`, e.g. the devnet's anvil. */
export function childPidsNamed(parent: number, name: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const row = readProc(Number(d));
    if (row?.ppid !== parent) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === name) out.push(row.pid);
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * One process's resident memory by kind (/proc/PID/smaps): the malloc heap grown with brk (`[heap]`: segment
 * buffers and other native allocations of the main thread), with its size (what the heap's top reached),
 * the other anonymous memory (V8's heap, thread stacks, other threads' malloc arenas) and file-backed pages.
 */
export function rssParts(pid: number): { heapKb: number; heapSizeKb: number; otherAnonKb: number; fileKb: number } {
  const out = { heapKb: 0, heapSizeKb: 0, otherAnonKb: 0, fileKb: 0 };
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return out;
  }
  let kind: 'heap' | 'anon' | 'file' = 'anon';
  for (const line of text.split('\n')) {
    const range = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (range) {
      const name = range[4]!;
      kind = name === '[heap]' ? 'heap' : range[3] !== '0' || name.startsWith('/') ? 'file' : 'anon';
      if (kind === 'heap') out.heapSizeKb += (Number.parseInt(range[2]!, 16) - Number.parseInt(range[1]!, 16)) / 1024;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (!rss) continue;
    const kb = Number(rss[1]);
    if (kind === 'heap') out.heapKb += kb;
    else if (kind === 'file') out.fileKb += kb;
    else out.otherAnonKb += kb;
  }
  return out;
}

/** Open file descriptors of one process (sockets, pipes, files). */
export function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

// ---- inputs ----------------------------------------------------------------------------------------
/** 10 s of 1280×720 30 fps H.264 at 3 Mbit/s with AAC, a keyframe every 2 s: looped by every publisher. */
export async function preEncodedInput(): Promise<string> {
  const file = join(tmpdir(), 'lpbench-load-720p30-3M-10s.flv');
  if (existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.tmp`;
  await run(ffmpegPath(), [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440'],
    ...['-t', '10', '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '3M', '-maxrate', '3M', '-bufsize', '6M', '-g', '60', '-keyint_min', '60'],
    ...['-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-f', 'flv', tmp],
  ]);
  execFileSync('mv', [tmp, file]);
  return file;
}
function run(cmd: string, cmdArgs: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, cmdArgs, { env: mediaToolEnv('ffmpeg'), stdio: ['ignore', 'ignore', 'inherit'] });
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}`))));
  });
}
/** `ffmpeg -re -c copy` of the looped input to `url` for `seconds`. */
export function publish(input: string, url: string, seconds: number): ChildProcess {
  return spawn(
    ffmpegPath(),
    ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', input, '-t', String(seconds), '-c', 'copy', '-f', 'flv', url],
    { env: mediaToolEnv('ffmpeg'), stdio: ['ignore', 'ignore', 'inherit'] },
  );
}
/**
 * Resolves once every port has a socket listening on it (Linux: /proc/net/tcp), without connecting: a
 * probe connection would be the one an `ffmpeg -listen 1` accepts. Elsewhere, waits a second.
 */
export async function listening(ports: readonly number[], timeoutMs = 30_000): Promise<void> {
  if (!existsSync('/proc/net/tcp')) {
    await sleep(1000);
    return;
  }
  const LISTEN = '0A';
  for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(50)) {
    const open = new Set<number>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      if (!existsSync(table)) continue;
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const [, local, , state] = line.trim().split(/\s+/);
        if (state === LISTEN && local) open.add(Number.parseInt(local.split(':')[1] ?? '', 16));
      }
    }
    if (ports.every((p) => open.has(p))) return;
  }
  throw new Error(`not listening after ${timeoutMs} ms: ${ports.join(', ')}`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
export const exited = (p: ChildProcess) => new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));

// ---- the gateway -----------------------------------------------------------------------------------
export interface GatewayProcess {
  proc: ChildProcess;
  rtmp: string;
  http: string;
  /** the control API's /metrics text (-monitor) */
  metrics(): Promise<string>;
  /** the control API's base URL (http://host:port) */
  control: string;
  datadir: string;
  /** the gateway's 'source segment timing' debug lines (per-stage ms from the frame that closed a segment to the playlist) */
  timings: SourceTiming[];
  /** the gateway's 'segment overhead' debug lines: where each segment's time before its upload went, ms */
  overheads: Record<string, number>[];
  /** the gateway's 'rendition latency' debug lines: per transcoded segment, its time beyond the orchestrator's, ms */
  renditionLatencies: Record<string, number>[];
  /** the gateway's 'sampled decode passed' debug lines: -localVerify's full decode, after the renditions were published */
  decodeChecks: Record<string, number>[];
  /** when the gateway accepted each RTMP publish (ms since epoch, from its log), by manifest ID */
  publishAccepted: Map<string, number>;
}

export interface SourceTiming {
  manifestId: string;
  seq: number;
  /** the closing keyframe's RTMP message → the segment cut (in-process: the muxer; with ffmpeg: its pipe and cut) */
  cutMs?: number;
  /** cut → the stream took it */
  handOverMs?: number;
  toPlaylistMs?: number;
  totalMs?: number;
  /** when the gateway logged it, the segment being in the playlist (ms since epoch) */
  time?: number;
}

export interface GatewayProcessOptions {
  /** an existing data directory (a restart keeps its ledger); default a fresh temporary one */
  datadir?: string;
  /** flags that replace the devnet's (e.g. ethUrl through a proxy) */
  flags?: Record<string, string>;
  /** Node's own flags, before the script (e.g. --heapsnapshot-signal) */
  nodeArgs?: string[];
  /** every line the gateway writes to stderr (its debug log) is also appended to this file */
  logFile?: string;
  /** what the gateway writes to stdout (its start-up lines, and V8's with --trace-gc) is appended to this file */
  stdoutFile?: string;
}

/** The gateway binary on the devnet, pinned to core 0, with -monitor. */
export async function startGatewayProcess(
  binary: string,
  net: LocalNetwork,
  maxSessions: number,
  profileDir?: string,
  opts: GatewayProcessOptions = {},
): Promise<GatewayProcess> {
  const datadir = opts.datadir ?? (await mkdtemp(join(tmpdir(), 'lpbench-gw-')));
  const flags = Object.entries({
    ...net.gatewayFlags,
    ethKeystorePath: join(root, 'keystore'),
    ethPassword: 'devnet',
    datadir,
    rtmpAddr: '127.0.0.1:0',
    httpAddr: '127.0.0.1:0',
    cliAddr: '127.0.0.1:0',
    maxSessions: String(maxSessions),
    // debug: the per-segment source timings (a build without them logs only its warnings on top)
    v: '4',
    logFormat: 'json',
    ...opts.flags,
  })
    .flatMap(([k, v]) => [`-${k}`, v])
    .concat('-monitor');
  const profArgs = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const [cmd, cmdArgs] = pinned(process.execPath, [...profArgs, ...(opts.nodeArgs ?? []), binary, '-gateway', ...flags]);
  const proc = spawn(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  // the start-up lines (read below) and the last output (shown if it dies), not all of a long run's stdout
  let out = '';
  let lastOut = '';
  const stdoutCopy = opts.stdoutFile ? createWriteStream(opts.stdoutFile, { flags: 'a' }) : undefined;
  proc.stdout!.on('data', (c: Buffer) => {
    stdoutCopy?.write(c);
    const text = c.toString('utf8');
    if (out.length < 65_536) out += text;
    lastOut = (lastOut + text).slice(-2000);
  });
  const timings: SourceTiming[] = [];
  const publishAccepted = new Map<string, number>();
  const overheads: Record<string, number>[] = [];
  const renditionLatencies: Record<string, number>[] = [];
  const decodeChecks: Record<string, number>[] = [];
  let errLine = '';
  const logCopy = opts.logFile ? createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
  proc.stderr!.on('data', (c: Buffer) => {
    logCopy?.write(c);
    errLine += c.toString('utf8');
    for (let nl = errLine.indexOf('\n'); nl >= 0; nl = errLine.indexOf('\n')) {
      const line = errLine.slice(0, nl);
      errLine = errLine.slice(nl + 1);
      if (line.includes('"source segment timing"')) timings.push(JSON.parse(line) as SourceTiming);
      else if (line.includes('"segment overhead"')) overheads.push(JSON.parse(line) as Record<string, number>);
      else if (line.includes('"rendition latency"')) renditionLatencies.push(JSON.parse(line) as Record<string, number>);
      else if (line.includes('"sampled decode passed"')) decodeChecks.push(JSON.parse(line) as Record<string, number>);
      else if (line.includes('"RTMP publish accepted"')) {
        const { manifestId, time } = JSON.parse(line) as { manifestId: string; time: number };
        publishAccepted.set(manifestId, time);
      }
      // warnings and errors, and anything not a log line (a crash's stack trace)
      else if (/"level":(40|50|60)/.test(line) || !line.startsWith('{')) process.stderr.write(`${line}\n`);
    }
  });
  proc.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') process.stderr.write(`gateway exited (code ${code}, signal ${signal}); its last output:\n${lastOut}\n`);
  });
  while (!/CLI server listening on (\S+)/.test(out)) {
    if (proc.exitCode !== null) throw new Error(`gateway exited: ${out}`);
    await sleep(50);
  }
  const cliAddr = /CLI server listening on (\S+)/.exec(out)![1]!;
  const cli = cliAddr.startsWith('http') ? cliAddr : `http://${cliAddr}`;
  return {
    proc,
    rtmp: /Video Ingest Endpoint - (\S+)/.exec(out)![1]!,
    http: /HTTP Server listening on (\S+)/.exec(out)![1]!,
    metrics: async () => (await fetch(`${cli}/metrics`)).text(),
    control: cli,
    datadir,
    timings,
    publishAccepted,
    overheads,
    renditionLatencies,
    decodeChecks,
  };
}

/**
 * The gateway's metrics once every source segment that appeared since `base` (a metrics text; empty for
 * the start) is transcoded or failed, or after `withinMs`: each stream's last segment is cut when its
 * publisher stops, and all publishers stop at once.
 */
export async function metricsOnceSegmentsSettled(metrics: () => Promise<string>, base = '', withinMs = 10_000): Promise<string> {
  const delta = (text: string, name: string) => counter(text, name) - counter(base, name);
  const settled = (text: string) => {
    const appeared = delta(text, 'livepeer_segment_source_appeared_total');
    return appeared > 0 && delta(text, 'livepeer_segment_transcoded_total') + delta(text, 'livepeer_segment_transcode_failed_total') >= appeared;
  };
  const until = Date.now() + withinMs;
  let text = await metrics();
  while (!settled(text) && Date.now() < until) {
    await sleep(500);
    text = await metrics();
  }
  return text;
}

/**
 * One stream past the input's loop point (10 s), then a moment for its segments: the orchestrators in load
 * mode have encoded their renditions for every segment length the streams will have (the one across the
 * loop is longer) and the gateway's code is hot. Without it the first segments of many streams at once wait
 * for those encodes on the rig's core, past the gateway's per-segment timeout.
 */
export async function warmUp(input: string, rtmp: string, metrics: () => Promise<string>): Promise<void> {
  await exited(publish(input, `${rtmp}/live/warmup`, 12));
  for (const until = Date.now() + 8_000; Date.now() < until; await sleep(250)) {
    if (counter(await metrics(), 'livepeer_segment_transcoded_total') >= 2) break;
  }
  await sleep(1000); // the warm-up stream ends
}

/** Each series of a Prometheus counter by the value of one label, e.g. failures by `error_code`. */
export function counterByLabel(text: string, name: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    const value = new RegExp(`(?:^|,)${label}="([^"]*)"`).exec(m[1]!)?.[1] ?? '';
    out.set(value, (out.get(value) ?? 0) + Number(m[2]));
  }
  return out;
}

/** Sum of a Prometheus counter's series. */
export function counter(text: string, name: string): number {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}
