// The paid path's CPU per segment, old and new side by side in one run (interleaved, CPU time not wall
// time, so a busy machine changes both alike): keccak-256 over the segment and its renditions
// (@noble/hashes vs WebAssembly), the rendition pixel check (ffprobe full decode vs the bitstream count),
// and ticket signing (@noble/curves vs libsecp256k1).
// Run: npx tsx bench/paidPath.ts [rounds]
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { promisify } from 'node:util';
import { keccak_256 } from '@noble/hashes/sha3';
import { keccak256 } from '../src/lib/keccak.ts';
import { ffmpegPath, mediaToolEnv } from '../src/media/ffmpegBinaries.ts';
import { bitstreamPixels } from '../src/media/pixels.ts';
import { decodedPixels } from '../src/media/probe.ts';
import { ecdsa, nobleEcdsa } from '../src/pm/ecdsa.ts';

const rounds = Number(process.argv[2] ?? 20);
const run = promisify(execFile);

/** CPU seconds of this process's finished children (ffprobe), at the kernel's tick resolution. */
function childCpu(): number {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[13]) + Number(f[14])) / 100;
}
/** CPU seconds `fn` costs: this process (µs resolution) plus the children it ran. */
async function cpuOf(fn: () => unknown | Promise<unknown>): Promise<number> {
  const children = childCpu();
  const t = process.cpuUsage();
  await fn();
  const own = process.cpuUsage(t);
  return (own.user + own.system) / 1e6 + (childCpu() - children);
}
async function encode(size: string, bitrate: string, format = 'mpegts'): Promise<Buffer> {
  const args = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`, '-f', 'lavfi', '-i', 'sine'];
  args.push('-t', '2', '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', bitrate, '-g', '60', '-c:a', 'aac', '-f', format, 'pipe:1');
  return (await run(ffmpegPath(), args, { env: mediaToolEnv('ffmpeg'), encoding: 'buffer', maxBuffer: 64 << 20 })).stdout;
}

const source = await encode('1280x720', '3M');
const renditions = [await encode('426x240', '250k'), await encode('640x360', '800k')];
const key = Buffer.from('59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d', 'hex');
const digests = Array.from({ length: 200 }, (_, i) => keccak256(Buffer.from([i, i >> 8])));

const cases: [string, () => unknown | Promise<unknown>, () => unknown | Promise<unknown>][] = [
  [
    'keccak-256 of the segment and its renditions',
    () => {
      for (const b of [source, ...renditions]) keccak_256(b);
    },
    () => {
      for (const b of [source, ...renditions]) keccak256(b);
    },
  ],
  [
    'rendition pixel check (2 renditions)',
    () => Promise.all(renditions.map((r) => decodedPixels(r))),
    () => {
      for (const r of renditions) bitstreamPixels(r);
    },
  ],
  [
    '200 ticket signatures',
    () => {
      for (const d of digests) nobleEcdsa.sign(d, key);
    },
    () => {
      for (const d of digests) ecdsa.sign(d, key);
    },
  ],
];
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(
      ' ',
    )}; segment ${(source.length / 1e6).toFixed(2)} MB 720p 3 Mbit/s, renditions ${renditions.map((r) => `${(r.length / 1e3).toFixed(0)} kB`).join(' + ')}`,
);
for (const [name, before, after] of cases) {
  await before();
  await after(); // warm-up
  let b = 0;
  let a = 0;
  for (let i = 0; i < rounds; i++) {
    b += await cpuOf(before);
    a += await cpuOf(after);
  }
  console.log(
    `${name.padEnd(46)} before ${((b / rounds) * 1000).toFixed(2).padStart(8)} ms CPU, after ${((a / rounds) * 1000).toFixed(2).padStart(7)} ms CPU: ${(b / a).toFixed(1)}× less`,
  );
}
