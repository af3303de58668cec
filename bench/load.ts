// N concurrent paid 720p streams through the real gateway binary on the local devnet (real chain, real
// tickets, orchestrators in their load mode: renditions encoded once and reused), and the same N streams
// through bare ffmpeg RTMP→HLS copy segmenting as the floor. On a machine with two or more cores the
// system under test (the gateway and its children, or the bare ffmpeg segmenters) is pinned to core 0 and
// everything else (this process, the chain, the orchestrators, the publishers) to core 1. The publishers
// are one process (bench/publishers.ts) that sends each stream in 4096-byte chunks, as OBS does.
// Run: npm run bench:load -- [--streams N] [--seconds S] [--cpu-prof DIR] [--no-floor | --no-gateway] [--baseline CHECKOUT]
//   [--node-args="FLAGS"] [--gateway-flags="-name value …"] [--orchestrator-logs] [--orchestrator-cpu-prof DIR] [--floor-first]
import { type ChildProcess, spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { distIsCurrent } from '../scripts/dist.mjs';
import { ffmpegPath, mediaToolEnv } from '../src/media/ffmpegBinaries.ts';
import { SEGMENTS_KEPT } from '../src/server/hls.ts';
import {
  coreBusy,
  coreTimes,
  childPidsNamed,
  counter,
  counterByLabel,
  exited,
  freePort,
  listening,
  metricsOnceSegmentsSettled,
  pct,
  pinned,
  pinSelfToCore1,
  preEncodedInput,
  root,
  sleep,
  type SourceTiming,
  startGatewayProcess,
  threadGroupCpuS,
  treeStats,
  twoCores,
  warmUp,
} from './harness.ts';
import { type LoadNetwork, startLoadNetwork } from './loadNetwork.ts';
import { readFlv, segmentStartsMs } from './rtmpPublisher.ts';

const { values: args } = parseArgs({
  options: {
    streams: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '30' },
    'cpu-prof': { type: 'string' },
    'no-floor': { type: 'boolean', default: false },
    /** the floor alone: where bare ffmpeg's knee lies, far past the gateway's */
    'no-gateway': { type: 'boolean', default: false },
    /** keep the devnet orchestrators' logs (a line per segment with its stages' times) and say where */
    'orchestrator-logs': { type: 'boolean', default: false },
    /** CPU profiles of the devnet orchestrators (what they spend core 1 on), written there when they stop */
    'orchestrator-cpu-prof': { type: 'string' },
    'probe-streams': { type: 'string', default: '2' },
    /** a checkout (built) whose gateway runs first in the same conditions, for before/after ratios */
    baseline: { type: 'string' },
    /** node flags for the gateway under test (not the baseline), e.g. to try a V8 setting side by side */
    'node-args': { type: 'string' },
    /** gateway flags for the gateway under test (not the baseline), e.g. `-localVerifyDecodeFraction 0` side by side */
    'gateway-flags': { type: 'string' },
    /** bare ffmpeg first, then the gateway (bench/ratio.ts alternates the order from run to run) */
    'floor-first': { type: 'boolean', default: false },
  },
});
const N = Number(args.streams);
const SECONDS = Number(args.seconds);
if (!Number.isInteger(N) || N < 1 || !(SECONDS >= 10)) throw new Error('--streams must be ≥ 1 and --seconds ≥ 10');
const PROBES = Math.min(N, Number(args['probe-streams']));
const SEGMENT_S = 2;
/**
 * Stream start-ups per segment period, at most. Each costs core 1 a publisher's start (ffmpeg, ~90 ms of
 * CPU) and the orchestrators a GetOrchestrator and TLS handshakes; 56 of them within one period held core 1
 * at 100 % for 6 s, and the first segments timed out at the orchestrators for want of the rig's core, not
 * the gateway's.
 */
const MAX_STARTS_PER_SEGMENT = 12;
const RAMP_PERIODS = Math.ceil(N / MAX_STARTS_PER_SEGMENT);
/** From the first stream's start until every stream runs. */
const RAMP_MS = RAMP_PERIODS * SEGMENT_S * 1000;
/** Measured from this long after the first start: every stream started, its first segments out. */
const WARM_MS = Math.max(Math.min(6000, (SECONDS * 1000) / 4), RAMP_MS + 4000);
if (SECONDS * 1000 - 500 - WARM_MS < 5000) {
  throw new Error(
    `--seconds ${SECONDS} leaves no measuring window for ${N} streams (they start over ${RAMP_MS / 1000} s): give at least ${Math.ceil((WARM_MS + 5500) / 1000)}`,
  );
}
const RENDITION = 'P360p30fps16x9';
const RENDITIONS = ['P240p30fps16x9', RENDITION];
pinSelfToCore1(); // this process, the chain, the orchestrators and the publishers; the gateway or the bare ffmpegs get core 0

// ---- statistics ------------------------------------------------------------------------------------
/**
 * How far a receiver fell behind: per stream, each segment's glass-to-playlist less the stream's smallest
 * (the receiver's own fixed delay: bare ffmpeg lists a segment ~2 s after its closing frame even with one
 * stream, having buffered its input's first seconds to probe it); the largest over all streams, in ms. A
 * receiver that keeps real time stays within a segment of its fixed delay; one that does not builds a
 * backlog in its sockets' buffers (a publisher is held back only once those are full, tens of seconds later).
 */
const backlogMs = (lagsByStream: Iterable<number[]>): number => {
  let most = 0;
  for (const lags of lagsByStream) if (lags.length > 0) most = Math.max(most, Math.max(...lags) - Math.min(...lags));
  return most;
};
const ms = (x: number) =>
  Number.isFinite(x) ? `${x < 10 ? x.toFixed(1) : Math.round(x)}ms` : x === Number.POSITIVE_INFINITY ? 'above the largest bucket' : 'n/a';
