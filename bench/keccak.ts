// keccak-256's absorb per implementation of the addon (build/keccak1600.node): AVX-512 against OpenSSL's
// x86-64 assembly inside node, over a 3 Mbit/s 720p segment's bytes and a rendition's, interleaved rounds
// of CPU time, so a busy machine slows both alike; the same bytes as eight sponges side by side
// (absorbLanes, as src/lib/keccakLanes.ts hashes eight streams' segments); and the gateway's keccak256()
// (the chosen one) beside the WebAssembly one it replaces when the addon is not built.
// Run: npm run build && npx tsx bench/keccak.ts [rounds]
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { createKeccak } from 'hash-wasm';
import { KECCAK_IMPLEMENTATION, keccak256 } from '../src/lib/keccak.ts';

type Addon = {
  absorbWith: (name: string, state: Uint8Array, data: Uint8Array) => number;
  absorbLanes: (states: Uint8Array[], pieces: Uint8Array[]) => void;
  available: string[];
};
const addon = createRequire(import.meta.url)('../build/keccak1600.node') as Addon;
const rounds = Number(process.argv[2] ?? 30);

const segment = randomBytes(750_000); // 2 s at 3 Mbit/s
const rendition = randomBytes(100_000);
const wasm = await createKeccak(256);

/** CPU seconds of `fn`, this process, microsecond resolution. */
function cpuOf(fn: () => void): number {
  const t = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1e6;
}

const state = new Uint8Array(200);
const cases: Array<[string, () => void]> = addon.available.map((name) => [
  `absorb ${name}`,
  () => {
    addon.absorbWith(name, state, segment);
    addon.absorbWith(name, state, rendition);
  },
]);
// the same bytes as eight sponges side by side (eight streams' segments being written)
const eighths = Array.from({ length: 8 }, (_, i) =>
  Buffer.concat([segment, rendition]).subarray((i * (segment.length + rendition.length)) / 8, ((i + 1) * (segment.length + rendition.length)) / 8),
);
const states = eighths.map(() => new Uint8Array(200));
cases.push(['absorbLanes, 8 sponges', () => addon.absorbLanes(states, eighths)]);
cases.push([
  `keccak256() (${KECCAK_IMPLEMENTATION})`,
  () => {
    keccak256(segment);
    keccak256(rendition);
  },
]);
cases.push([
  'WebAssembly (hash-wasm)',
  () => {
    for (const b of [segment, rendition]) {
      wasm.init();
      wasm.update(b);
      wasm.digest('binary');
    }
  },
]);

console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; ${rounds} rounds of ${((segment.length + rendition.length) / 1e3).toFixed(0)} kB each`,
);
const cpu = cases.map(() => 0);
for (const [, fn] of cases) fn(); // warm-up
for (let r = 0; r < rounds; r++) {
  for (const [i, [, fn]] of cases.entries()) cpu[i]! += cpuOf(fn);
}
const bytes = rounds * (segment.length + rendition.length);
const first = cpu[0]!;
cases.forEach(([name], i) => {
  const mbps = bytes / cpu[i]! / 1e6;
  console.log(
    `${name.padEnd(28)} ${mbps.toFixed(0).padStart(5)} MB/s of CPU  ${((cpu[i]! / bytes) * 1e9).toFixed(2).padStart(6)} ns/byte  ${(cpu[i]! / first).toFixed(2)}× the first`,
  );
});
