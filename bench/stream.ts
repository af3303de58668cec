// One 720p stream through the gateway on the local devnet: glass-to-playlist latency, and the gateway
// process's peak memory and CPU. The gateway runs as its own process (the real binary) so that the
// orchestrators, the chain and ffmpeg are not counted in its figures.
// Run: npx tsx bench/stream.ts [seconds]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalNetwork } from '../scripts/devnet/network.ts';
import { ffmpegPath, mediaToolEnv } from '../src/media/ffmpegBinaries.ts';

const seconds = Number(process.argv[2] ?? 20);
const root = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CLK_TCK = 100; // Linux USER_HZ

function procStats(pid: number): { rssKb: number; hwmKb: number; cpuS: number; childCpuS: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  const childTicks = Number(fields[13]) + Number(fields[14]); // cutime + cstime: segmenter ffmpeg, ffprobe
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), cpuS: ticks / CLK_TCK, childCpuS: childTicks / CLK_TCK };
}

const net = await startLocalNetwork();
const datadir = await mkdtemp(join(tmpdir(), 'lpbench-'));
const flags = Object.entries({
  ...net.gatewayFlags,
  ethKeystorePath: join(root, 'keystore'),
  ethPassword: 'devnet',
  datadir,
  rtmpAddr: '127.0.0.1:0',
  httpAddr: '127.0.0.1:0',
  cliAddr: '127.0.0.1:0',
  blockPollingInterval: '1',
  v: '0',
}).flatMap(([k, v]) => [`-${k}`, v]);
// BENCH_CPU_PROF=<dir>: write a V8 CPU profile of the gateway process there (read it in Chrome DevTools).
const profArgs = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
const gw = spawn(process.execPath, [...profArgs, join(root, 'scripts/livepeer-gateway.mjs'), '-gateway', ...flags], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
gw.stdout!.on('data', (c) => (out += c));
while (!/HTTP Server listening on (\S+)/.test(out)) {
  if (gw.exitCode !== null) throw new Error(`gateway exited: ${out}`);
  await sleep(50);
}
const rtmp = /Video Ingest Endpoint - (\S+)/.exec(out)![1]!;
const http = /HTTP Server listening on (\S+)/.exec(out)![1]!;
const idle = procStats(gw.pid!);

const publishStart = Date.now();
const ffmpeg = spawn(
  ffmpegPath(),
  [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    '-re',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=1280x720:rate=30',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440',
    '-t',
    String(seconds),
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-g',
    '60',
    '-keyint_min',
    '60',
    '-sc_threshold',
    '0',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-f',
    'flv',
    `${rtmp}/live/bench`,
  ],
  { env: mediaToolEnv('ffmpeg'), stdio: ['ignore', 'ignore', 'inherit'] },
);
const firstSeen: Record<string, Map<number, number>> = { source: new Map(), P240p30fps16x9: new Map(), P360p30fps16x9: new Map() };
let peakRss = 0;
let done = false;
ffmpeg.once('exit', () => (done = true));
const { cpuS: cpuStart, childCpuS: childCpuStart } = procStats(gw.pid!);
while (!done) {
  for (const name of Object.keys(firstSeen)) {
    const res = await fetch(`${http}/stream/bench/${name}.m3u8`).catch(() => undefined);
    if (res?.status !== 200) continue;
    const now = Date.now();
    for (const m of (await res.text()).matchAll(/\/(\d+)\.ts$/gm)) if (!firstSeen[name]!.has(Number(m[1]))) firstSeen[name]!.set(Number(m[1]), now);
  }
  peakRss = Math.max(peakRss, procStats(gw.pid!).rssKb);
  await sleep(100);
}
const wall = (Date.now() - publishStart) / 1000;
const end = procStats(gw.pid!);
gw.kill('SIGTERM');
await new Promise((r) => gw.once('exit', r));
await net.stop();
await rm(datadir, { recursive: true, force: true });

// Segment n holds the frames published from publishStart + 2n s to publishStart + 2(n+1) s.
const latencies = (name: string, fromEnd: boolean) =>
  [...firstSeen[name]!.entries()].filter(([seq]) => seq > 0).map(([seq, t]) => (t - publishStart - (seq + (fromEnd ? 1 : 0)) * 2000) / 1000);
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? `median ${s[Math.floor(s.length / 2)]!.toFixed(2)} s, max ${s[s.length - 1]!.toFixed(2)} s (${s.length} segments)` : 'none';
};
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; one ${seconds} s 1280x720 30 fps stream → P240p30fps16x9 + P360p30fps16x9, devnet orchestrators in this process`,
);
for (const name of Object.keys(firstSeen)) {
  console.log(
    `${name.padEnd(15)} glass-to-playlist (first frame of a segment): ${stats(latencies(name, false))}; after the segment's last frame: ${stats(latencies(name, true))}`,
  );
}
console.log(
  `gateway process: RSS before the stream ${(idle.rssKb / 1024).toFixed(0)} MiB, peak during the stream ${(peakRss / 1024).toFixed(0)} MiB ` +
    `(lifetime VmHWM ${(end.hwmKb / 1024).toFixed(0)} MiB includes the keystore's scrypt at start-up); ` +
    `CPU ${(((end.cpuS - cpuStart) / wall) * 100).toFixed(1)} % of one core over ${wall.toFixed(0)} s, ` +
    `plus ${(((end.childCpuS - childCpuStart) / wall) * 100).toFixed(1)} % in its finished children (ffprobe checks of -localVerify; the segmenter's ffmpeg is counted when it exits)`,
);
process.exit(0);