/** `+1.5 MiB` or `−0.6 MiB`: a growth that may be a shrink. */
const signedMiB = (x: number) => `${x < 0 ? '−' : '+'}${Math.abs(x).toFixed(1)} MiB`;

interface Window {
  cpuS: number;
  /** the root processes' own threads (the gateway process without its ffmpeg children) */
  rootCpuS: number;
  /** of rootCpuS, in the kernel (system calls, page faults) */
  rootSysCpuS: number;
  /** the root processes' minor page faults */
  rootFaults: number;
  /** CPU seconds of the root processes' threads by group (threadGroupCpuS) */
  rootThreads: Map<string, number>;
  wallS: number;
  rssAboveKb: number;
  /** the root processes alone (the gateway without its ffmpeg children; for bare ffmpeg, all of them) */
  rootRssAboveKb: number;
  /** each core's busy share over the window, % (core 0: the system under test; core 1: everything else) */
  coresBusy: number[];
  /**
   * each core's share of the window's seconds in which it was at least SATURATED % busy: an average well
   * under 100 % can hide seconds in which the rig's core had nothing left for the orchestrators
   */
  coresSaturated: number[];
  /** mean RSS of one process other than the roots (the gateway's segmenters) or of one root (bare ffmpeg) */
  perProcessKb: number;
  /** CPU of what shares core 1, by group, % of a core over the window: what bounds the rig */
  neighbours: Record<string, number>;
}

/** The processes on core 1 by group: publishers, orchestrators, the chain (this process is added apart). */
type Neighbours = Record<string, number[]>;
function rigProcesses(publishers: readonly ChildProcess[], net: LoadNetwork): Neighbours {
  return {
    publishers: publishers.map((p) => p.pid!),
    orchestrators: net.orchestratorProcesses.map((o) => o.pid).filter((p) => p !== undefined),
    chain: childPidsNamed(process.pid, 'anvil'),
  };
}
const SELF = 'this process';
function neighbourCpu(groups: Record<string, number[]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pids] of Object.entries(groups)) out[name] = treeStats(pids).cpuS;
  const own = process.cpuUsage();
  out[SELF] = (own.user + own.system) / 1e6;
  return out;
}
/** A core this busy in a second had nothing to spare in it (the sampling itself and rounding take the rest). */
const SATURATED = 95;
/** Each core's average, and the share of seconds it was saturated when there were any. */
const coresLine = (w: Window): string =>
  w.coresBusy
    .map(
      (x, i) =>
        `core ${i} ${x.toFixed(0)} %${(w.coresSaturated[i] ?? 0) > 0 ? ` (≥ ${SATURATED} % in ${w.coresSaturated[i]!.toFixed(0)} % of its seconds)` : ''}`,
    )
    .join(', ');
/** CPU over [start+warm, end−0.5 s] of the publishing period, and mean RSS above `baselineKb` in its second half. */
async function measureWindow(
  roots: () => number[],
  publishStart: number,
  baseline: { rssKb: number; rootRssKb: number },
  neighbours: Neighbours,
): Promise<Window> {
  await sleep(publishStart + WARM_MS - Date.now());
  const a = treeStats(roots());
  const threadsA = threadGroupCpuS(roots());
  const coresA = coreTimes();
  const neighboursA = neighbourCpu(neighbours);
  const t0 = performance.now();
  const samples: ReturnType<typeof treeStats>[] = [];
  const seconds: number[][] = [];
  let coresBefore = coresA;
  const endAt = publishStart + SECONDS * 1000 - 500;
  while (Date.now() < endAt - 1000) {
    await sleep(1000);
    const cores = coreTimes();
    seconds.push(coreBusy(coresBefore, cores));
    coresBefore = cores;
    if (Date.now() > publishStart + (SECONDS * 1000) / 2) samples.push(treeStats(roots()));
  }
  await sleep(Math.max(0, endAt - Date.now()));
  const b = treeStats(roots());
  const threadsB = threadGroupCpuS(roots());
  const coresB = coreTimes();
  const coresBusy = coreBusy(coresA, coresB);
  seconds.push(coreBusy(coresBefore, coresB));
  const coresSaturated = coresBusy.map((_, i) => (seconds.filter((busy) => (busy[i] ?? 0) >= SATURATED).length / seconds.length) * 100);
  const neighboursB = neighbourCpu(neighbours);
  const wallS = (performance.now() - t0) / 1000;
  if (samples.length === 0) samples.push(b);
  const mean = (f: (x: ReturnType<typeof treeStats>) => number) => samples.reduce((n, x) => n + f(x), 0) / samples.length;
  const nRoots = roots().length;
  // bare ffmpeg: every process is a root; the gateway: one root and its children
  const perProcessKb = nRoots > 1 ? mean((x) => x.rssKb) / nRoots : mean((x) => (x.processes > 1 ? (x.rssKb - x.rootRssKb) / (x.processes - 1) : 0));
  return {
    cpuS: b.cpuS - a.cpuS,
    rootCpuS: b.rootCpuS - a.rootCpuS,
    rootSysCpuS: b.rootSysCpuS - a.rootSysCpuS,
    rootFaults: b.rootFaults - a.rootFaults,
    // threads that ended within the window are left out
    rootThreads: new Map([...threadsB].map(([group, cpuS]) => [group, cpuS - (threadsA.get(group) ?? 0)])),
    wallS,
    coresBusy,
    coresSaturated,
    rssAboveKb: mean((x) => x.rssKb) - baseline.rssKb,
    rootRssAboveKb: mean((x) => x.rootRssKb) - baseline.rootRssKb,
    perProcessKb,
    neighbours: Object.fromEntries(Object.entries(neighboursB).map(([k, v]) => [k, ((v - (neighboursA[k] ?? 0)) / wallS) * 100])),
  };
}

/**
 * Bytes of the segments a stream's HLS store keeps (SEGMENTS_KEPT per rendition, more than the playlists
 * list): the mean size of the listed segments of each playlist × SEGMENTS_KEPT.
 */
