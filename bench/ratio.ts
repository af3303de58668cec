// The gateway's CPU per stream against bare ffmpeg's, from several runs of bench/load.ts at one stream count.
// On a machine shared with other work (a VM whose host runs other guests) one run's two phases, a minute
// apart, can differ by a fifth for the same work; the median of a few runs, the order of the phases
// alternated from run to run, says more than any one of them. Each run is a whole load.ts (its own devnet).
// Run: npm run bench:ratio -- [--streams 20] [--seconds 30] [--runs 4]
import { parseArgs } from 'node:util';
import { loadRunLine, median } from './harness.ts';

const { values: args } = parseArgs({
  options: { streams: { type: 'string', default: '20' }, seconds: { type: 'string', default: '30' }, runs: { type: 'string', default: '4' } },
});
const runs = Number(args.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a whole number ≥ 1');

interface Run {
  floorFirst: boolean;
  gateway: number;
  ffmpeg: number;
  ratio: number;
  /** segments missing or publishers held back, the gateway's and bare ffmpeg's */
  lost: number;
}

async function loadRun(floorFirst: boolean): Promise<Run> {
  const { field } = await loadRunLine(['--streams', args.streams, '--seconds', args.seconds, ...(floorFirst ? ['--floor-first'] : [])]);
  return {
    floorFirst,
    gateway: field('gateway_cpu_per_stream'),
    ffmpeg: field('ffmpeg_cpu_per_stream'),
    ratio: field('ratio'),
    lost: field('missing') + field('late') + field('ffmpeg_missing') + field('ffmpeg_late'),
  };
}

const done: Run[] = [];
for (let i = 0; i < runs; i++) done.push(await loadRun(i % 2 === 1));

for (const [i, r] of done.entries()) {
  console.log(
    `run ${i + 1} (${r.floorFirst ? 'bare ffmpeg' : 'the gateway'} first): gateway ${r.gateway.toFixed(2)} %, bare ffmpeg ${r.ffmpeg.toFixed(2)} % of a core per stream, ratio ${r.ratio.toFixed(2)}` +
      (r.lost > 0 ? `; ${r.lost} segments missing or publishers held back` : ''),
  );
}
const ratios = done.map((r) => r.ratio);
console.log(
  `ratio: streams=${args.streams} seconds=${args.seconds} runs=${runs} median=${median(ratios).toFixed(2)} min=${Math.min(...ratios).toFixed(2)} max=${Math.max(...ratios).toFixed(2)} ` +
    `gateway_cpu_per_stream=${median(done.map((r) => r.gateway)).toFixed(2)}% ffmpeg_cpu_per_stream=${median(done.map((r) => r.ffmpeg)).toFixed(2)}% lost=${done.reduce((n, r) => n + r.lost, 0)}`,
);
