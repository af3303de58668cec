// The capacity knee: bench/load.ts run once per stream count (each run its own devnet, the gateway and bare
// ffmpeg measured side by side in it), and the largest N each keeps in real time (no publisher held back
// more than a segment, no source segment listed more than a segment later than the receiver's own fixed
// delay) with no segment missing.
// Run: npm run bench:knee -- [--streams 5,10,15,20,25,30] [--seconds 60]
// (60 s per N by default: over 30 s much of the gateway's CPU is V8 still compiling its hot paths, bench/README.md)
import { parseArgs } from 'node:util';
import { loadRunLine } from './harness.ts';

const { values: args } = parseArgs({
  options: { streams: { type: 'string', default: '5,10,15,20,25,30' }, seconds: { type: 'string', default: '60' } },
});
const counts = args.streams.split(',').map(Number);
if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--streams is a list of stream counts, e.g. 5,10,20');

/** bench/load.ts's segment length */
const SEGMENT_S = 2;
/** A gateway run whose rig core was saturated in this share of its seconds (%) or more measured the rig. */
const RIG_MOSTLY_SATURATED = 50;

interface Run {
  streams: number;
  line: string;
  gatewayMissing: number;
  ffmpegMissing: number;
  /** share of the gateway run's seconds in which the rig's core (publishers, orchestrators, chain) was saturated, % */
  rigSaturated: number;
}

async function loadRun(streams: number): Promise<Run> {
  const { line, field } = await loadRunLine(['--streams', String(streams), '--seconds', args.seconds]);
  // the receiver fell behind by more than a segment (its sockets' buffers hid it from the publishers)
  const behind = (name: string) => (field(name) > SEGMENT_S ? 1 : 0);
  // a segment missing, a publisher held back or a backlog past real time: this N was not kept
  return {
    streams,
    line,
    gatewayMissing: field('missing') + field('late') + behind('backlog_s'),
    ffmpegMissing: field('ffmpeg_missing') + field('ffmpeg_late') + behind('ffmpeg_backlog_s'),
    rigSaturated: field('rig_saturated'),
  };
}

const runs: Run[] = [];
for (const n of counts) runs.push(await loadRun(n));
/** the largest N such that it and every smaller N tried kept up (runs `skip` leaves out count neither way) */
const knee = (missing: (r: Run) => number, skip: (r: Run) => boolean = () => false) => {
  let best = 0;
  for (const r of [...runs].sort((a, b) => a.streams - b.streams)) {
    if (skip(r)) continue;
    if (missing(r) !== 0) break;
    best = r.streams;
  }
  return best;
};
for (const r of runs) console.log(r.line);
// A gateway run that missed segments while the rig's core was saturated measured the rig as much as the
// gateway: the orchestrators answer late there, and the gateway's retries add to it.
const rigBound = runs.filter((r) => r.gatewayMissing > 0 && r.rigSaturated > 0);
if (rigBound.length > 0) {
  console.log(
    `knee: the rig's core was saturated in these gateway runs that missed segments (N: share of seconds): ${rigBound.map((r) => `${r.streams}: ${r.rigSaturated} %`).join(', ')}`,
  );
}
const g = knee((r) => r.gatewayMissing);
// Where the rig's core was saturated most of a gateway run, that run says more about the rig than about the
// gateway: the knee is given a second time without such runs, when there are any.
const rigMostly = (r: Run) => r.gatewayMissing > 0 && r.rigSaturated >= RIG_MOSTLY_SATURATED;
const gWithoutRig = runs.some(rigMostly) ? knee((r) => r.gatewayMissing, rigMostly) : undefined;
const f = knee((r) => r.ffmpegMissing);
// bare ffmpeg keeping up at the largest N tried gives only a lower bound of its knee, so the ratio is at most
const ffmpegUnbounded = f === Math.max(...counts);
console.log(
  `knee: gateway=${g} ffmpeg=${ffmpegUnbounded ? '>=' : ''}${f} ratio=${f > 0 ? `${ffmpegUnbounded ? '<=' : ''}${(g / f).toFixed(2)}` : 'n/a'} (largest N tried with no segment missing, every publisher in real time and no receiver more than a segment behind; tried ${counts.join(', ')}${ffmpegUnbounded ? '; bare ffmpeg kept up at every N tried, so its knee is at least that' : ''})`,
);
if (gWithoutRig !== undefined) {
  console.log(
    `knee: without the gateway runs whose rig core was saturated in ${RIG_MOSTLY_SATURATED} % of their seconds or more (${runs
      .filter(rigMostly)
      .map((r) => r.streams)
      .join(', ')}): gateway=${gWithoutRig}${f > 0 ? ` ratio=${ffmpegUnbounded ? '<=' : ''}${(gWithoutRig / f).toFixed(2)}` : ''}`,
  );
}