async function hlsWindowBytes(streamUrl: string): Promise<number> {
  let total = 0;
  for (const pl of ['source', ...RENDITIONS]) {
    const url = `${streamUrl}/${pl}.m3u8`;
    const res = await fetch(url).catch(() => undefined);
    if (res?.status !== 200) continue;
    const uris = (await res.text()).split('\n').filter((l) => l.trim().endsWith('.ts'));
    const sizes = await Promise.all(
      uris.map(async (u) => {
        const r = await fetch(new URL(u.trim(), url)).catch(() => undefined);
        return r?.status === 200 ? (await r.arrayBuffer()).byteLength : 0;
      }),
    );
    if (sizes.length > 0) total += (sizes.reduce((a, b) => a + b, 0) / sizes.length) * SEGMENTS_KEPT;
  }
  return total;
}

/**
 * When stream i starts, from the first: i/N of a segment plus (i mod RAMP_PERIODS) whole segments. The
 * streams of real publishers do not all reach their keyframes at the same moment (N segments arriving in
 * the same instant would measure a burst), and at most MAX_STARTS_PER_SEGMENT start in any one period.
 */
const startOffsetMs = (i: number) => (i * SEGMENT_S * 1000) / N + (i % RAMP_PERIODS) * SEGMENT_S * 1000;

/** A publisher ending more than a segment behind its schedule did not keep real time. */
const LATE_MS = SEGMENT_S * 1000;
interface Publishers {
  /** one process for every stream (bench/publishers.ts) */
  proc: ChildProcess;
  /** when the offsets count from */
  startedAt: number;
  /** per stream, when its publisher began to connect (ms since epoch; NaN until then) */
  streamStartedAt: number[];
  /** per stream, how far behind its schedule its last message went out (Infinity: it failed) */
  lateMs: Promise<number[]>;
}
/**
 * The N streams, paced by their timestamps (`-re`): a receiver that does not take the bytes in time (TCP
 * pushes back), or a core 1 too busy to run the publishers, makes them late.
 */
function startPublishers(input: string, urls: readonly string[]): Promise<Publishers> {
  const specs = urls.map((u, i) => `${u}@${startOffsetMs(i).toFixed(0)}`);
  const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/publishers.ts'), input, String(SECONDS), ...specs], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const late = urls.map(() => Number.POSITIVE_INFINITY);
  const streamStartedAt = urls.map(() => Number.NaN);
  let startedAt: ((t: number) => void) | undefined;
  const ready = new Promise<number>((r) => (startedAt = r));
  let buffered = '';
  proc.stdout!.on('data', (c: Buffer) => {
    buffered += c;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const [event, i, ms] = buffered.slice(0, nl).split(' ');
      buffered = buffered.slice(nl + 1);
      if (event === 'ready') startedAt?.(Date.now());
      else if (event === 'started') streamStartedAt[Number(i)] = Date.now();
      else if (event === 'ended') late[Number(i)] = Number(ms);
    }
  });
  // 'close': every line read, not only the process gone
  const lateMs = new Promise<number[]>((r) => proc.once('close', () => r(late)));
  return Promise.race([ready, exited(proc).then(() => Promise.reject(new Error('bench/publishers.ts exited before it started')))]).then((t) => ({
    proc,
    startedAt: t,
    streamStartedAt,
    lateMs,
  }));
}
interface Pacing {
  late: number;
  maxLateMs: number;
}
async function pacing(publishers: Publishers): Promise<Pacing> {
  const lateMs = await publishers.lateMs;
  return { late: lateMs.filter((ms) => ms > LATE_MS).length, maxLateMs: Math.max(0, ...lateMs) };
}
const pacingLine = (x: Pacing) => `publishers ${x.late} late (over ${LATE_MS / 1000} s behind; most ${(x.maxLateMs / 1000).toFixed(1)} s)`;

// ---- the gateway phase -----------------------------------------------------------------------------
interface GatewayResult {
  label: string;
  window: Window;
  idleRssKb: number;
  appeared: number;
  transcoded: number;
  failed: number;
  missing: number;
  pacing: Pacing;
  overhead: { p50: number; p99: number } | undefined;
  queued: { p50: number; p99: number } | undefined;
  beyondOrchestrator: { p50: number; p99: number } | undefined;
  sourceInProcess: { p50: number; p99: number } | undefined;
  srcLat: number[];
  /** the same from the gateway's log line per source segment, every stream */
  srcLogged: number[];
  /** backlogMs() of the source playlists, from the gateway's log */
  backlogMs: number;
  renLat: number[];
  /** the gateway's garbage collection by kind (major, minor, incremental, weakcb), seconds from the publishers' start until the segments settled */
  gcS: Map<string, number>;
  /** event-loop delay of this process (the chain, the publishers, the playlist polls) during the window */
  benchLoopDelayMs: { p50: number; p99: number; max: number };
  /** bytes of segments the gateway keeps in memory for one stream (SEGMENTS_KEPT per rendition) */
  hlsWindowPerStream: number;
  /** the gateway's own per-stage source timings (absent in builds without them) */
  timings: SourceTiming[];
  /** per segment, where the overhead went (absent in builds without it) */
  overheads: Record<string, number>[];
  /** per transcoded segment, the renditions' time beyond the orchestrator's (absent in builds without it) */
  renditionLatencies: Record<string, number>[];
  /** -localVerify's sampled full decodes, which end after their renditions are published (absent in older builds) */
  decodeChecks: Record<string, number>[];
}

