// The load rig's publishers, one process for every stream (so core 1's share of them is one pid): reads
// the FLV once, starts each stream at its offset and prints one line per event for bench/load.ts:
//   ready                  (offsets count from here)
//   started <i>
//   ended <i> <ms late>    (how far behind its schedule the stream's last message went out; "Infinity" if it failed)
// Run: tsx bench/publishers.ts <input.flv> <seconds> <url>@<offset ms> …
import { publishFlv, readFlv } from './rtmpPublisher.ts';

const [input, secondsArg, ...streams] = process.argv.slice(2);
const seconds = Number(secondsArg);
/** The segment length of the gateway's segmenter and of bare ffmpeg's HLS muxer in bench/load.ts. */
const SEGMENT_MS = 2000;
if (!input || !(seconds > 0) || streams.length === 0) throw new Error('usage: publishers.ts <input.flv> <seconds> <url>@<offset ms> …');
const tags = readFlv(input);
const t0 = Date.now();
console.log('ready');
await Promise.all(
  streams.map(async (spec, i) => {
    const at = spec.lastIndexOf('@');
    const url = spec.slice(0, at);
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + Number(spec.slice(at + 1)) - Date.now())));
    console.log(`started ${i}`);
    const late = await publishFlv(tags, url, seconds, SEGMENT_MS).finished;
    console.log(`ended ${i} ${late}`);
  }),
);
