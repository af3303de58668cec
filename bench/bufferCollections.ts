// What makes V8 run full collections in a gateway: Buffers allocated, whether or not they are still alive.
// Each case runs in a fresh node with the binary's collector flags (scripts/gcFlags.mjs) on ~20 MB of live
// JavaScript objects, allocates segment-sized Buffers at a steady rate for a while and counts the full
// (mark-compact) collections from V8's own trace. Cases: no Buffers; Buffers dropped at once; Buffers kept
// for 2 s (an upload's round trip); Buffers kept for 24 s (an HLS window); 64-KB Buffers (socket reads).
// Run: npx tsx bench/bufferCollections.ts [seconds per case, default 40] [MB per second, default 40]
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { gcFlagsFor } from '../scripts/gcFlags.mjs';

const seconds = Number(process.argv[2] ?? 40);
const mbPerSecond = Number(process.argv[3] ?? 40);

// The allocating program, run as `node --input-type=module -e`: SIZE, LIFE_MS, RATE and SECONDS from the environment.
const program = `
const size = Number(process.env.SIZE), lifeMs = Number(process.env.LIFE_MS), rate = Number(process.env.RATE);
const live = Array.from({ length: 200000 }, (_, i) => ({ i, name: 'object ' + i }));
const kept = [];
const tickMs = 10;
let owed = 0;
const start = Date.now();
const timer = setInterval(() => {
  owed += (rate * tickMs) / 1000;
  for (; owed >= size; owed -= size) {
    const b = Buffer.allocUnsafe(size);
    b[0] = 1;
    if (lifeMs > 0) kept.push({ b, until: Date.now() + lifeMs });
  }
  while (kept.length > 0 && kept[0].until <= Date.now()) kept.shift();
  for (let k = 0; k < 2000; k++) ({ k, list: [k] });
  if (Date.now() - start >= Number(process.env.SECONDS) * 1000) { clearInterval(timer); console.error('live', live.length); }
}, tickMs);
`;

const cases = [
  { name: 'no Buffers', size: 750_000, lifeMs: 0, rate: 0 },
  { name: '750-kB Buffers dropped at once', size: 750_000, lifeMs: 0, rate: mbPerSecond * 1e6 },
  { name: '750-kB Buffers kept 2 s', size: 750_000, lifeMs: 2_000, rate: mbPerSecond * 1e6 },
  { name: '750-kB Buffers kept 24 s', size: 750_000, lifeMs: 24_000, rate: mbPerSecond * 1e6 },
  { name: '64-kB Buffers dropped at once', size: 65_536, lifeMs: 0, rate: mbPerSecond * 1e6 },
];

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; ${seconds} s per case, ${mbPerSecond} MB/s of Buffers`);
for (const c of cases) {
  const flags = gcFlagsFor({ cores: 1, operatorFlags: [] });
  const run = spawnSync(process.execPath, [...flags, '--trace-gc', '--input-type=module', '-e', program], {
    env: { ...process.env, SIZE: String(c.size), LIFE_MS: String(c.lifeMs), RATE: String(c.rate), SECONDS: String(seconds) },
    encoding: 'utf8',
  });
  const lines = run.stdout.split('\n');
  const full = lines.filter((l) => l.includes('Mark-Compact'));
  const young = lines.filter((l) => l.includes('Scavenge'));
  console.log(
    `${c.name.padEnd(32)} full collections ${(full.length / seconds).toFixed(2)}/s, young ${(young.length / seconds).toFixed(2)}/s` +
      (run.status === 0 ? '' : ` (exit ${run.status}: ${run.stderr.slice(-200)})`),
  );
}