/** p50/p99 upper bounds from a Prometheus histogram's buckets, in ms; undefined when the gateway has none. */
function histogramQuantiles(text: string, name: string): { p50: number; p99: number } | undefined {
  const buckets = [...text.matchAll(new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\S+)$`, 'gm'))].map((m) => ({
    le: m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]),
    n: Number(m[2]),
  }));
  const total = buckets.find((b) => b.le === Number.POSITIVE_INFINITY)?.n ?? 0;
  if (total === 0) return undefined;
  const q = (x: number) => (buckets.find((b) => b.n >= x * total)?.le ?? Number.NaN) * 1000;
  return { p50: q(0.5), p99: q(0.99) };
}

/** `-name value` pairs, as the gateway takes them; anything else is refused. */
function gatewayFlags(text: string): Record<string, string> {
  const words = text.split(' ').filter(Boolean);
  const out: Record<string, string> = {};
  for (let i = 0; i < words.length; i += 2) {
    const name = words[i]!;
    const value = words[i + 1];
    if (!/^-[A-Za-z]\w*$/.test(name) || value === undefined) throw new Error(`--gateway-flags: expected "-name value" pairs, got ${JSON.stringify(text)}`);
    out[name.slice(1)] = value;
  }
  return out;
}

async function gatewayPhase(
  label: string,
  binary: string,
  input: string,
  net: LoadNetwork,
  profileDir?: string,
  nodeArgs: string[] = [],
  flags: Record<string, string> = {},
): Promise<GatewayResult> {
  const started = await startGatewayProcess(binary, net, N + 4, profileDir, { nodeArgs, flags });
  const { proc: gw, rtmp, http, metrics } = started;

  await warmUp(input, rtmp, metrics);
  const base = await metrics();
  const idle = treeStats([gw.pid!]);

  const publishers = await startPublishers(
    input,
    Array.from({ length: N }, (_, i) => `${rtmp}/live/load${i}`),
  );
  const publishStart = publishers.startedAt;
  // Segment n of a stream is closed by the keyframe that starts segment n + 1, sent at t0 + its time in the
  // looped input (segmentStartsMs), where t0 is when the gateway accepted the publish (else when the publisher was
  // started); the first segment (connection set-up) and the last (cut short by the end of the stream) are
  // left out.
  const closingKeyframeMs = segmentStartsMs(readFlv(input), SECONDS, SEGMENT_S * 1000);
  const lastSeq = Math.min(SECONDS / SEGMENT_S - 1, closingKeyframeMs.length - 1);
  const closedAt = (manifestId: string, seq: number): number => (started.publishAccepted.get(manifestId) ?? publishStart) + closingKeyframeMs[seq + 1]!;
  // Glass-to-playlist on the first PROBES streams. Each playlist is polled every 50 ms from the moment the
  // frame that closes a segment is sent until the segment is listed, and then not until the next one closes:
  // a few requests per segment, as a player's reload once per segment. (Polled every 50 ms all the time, 40
  // requests per segment, the probes cost the gateway up to 10 % of its CPU at 20 streams.)
  const seen = new Map<string, number>(); // `${stream}/${playlist}/${seq}` → first seen (ms since epoch)
  let polling = true;
  const probes = Array.from({ length: PROBES }, (_, i) =>
    ['source', RENDITION].map(async (pl) => {
      const manifestId = `load${i}`;
      while (polling && !started.publishAccepted.has(manifestId)) await sleep(50);
      for (let seq = 1; seq < lastSeq && polling; seq++) {
        const due = closedAt(manifestId, seq);
        await sleep(due - Date.now());
        const listed = new RegExp(`(?:^|/)${seq}\\.ts$`, 'm');
        // a segment listed at the first poll counts only when that poll came right after `due`
        let missed = false;
        for (const until = due + 10_000; polling && Date.now() < until; await sleep(50)) {
          const res = await fetch(`${http}/stream/${manifestId}/${pl}.m3u8`).catch(() => undefined);
          const now = Date.now();
          let text = '';
          if (res?.status === 200) text = await res.text();
          else await res?.arrayBuffer().catch(() => {}); // a 404 before the stream's first segment
          if (listed.test(text)) {
            if (missed || now - due <= 50) seen.set(`${i}/${pl}/${seq}`, now);
            break;
          }
          missed = true;
        }
      }
    }),
  ).flat();
  // The HLS window the gateway holds by design, sampled on one stream halfway through.
  const hlsWindow = sleep(publishStart + (SECONDS * 1000) / 2 - Date.now()).then(() => hlsWindowBytes(`${http}/stream/load0`));
  // how late this process's event loop ran says whether the playlist polls' times can be trusted
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const window = await measureWindow(() => [gw.pid!], publishStart, idle, rigProcesses([publishers.proc], net));
  loopDelay.disable();
  const hlsWindowPerStream = await hlsWindow;
  const publishersPacing = await pacing(publishers);
  polling = false;
  await Promise.all(probes);

  // Let the last segments finish (or fail) before counting.
  const text = await metricsOnceSegmentsSettled(metrics, base);
  const delta = (name: string) => counter(text, name) - counter(base, name);
  gw.kill('SIGTERM');
  await exited(gw);
  await rm(started.datadir, { recursive: true, force: true });

  const sinceClosingKeyframe = (manifestId: string, seq: number, t: number): number | undefined => {
    if (seq < 1 || seq >= lastSeq) return undefined;
    return t - closedAt(manifestId, seq);
  };
  const latency = (pl: string) => {
    const xs: number[] = [];
    for (const [key, t] of seen) {
      const [i, name, seq] = key.split('/');
      const x = name === pl ? sinceClosingKeyframe(`load${i}`, Number(seq), t) : undefined;
      if (x !== undefined) xs.push(x);
    }
    return xs;
  };
  // the same from the gateway's own log line (every stream, no polling): when the segment was in the playlist
  const loggedByStream = new Map<string, number[]>();
  for (const t of started.timings) {
    const x = t.manifestId.startsWith('load') && t.time !== undefined ? sinceClosingKeyframe(t.manifestId, t.seq, t.time) : undefined;
    if (x === undefined) continue;
    const lags = loggedByStream.get(t.manifestId) ?? [];
    lags.push(x);
    loggedByStream.set(t.manifestId, lags);
  }
  const loggedLatency = [...loggedByStream.values()].flat();
  const appeared = delta('livepeer_segment_source_appeared_total');
  const transcoded = delta('livepeer_segment_transcoded_total');
  const expected = N * Math.floor(SECONDS / SEGMENT_S);
  const gcAtStart = counterByLabel(base, 'nodejs_gc_duration_seconds_sum', 'kind');
  const gcAtEnd = counterByLabel(text, 'nodejs_gc_duration_seconds_sum', 'kind');
  return {
    label,
    window,
    idleRssKb: idle.rssKb,
    appeared,
    transcoded,
    failed: delta('livepeer_segment_transcode_failed_total'),
    missing: Math.max(0, expected - appeared) + Math.max(0, appeared - transcoded),
    pacing: publishersPacing,
    overhead: histogramQuantiles(text, 'livepeer_segment_overhead_seconds'),
    queued: histogramQuantiles(text, 'livepeer_segment_queued_seconds'),
    beyondOrchestrator: histogramQuantiles(text, 'livepeer_rendition_latency_beyond_orchestrator_seconds'),
    sourceInProcess: histogramQuantiles(text, 'livepeer_source_segment_latency_seconds'),
    srcLat: latency('source'),
    srcLogged: loggedLatency,
    backlogMs: backlogMs(loggedByStream.values()),
    renLat: latency(RENDITION),
    hlsWindowPerStream,
    gcS: new Map([...gcAtEnd].map(([kind, s]) => [kind, s - (gcAtStart.get(kind) ?? 0)])),
    benchLoopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
    // the first segment (start-up) is left out; warm-up stream too
    timings: started.timings.filter((t) => t.seq >= 1 && t.manifestId.startsWith('load')),
    overheads: started.overheads.filter((o) => String(o.manifestId).startsWith('load')),
    renditionLatencies: started.renditionLatencies.filter((o) => String(o.manifestId).startsWith('load')),
    decodeChecks: started.decodeChecks.filter((o) => String(o.manifestId).startsWith('load')),
  };
}

// ---- the floor: bare ffmpeg RTMP → HLS copy segmenting --------------------------------------------
interface FloorResult {
  window: Window;
  /** segments bare ffmpeg did not write, of N × SECONDS / SEGMENT_S */
  missing: number;
  pacing: Pacing;
  /** bare ffmpeg's glass-to-playlist per segment, every stream (ms) */
  srcLat: number[];
  backlogMs: number;
}
async function floorPhase(input: string, net: LoadNetwork): Promise<FloorResult> {
  const hlsRoot = await mkdtemp(join(tmpdir(), 'lpbench-floor-'));
  const ports = await Promise.all(Array.from({ length: N }, freePort));
  const segmenters = await Promise.all(
    ports.map(async (port, i) => {
      const dir = join(hlsRoot, String(i));
      await mkdir(dir);
      const [cmd, cmdArgs] = pinned(ffmpegPath(), [
        ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-listen', '1', '-i', `rtmp://127.0.0.1:${port}/live/s`],
        ...['-c', 'copy', '-f', 'hls', '-hls_time', String(SEGMENT_S), '-hls_list_size', '6', '-hls_flags', 'delete_segments', join(dir, 'index.m3u8')],
      ]);
      return spawn(cmd, cmdArgs, { env: mediaToolEnv('ffmpeg'), stdio: 'ignore' });
    }),
  );
  // every segmenter listening before its publisher starts (on a loaded machine ffmpeg takes more than a
  // second; their start-ups share core 0, ~0.15 s of CPU each)
  await listening(ports, Math.max(30_000, N * 300));
  // When each segment was listed: ffmpeg's HLS muxer writes the playlist with segment n and then creates
  // the file of segment n + 1, so that file's creation (inotify, no polling) dates segment n's listing.
  const listedAt = ports.map(() => new Map<number, number>());
  const watchers = ports.map((_, i) =>
    watch(join(hlsRoot, String(i)), (_event, name) => {
      const m = name ? /^index(\d+)\.ts$/.exec(name) : null;
      if (m && Number(m[1]) > 0 && !listedAt[i]!.has(Number(m[1]) - 1)) listedAt[i]!.set(Number(m[1]) - 1, Date.now());
    }),
  );
  const baseline = treeStats(segmenters.map((s) => s.pid!));
  const pubs = await startPublishers(
    input,
    ports.map((port) => `rtmp://127.0.0.1:${port}/live/s`),
  );
  const window = await measureWindow(() => segmenters.map((s) => s.pid!), pubs.startedAt, baseline, rigProcesses([pubs.proc], net));
  const floorPacing = await pacing(pubs);
  for (const w of watchers) w.close();
  // as the gateway's figure: from the frame that closes the segment (sent at the publisher's start plus its
  // time in the looped input) to the segment in the playlist; the first and the last segment left out
  const closingKeyframeMs = segmentStartsMs(readFlv(input), SECONDS, SEGMENT_S * 1000);
  const lastSeq = Math.min(SECONDS / SEGMENT_S - 1, closingKeyframeMs.length - 1);
  const floorLags = listedAt.map((listed, i) =>
    [...listed].filter(([seq]) => seq >= 1 && seq < lastSeq).map(([seq, t]) => t - (pubs.streamStartedAt[i]! + closingKeyframeMs[seq + 1]!)),
  );
  // each ffmpeg writes its last segment and exits when its publisher leaves; then count what it wrote
  await Promise.race([Promise.all(segmenters.map(exited)), sleep(10_000)]);
  for (const s of segmenters) s.kill('SIGKILL');
  await Promise.all(segmenters.map(exited));
  const perStreamExpected = Math.floor(SECONDS / SEGMENT_S);
  let missing = 0;
  for (let i = 0; i < N; i++) {
    // segments are numbered from 0 (index0.ts, …): the last one listed tells how many were written
    const list = await readFile(join(hlsRoot, String(i), 'index.m3u8'), 'utf8').catch(() => '');
    const numbers = [...list.matchAll(/index(\d+)\.ts/g)].map((m) => Number(m[1]));
    const written = numbers.length > 0 ? Math.max(...numbers) + 1 : 0;
    missing += Math.max(0, perStreamExpected - written);
  }
  await rm(hlsRoot, { recursive: true, force: true });
  return { window, missing, pacing: floorPacing, srcLat: floorLags.flat(), backlogMs: backlogMs(floorLags) };
}

