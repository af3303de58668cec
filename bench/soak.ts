// Soak: 10 paid 720p streams for 20 minutes through the gateway binary on the devnet (orchestrators in
// load mode), the gateway's RSS (process + children), its JS heap in use and open handles sampled every
// 10 s. After the warm-up they should stay flat: the slope of a least-squares line over the rest is printed.
// Not part of npm test. Run: npm run bench:soak -- [--streams 10] [--minutes 20] [--warmup-minutes 3]
// [--heap-snapshots DIR]: the gateway writes a heap snapshot (after a full collection) into DIR at the end
// of the warm-up, halfway through the rest and at the end; compare them to see what the live heap gained.
// [--gateway-log FILE]: the gateway's debug log (JSON lines) is kept in FILE, to match a step in the samples
// with what the gateway was doing. [--gc-log FILE]: the gateway runs with --trace-gc into FILE, and the
// summary gives the gaps between its major collections and the longest one at each growth of its heap.
import { mkdir, readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  counter,
  counterByLabel,
  exited,
  metricsOnceSegmentsSettled,
  openFds,
  pct,
  pinSelfToCore1,
  preEncodedInput,
  publish,
  root,
  rssParts,
  sleep,
  startGatewayProcess,
  treeStats,
  warmUp,
} from './harness.ts';
import { startLoadNetwork } from './loadNetwork.ts';

const { values: args } = parseArgs({
  options: {
    streams: { type: 'string', default: '10' },
    minutes: { type: 'string', default: '20' },
    'warmup-minutes': { type: 'string', default: '3' },
    'heap-snapshots': { type: 'string' },
    'gateway-log': { type: 'string' },
    'gc-log': { type: 'string' },
  },
});
const N = Number(args.streams);
const SECONDS = Number(args.minutes) * 60;
const WARMUP_S = Number(args['warmup-minutes']) * 60;
const SAMPLE_MS = 10_000;

