// What one ffprobe costs a gateway that holds its streams' HLS windows, started from the gateway itself
// against through the ffmpeg launcher (src/media/spareFfmpeg.ts), as probes of pushed MP4 segments and AI
// inputs now run. This process keeps MIB of written Buffers (a playlist window is ~15 MiB a stream), then
// probes a 2-s MP4 from a file, the two ways in turn. Per probe it prints: this process's CPU time during
// the probe (fork() copies the page tables on the event loop's thread), and what writing the kept memory
// again then costs (fork() left every page copy-on-write): page faults and CPU time. Then the median of each
// way. (The event loop's own delay is not a fair measure here: ffprobe and the launcher run beside it.)
// Run: npx tsx bench/probeFromLoaded.ts [MiB kept, default 768] [probes per way, default 6]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegPath, mediaTool, mediaToolEnv } from '../src/media/ffmpegBinaries.ts';
import { runTool } from '../src/media/runTool.ts';
import { runToolInLauncher, startFfmpegLauncher, stopSpareFfmpegs } from '../src/media/spareFfmpeg.ts';
import { median } from './harness.ts';

const MIB = Number(process.argv[2] ?? 768);
const PROBES = Number(process.argv[3] ?? 6);
const WAYS = ['from this process', 'through the launcher'] as const;

// the launcher forked first, while this process is small, as the gateway does at start-up
startFfmpegLauncher();
const dir = mkdtempSync(join(tmpdir(), 'lpbench-probe-'));
const mp4 = join(dir, 'segment.mp4');
execFileSync(
  ffmpegPath(),
  ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '3M', mp4],
  {
    env: mediaToolEnv('ffmpeg'),
  },
);
const ffprobe = mediaTool('ffprobe');
const args = ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '--', mp4];

const kept = Array.from({ length: MIB }, (_, i) => Buffer.alloc(1 << 20, i));
const rewrite = (): { faults: number; cpuMs: number } => {
  const before = process.resourceUsage();
  for (const b of kept) b.fill(7);
  const after = process.resourceUsage();
  return {
    faults: after.minorPageFault - before.minorPageFault,
    cpuMs: (after.userCPUTime + after.systemCPUTime - before.userCPUTime - before.systemCPUTime) / 1000,
  };
};
rewrite();

const results: Record<(typeof WAYS)[number], { probeCpuMs: number; faults: number; cpuMs: number }[]> = { 'from this process': [], 'through the launcher': [] };
for (let i = 0; i < PROBES * 2; i++) {
  const way = WAYS[i % 2]!;
  const cpuBefore = process.cpuUsage();
  const outcome =
    way === 'from this process'
      ? await runTool('ffprobe', ffprobe.path, mediaToolEnv('ffprobe'), args, 15_000)
      : await runToolInLauncher('ffprobe', ffprobe.path, ffprobe.env, args, 15_000);
  const spent = process.cpuUsage(cpuBefore);
  if (!('stdout' in outcome)) throw new Error(`probe failed: ${outcome.message}`);
  const r = { probeCpuMs: (spent.user + spent.system) / 1000, ...rewrite() };
  results[way].push(r);
  console.log(
    `${way}: this process's CPU during the probe ${r.probeCpuMs.toFixed(1)} ms; writing the ${MIB} MiB again after: ${r.faults} page faults, ${r.cpuMs.toFixed(0)} ms of CPU`,
  );
}
for (const way of WAYS) {
  const rs = results[way];
  console.log(
    `median ${way}: CPU during the probe ${median(rs.map((r) => r.probeCpuMs)).toFixed(1)} ms, then ${median(rs.map((r) => r.faults))} faults, ${median(rs.map((r) => r.cpuMs)).toFixed(0)} ms of CPU`,
  );
}
stopSpareFfmpegs();
rmSync(dir, { recursive: true, force: true });