/** Wall time of each phase of this run, s (where the two minutes of the must-show run go). */
const wall: [string, number][] = [];
let phaseStart = performance.now();
const phaseDone = (name: string) => {
  const now = performance.now();
  wall.push([name, (now - phaseStart) / 1000]);
  phaseStart = now;
};
const input = await preEncodedInput();
phaseDone('input');
// the orchestrators' log lines (one per segment, with where its time went) when asked for
const net = await startLoadNetwork(N, {
  keepLogs: args['orchestrator-logs'],
  ...(args['orchestrator-cpu-prof'] ? { cpuProfDir: args['orchestrator-cpu-prof'] } : {}),
});
if (args['orchestrator-logs']) console.log(`the devnet orchestrators' logs: ${net.runDir}/orchestrator-*.log`);
phaseDone('devnet');
const results: GatewayResult[] = [];
// the binary runs its sources through tsx when dist/ is not their build, and the figures then carry the loader
for (const dir of [...(args.baseline ? [args.baseline] : []), ...(args['no-gateway'] ? [] : [root])]) {
  if (!distIsCurrent(dir))
    console.log(`note: ${join(dir, 'dist')} is not the build of its sources (npm run build): that gateway runs its TypeScript through tsx`);
}
const runFloor = !args['no-floor'];
let floor: FloorResult | undefined;
if (runFloor && args['floor-first']) {
  floor = await floorPhase(input, net);
  phaseDone('bare ffmpeg');
}
if (args.baseline) {
  results.push(await gatewayPhase('baseline', join(args.baseline, 'scripts/livepeer-gateway.mjs'), input, net));
  phaseDone('baseline');
}
if (!args['no-gateway']) {
  results.push(
    await gatewayPhase(
      'gateway',
      join(root, 'scripts/livepeer-gateway.mjs'),
      input,
      net,
      args['cpu-prof'],
      args['node-args']?.split(' ').filter(Boolean),
      gatewayFlags(args['gateway-flags'] ?? ''),
    ),
  );
  phaseDone('gateway');
}
if (runFloor && !args['floor-first']) {
  floor = await floorPhase(input, net);
  phaseDone('bare ffmpeg');
}