pinSelfToCore1();
const input = await preEncodedInput();
const net = await startLoadNetwork(N);
const snapshotDir = args['heap-snapshots'];
if (snapshotDir) await mkdir(snapshotDir, { recursive: true });
const gcLog = args['gc-log'];
// --trace-gc dates each collection in ms from the gateway's start: about this moment
const gatewayStartedAt = Date.now();
const gw = await startGatewayProcess(join(root, 'scripts/livepeer-gateway.mjs'), net, N + 4, undefined, {
  nodeArgs: [
    ...(snapshotDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshotDir}`] : []),
    // a line per collection, its time in ms since the gateway started
    ...(gcLog ? ['--trace-gc'] : []),
  ],
  ...(args['gateway-log'] ? { logFile: args['gateway-log'] } : {}),
  ...(gcLog ? { stdoutFile: gcLog } : {}),
});
// when the snapshots are due (s from the start), each taken once
const snapshotsAt = snapshotDir ? [WARMUP_S, (WARMUP_S + SECONDS) / 2, SECONDS - SAMPLE_MS / 1000] : [];
const idle = treeStats([gw.proc.pid!]);
await warmUp(input, gw.rtmp, gw.metrics);
// the soak's own segments are counted from here
const base = await gw.metrics();
const start = Date.now();
const publishers = Array.from({ length: N }, (_, i) => publish(input, `${gw.rtmp}/live/soak${i}`, SECONDS));
const samples: {
  t: number;
  rssKb: number;
  processRssKb: number;
  fds: number;
  processes: number;
  heapUsedMiB: number;
  parts: ReturnType<typeof rssParts>;
}[] = [];
while (Date.now() - start < SECONDS * 1000) {
  await sleep(SAMPLE_MS - ((Date.now() - start) % SAMPLE_MS));
  const s = treeStats([gw.proc.pid!]);
  // the JS heap in use (live objects and garbage not yet collected), from the gateway's own metrics
  const heapUsedMiB = counter(await gw.metrics(), 'nodejs_heap_size_used_bytes') / 2 ** 20;
  const parts = rssParts(gw.proc.pid!);
  samples.push({
    t: (Date.now() - start) / 1000,
    rssKb: s.rssKb,
    processRssKb: s.rootRssKb,
    fds: openFds(gw.proc.pid!),
    processes: s.processes,
    heapUsedMiB,
    parts,
  });
  const last = samples[samples.length - 1]!;
  if (snapshotsAt.length > 0 && last.t >= snapshotsAt[0]!) {
    snapshotsAt.shift();
    gw.proc.kill('SIGUSR2');
    console.log(`t=${last.t.toFixed(0)}s heap snapshot asked for (into ${snapshotDir})`);
  }
  console.log(
    `t=${last.t.toFixed(0)}s rss=${(last.rssKb / 1024).toFixed(1)}MiB (process ${(last.processRssKb / 1024).toFixed(1)}MiB) ` +
      `heap_used=${last.heapUsedMiB.toFixed(1)}MiB malloc_heap=${(parts.heapKb / 1024).toFixed(1)}/${(parts.heapSizeKb / 1024).toFixed(1)}MiB ` +
      `other_anon=${(parts.otherAnonKb / 1024).toFixed(1)}MiB fds=${last.fds} processes=${last.processes}`,
  );
}
await Promise.all(publishers.map(exited));
// let the last segments finish (or fail) before counting
const text = await metricsOnceSegmentsSettled(() => gw.metrics(), base);
gw.proc.kill('SIGTERM');
await exited(gw.proc);
await net.stop();

/** Least-squares slope of y over t (per second). */
function slope(points: { t: number; y: number }[]): number {
  const n = points.length;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.t - mt) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.t - mt) ** 2, 0);
  return den === 0 ? 0 : num / den;
}
const after = samples.filter((s) => s.t >= WARMUP_S);
const rssSlope = (slope(after.map((s) => ({ t: s.t, y: s.rssKb / 1024 }))) * 60).toFixed(3);
// the gateway process alone: children come and go (a sampled decode check runs ffprobe for a moment)
const processSlope = (slope(after.map((s) => ({ t: s.t, y: s.processRssKb / 1024 }))) * 60).toFixed(3);
// The heap in use swings between the live heap and twice that (garbage waits for the next collection):
// its lowest reading per minute follows the live heap, and their slope shows whether that grows.
const minuteLows = new Map<number, { t: number; y: number }>();
for (const s of after) {
  const minute = Math.floor(s.t / 60);
  const low = minuteLows.get(minute);
  if (!low || s.heapUsedMiB < low.y) minuteLows.set(minute, { t: s.t, y: s.heapUsedMiB });
}
const heapLowSlope = (slope([...minuteLows.values()]) * 60).toFixed(3);
const mib = (kb: number) => (kb / 1024).toFixed(0);
const range = (xs: number[]) => `${mib(Math.min(...xs))}..${mib(Math.max(...xs))}MiB`;
// where the process's RSS sits: the brk heap (segment buffers; its size is the high-water mark of its top,
// never trimmed below 64 MiB free) and the other anonymous memory (V8's heap, threads, other arenas)
const mallocHeapSlope = (slope(after.map((s) => ({ t: s.t, y: s.parts.heapKb / 1024 }))) * 60).toFixed(3);
const otherAnonSlope = (slope(after.map((s) => ({ t: s.t, y: s.parts.otherAnonKb / 1024 }))) * 60).toFixed(3);
const heapSizes = after.map((s) => s.parts.heapSizeKb);
// each time the heap's top grew after the warm-up: when and by how much
const grown = after
  .slice(1)
  .map((s, i) => ({ from: after[i]!.t, t: s.t, grewKb: s.parts.heapSizeKb - after[i]!.parts.heapSizeKb }))
  .filter((x) => x.grewKb > 0);
const heapSteps = grown.map((x) => `${(x.grewKb / 1024).toFixed(1)}@${(x.t / 60).toFixed(1)}min`);
// Segment buffers are freed when a major collection finds them dead, so the heap's top follows the live ones
// plus those waiting for the next: with --gc-log, the gaps between major collections, and the longest gap
// that overlaps the sampling interval of each step
let gcGaps = '';
if (gcLog) {
  const majors = [...(await readFile(gcLog, 'utf8')).matchAll(/^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: Mark-(?:Compact|sweep)/gm)].map(
    (m) => (gatewayStartedAt + Number(m[1]) - start) / 1000,
  );
  const gaps = majors.slice(1).map((t, i) => ({ from: majors[i]!, to: t, s: t - majors[i]! }));
  const later = gaps.filter((g) => g.from >= WARMUP_S).map((g) => g.s);
  const longestOver = (from: number, to: number) => Math.max(0, ...gaps.filter((g) => g.to > from && g.from < to).map((g) => g.s));
  gcGaps =
    ` major_gc_gaps_after_warmup=${later.length > 0 ? `p50 ${pct(later, 0.5).toFixed(1)}s max ${pct(later, 1).toFixed(1)}s` : 'n/a'}` +
    ` longest_gap_at_each_growth=${grown.map((x) => `${longestOver(x.from, x.t).toFixed(1)}s@${(x.t / 60).toFixed(1)}min`).join(',') || 'none'}`;
}
const fdSlope = (slope(after.map((s) => ({ t: s.t, y: s.fds }))) * 60).toFixed(3);
const delta = (name: string) => counter(text, name) - counter(base, name);
const appeared = delta('livepeer_segment_source_appeared_total');
const transcoded = delta('livepeer_segment_transcoded_total');
const retried = delta('livepeer_transcode_retried');
// why segments were not transcoded, by the gateway's error code (Backlog: skipped while the stream was behind)
const failedBefore = counterByLabel(base, 'livepeer_segment_transcode_failed_total', 'error_code');
const failed = [...counterByLabel(text, 'livepeer_segment_transcode_failed_total', 'error_code')]
  .map(([code, n]) => [code, n - (failedBefore.get(code) ?? 0)] as const)
  .filter(([, n]) => n > 0);
const failedText = failed.length === 0 ? '0' : failed.map(([code, n]) => `${code}:${n}`).join(',');
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; ${N} streams × ${SECONDS / 60} min, samples every ${SAMPLE_MS / 1000} s`,
);
console.log(
  `soak: streams=${N} minutes=${SECONDS / 60} rss_idle=${(idle.rssKb / 1024).toFixed(0)}MiB ` +
    `rss_after_warmup=${range(after.map((s) => s.rssKb))} rss_slope=${rssSlope}MiB/min ` +
    `process_rss_after_warmup=${range(after.map((s) => s.processRssKb))} process_rss_slope=${processSlope}MiB/min ` +
    `malloc_heap_slope=${mallocHeapSlope}MiB/min malloc_heap_size=${range(heapSizes)} malloc_heap_grew=${heapSteps.join(',') || 'never'} other_anon_slope=${otherAnonSlope}MiB/min ` +
    `heap_used_minute_lows_slope=${heapLowSlope}MiB/min fd_slope=${fdSlope}/min${gcGaps} segments=${appeared} transcoded=${transcoded} retried=${retried} failed=${failedText}`,
);
process.exit(0);