await net.stop();
phaseDone('devnet stop');

// ---- report ----------------------------------------------------------------------------------------
/** What core 1 carried, by group. */
const neighbourLine = (w: Window) =>
  `core 1: ${Object.entries(w.neighbours)
    .map(([k, v]) => `${k} ${v.toFixed(0)} %`)
    .join(', ')}`;
const perStream = (w: Window) => (w.cpuS / w.wallS / N) * 100; // % of one core
const ffCpu = floor ? perStream(floor.window) : Number.NaN;
const expected = N * Math.floor(SECONDS / SEGMENT_S);
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; ` +
    `${N} streams × ${SECONDS} s 1280x720 30 fps 3 Mbit/s → P240p30fps16x9 + P360p30fps16x9, devnet orchestrators in load mode; ` +
    (twoCores ? 'system under test on core 0, the rest on core 1' : 'not pinned (one core or no taskset)') +
    (floor && results.length > 0 ? `; ${args['floor-first'] ? 'bare ffmpeg' : 'the gateway'} measured first` : ''),
);
if (floor) {
  console.log(
    `bare ffmpeg RTMP→HLS copy: CPU ${(ffCpu * N).toFixed(1)} % of a core, ${ffCpu.toFixed(2)} % per stream; RSS ${signedMiB(floor.window.rssAboveKb / 1024 / N)} per stream (${(floor.window.perProcessKb / 1024).toFixed(1)} MiB per ffmpeg process); ${floor.missing} segments missing; ${pacingLine(floor.pacing)}; cores busy ${coresLine(floor.window)} (${neighbourLine(floor.window)})`,
  );
  console.log(
    `  glass-to-playlist after the frame that closes the segment (all ${N} streams, each segment's listing dated by the file ffmpeg creates next): p50 ${ms(pct(floor.srcLat, 0.5))} p99 ${ms(pct(floor.srcLat, 0.99))} max ${ms(Math.max(...floor.srcLat))} (${floor.srcLat.length}); fell behind its own fixed delay by at most ${ms(floor.backlogMs)}`,
  );
}
for (const r of results) {
  const cpu = perStream(r.window);
  console.log(
    `${r.label} (process + children): CPU ${(cpu * N).toFixed(1)} % of a core, ${cpu.toFixed(2)} % per stream` +
      `${floor ? ` (${(cpu / ffCpu).toFixed(2)} × bare ffmpeg)` : ''}; RSS ${(r.idleRssKb / 1024).toFixed(0)} MiB idle, ${signedMiB(r.window.rssAboveKb / 1024 / N)} per stream`,
  );
  const ownCpu = (r.window.rootCpuS / r.window.wallS / N) * 100;
  console.log(
    `  CPU per stream: gateway process ${ownCpu.toFixed(2)} %, its children (the ffmpeg launcher and the ffmpegs it starts) ${(cpu - ownCpu).toFixed(2)} %; ` +
      `the gateway process: ${Math.round(r.window.rootFaults / r.window.wallS / N)} page faults per stream a second, ${r.window.rootCpuS > 0 ? Math.round((r.window.rootSysCpuS / r.window.rootCpuS) * 100) : 0} % of its CPU in the kernel`,
  );
  const threadShare = (cpuS: number) => `${((cpuS / r.window.wallS) * 100).toFixed(1)} %`;
  console.log(
    `  the gateway process's threads, % of a core: ${[...r.window.rootThreads]
      .sort(([x], [y]) => (x === 'main' ? -1 : y === 'main' ? 1 : x.localeCompare(y)))
      .map(([group, cpuS]) => `${group} ${threadShare(cpuS)}`)
      .join(', ')}`,
  );
  const processPerStream = r.window.rootRssAboveKb / 1024 / N;
  const windowMiB = r.hlsWindowPerStream / 1024 / 1024;
  console.log(
    `  RSS per stream: gateway process ${signedMiB(processPerStream)}, of which the HLS window (${SEGMENTS_KEPT} segments per rendition, by design) ${windowMiB.toFixed(1)} MiB: ` +
      `${signedMiB(processPerStream - windowMiB)} besides; ${r.window.perProcessKb > 0 ? `its child processes (the ffmpeg launcher, spare and decoding ffmpegs, any ffmpeg segmenter) ${(r.window.perProcessKb / 1024).toFixed(1)} MiB each` : 'no child processes'}`,
  );
  console.log(
    `  segments: ${r.appeared} source of ${expected} expected, ${r.transcoded} transcoded, ${r.failed} failed, ${r.missing} missing; ${pacingLine(r.pacing)}; ` +
      `per-segment overhead (transcode slot → upload started) ${r.overhead ? `p50 ≤ ${ms(r.overhead.p50)} p99 ≤ ${ms(r.overhead.p99)}` : 'n/a (no histogram in this build)'}; ` +
      `queued for a slot (earlier segments still at the orchestrator) ${r.queued ? `p50 ≤ ${ms(r.queued.p50)} p99 ≤ ${ms(r.queued.p99)}` : 'n/a'}`,
  );
  const q = (h: { p50: number; p99: number } | undefined) => (h ? `p50 ≤ ${ms(h.p50)} p99 ≤ ${ms(h.p99)}` : 'n/a');
  console.log(
    `  the gateway's histograms, all ${N} streams: source closing keyframe → source playlist ${q(r.sourceInProcess)}; ` +
      `renditions' time in the playlists beyond the orchestrator's ${q(r.beyondOrchestrator)}`,
  );
  const gcLine = [...r.gcS].map(([kind, s]) => `${kind} ${s.toFixed(1)} s`).join(', ');
  console.log(`  garbage collection in the gateway process from the publishers' start until its segments settled: ${gcLine || 'n/a'}`);
  const d = r.benchLoopDelayMs;
  console.log(
    `  cores busy during the window: ${coresLine(r.window)}; ` +
      `${neighbourLine(r.window)}; this process's event loop (chain, publishers, polls) late by p50 ${d.p50.toFixed(0)} ms, p99 ${d.p99.toFixed(0)} ms, max ${d.max.toFixed(0)} ms`,
  );
  console.log(
    `  glass-to-playlist after the frame that closes the segment (${PROBES} probe streams, each playlist polled every 50 ms from that frame until listed): source p50 ${ms(pct(r.srcLat, 0.5))} p99 ${ms(pct(r.srcLat, 0.99))} (${r.srcLat.length}); ` +
      `${RENDITION} p50 ${ms(pct(r.renLat, 0.5))} p99 ${ms(pct(r.renLat, 0.99))} (${r.renLat.length}); ` +
      `source, from the gateway's log line as it lists the segment (all ${N} streams) p50 ${ms(pct(r.srcLogged, 0.5))} p99 ${ms(pct(r.srcLogged, 0.99))} (${r.srcLogged.length}), fell behind its own fixed delay by at most ${ms(r.backlogMs)}`,
  );
}
const STAGES = ['cutMs', 'handOverMs', 'toPlaylistMs'] as const;
for (const r of results) {
  if (r.timings.length === 0) continue;
  const q = (key: keyof SourceTiming) => {
    const xs = r.timings.map((t) => t[key]).filter((x): x is number => typeof x === 'number');
    return `p50 ${pct(xs, 0.5).toFixed(1)} p99 ${pct(xs, 0.99).toFixed(1)}`;
  };
  console.log(
    `  ${r.label} in-process, all ${N} streams (${r.timings.length} segments): source keyframe's RTMP message → playlist ms ${q('totalMs')}; ` +
      `stages: ${STAGES.map((k) => `${k.replace(/Ms$/, '')} ${q(k)}`).join('; ')}`,
  );
}
const OVERHEAD_STAGES = ['overheadMs', 'shapeMs', 'sessionMs', 'refreshMs', 'roundMs', 'paymentMs', 'segDataMs', 'recordMs'] as const;
// (from /proc/thread-self/schedstat and the GC observer: where the overhead's wall time went)
const THREAD_STAGES = ['overheadMs', 'waitingMs', 'gcMs'] as const;
/** a stream's first segment a minute in */
const WARM_FROM_SEQ = 60 / SEGMENT_S;
for (const r of results) {
  if (r.overheads.length === 0) continue;
  const q = (xs: Record<string, number>[], key: string) => {
    const v = xs.map((o) => o[key]).filter((x): x is number => typeof x === 'number');
    if (v.length === 0) return 'n/a';
    return `p50 ${pct(v, 0.5).toFixed(2)} p99 ${pct(v, 0.99).toFixed(2)} max ${pct(v, 1).toFixed(1)}`;
  };
  // a stream's first segment also waits for its orchestrators to be found (GetOrchestrator to each) and
  // for its first synced ledger record; the later ones show the steady state
  const later = r.overheads.filter((o) => o.seq !== 0);
  const refreshed = r.overheads.filter((o) => (o.refreshMs ?? 0) > 1).length;
  console.log(
    `  ${r.label} per-segment overhead, exact (${r.overheads.length} segments, ${refreshed} with a GetOrchestrator refresh first): ` +
      OVERHEAD_STAGES.map((k) => `${k.replace(/Ms$/, '')} ${q(r.overheads, k)}`).join('; '),
  );
  console.log(
    `  ${r.label} per-segment overhead, later segments only (${later.length}): ` +
      OVERHEAD_STAGES.map((k) => `${k.replace(/Ms$/, '')} ${q(later, k)}`).join('; '),
  );
  // V8 is still compiling the hot paths in the first minute (its optimizing compiles, on helper threads that
  // share the core), so a run of a few minutes also shows the segments after it apart
  const warm = r.overheads.filter((o) => (o.seq ?? 0) >= WARM_FROM_SEQ);
  if (warm.length > 0) {
    console.log(
      `  ${r.label} per-segment overhead after the first minute (${warm.length} segments): ` +
        OVERHEAD_STAGES.map((k) => `${k.replace(/Ms$/, '')} ${q(warm, k)}`).join('; '),
    );
  }
  // the slow ones: the main thread waiting for the core (another thread or process had it), collecting
  // garbage, or running (this segment's work or other callbacks between its awaits)
  const slow = later.filter((o) => (o.overheadMs ?? 0) > 2 && typeof o.waitingMs === 'number');
  if (slow.length > 0) {
    const sum = (key: string) => slow.reduce((a, o) => a + (o[key] ?? 0), 0);
    const total = sum('overheadMs');
    const share = (x: number) => `${((100 * x) / total).toFixed(0)} %`;
    console.log(
      `  ${r.label} later segments over 2 ms (${slow.length}), main thread: ` +
        THREAD_STAGES.map((k) => `${k.replace(/Ms$/, '')} ${q(slow, k)}`).join('; ') +
        `; of their overhead time: waiting for the core ${share(sum('waitingMs'))}, collecting garbage ${share(sum('gcMs'))}, ` +
        `running ${share(total - sum('waitingMs') - sum('gcMs'))}`,
    );
  }
}
for (const r of results) {
  if (r.renditionLatencies.length === 0) continue;
  const stat = (xs: Record<string, number>[], key: string) => {
    const v = xs.map((o) => o[key]).filter((x): x is number => typeof x === 'number');
    return `p50 ${pct(v, 0.5).toFixed(0)} p99 ${pct(v, 0.99).toFixed(0)}`;
  };
  // a stream's first segment also waits for its orchestrators to be found (GetOrchestrator to each)
  const first = r.renditionLatencies.filter((o) => o.seq === 0);
  const rest = r.renditionLatencies.filter((o) => o.seq !== 0 && o.attempts === 1);
  const retried = r.renditionLatencies.filter((o) => (o.attempts ?? 1) > 1);
  console.log(
    `  ${r.label} renditions beyond the orchestrator's time, exact, ms: later segments on the first attempt (${rest.length}) ${stat(rest, 'beyondMs')} ` +
      `(of which queued for a slot ${stat(rest, 'queuedMs')}; the orchestrator itself ${stat(rest, 'orchestratorMs')}); ` +
      `first segments (${first.length}) ${stat(first, 'beyondMs')}; retried segments (${retried.length}) ${stat(retried, 'beyondMs')}`,
  );
  // -localVerify: in older builds the sampled full decode (an ffmpeg) held its segment back; now it ends
  // after the renditions are published, and its own time is reported apart
  const decoded = rest.filter((o) => (o as { decoded?: boolean }).decoded === true);
  const counted = rest.filter((o) => (o as { decoded?: boolean }).decoded === false);
  if (decoded.length + counted.length > 0) {
    console.log(
      `  ${r.label} renditions beyond the orchestrator's time by -localVerify check, later segments on the first attempt, ms: ` +
        `counted in-process (${counted.length}) ${stat(counted, 'beyondMs')} (checks ${stat(counted, 'verifyMs')}); ` +
        `sampled full decode before publishing (${decoded.length}) ${stat(decoded, 'beyondMs')} (checks ${stat(decoded, 'verifyMs')})`,
    );
  } else {
    console.log(`  ${r.label} -localVerify's checks before publishing, later segments on the first attempt, ms: ${stat(rest, 'verifyMs')}`);
  }
  if (r.decodeChecks.length > 0) {
    console.log(`  ${r.label} sampled full decodes after publishing (${r.decodeChecks.length}), ms: ${stat(r.decodeChecks, 'decodeMs')}`);
  }
}
if (results.length === 2) {
  const [b, g] = results as [GatewayResult, GatewayResult];
  console.log(`gateway / baseline CPU per stream: ${(perStream(g.window) / perStream(b.window)).toFixed(2)}`);
}
console.log(`wall time, s: ${wall.map(([name, s]) => `${name} ${s.toFixed(1)}`).join(', ')}`);
const g = results.at(-1);
const gwCpu = g ? perStream(g.window) : Number.NaN;
console.log(
  `load: streams=${N} gateway_cpu_per_stream=${g ? `${gwCpu.toFixed(2)}%` : 'n/a'} ffmpeg_cpu_per_stream=${floor ? `${ffCpu.toFixed(2)}%` : 'n/a'} ratio=${floor && g ? (gwCpu / ffCpu).toFixed(2) : 'n/a'} missing=${g?.missing ?? 'n/a'} ffmpeg_missing=${floor?.missing ?? 'n/a'} late=${g?.pacing.late ?? 'n/a'} ffmpeg_late=${floor?.pacing.late ?? 'n/a'} backlog_s=${g ? (g.backlogMs / 1000).toFixed(2) : 'n/a'} ffmpeg_backlog_s=${floor ? (floor.backlogMs / 1000).toFixed(2) : 'n/a'} rig_saturated=${g?.window.coresSaturated[1] !== undefined ? `${g.window.coresSaturated[1].toFixed(0)}%` : 'n/a'}`,
);
process.exit(0);
