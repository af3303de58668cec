// CPU to segment one RTMP stream: the in-process FLV → MPEG-TS segmenter against the ffmpeg child it
// replaces (startSegmenter with the FLV on stdin, as rtmpPump.ts feeds it), on the same 30 s 720p FLV,
// interleaved in one run and measured as CPU time (this process plus its finished children), so a busy
// machine slows both alike. The input is fed as fast as each side takes it, not in real time.
// Run: npx tsx bench/tsMux.ts [rounds]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ffmpegPath, mediaToolEnv } from '../src/media/ffmpegBinaries.ts';
import { FlvTsSegmenter } from '../src/media/flvTsSegmenter.ts';
import { startSegmenter } from '../src/media/segmenter.ts';
import { flvFileTags } from '../test/media/flvFile.ts';

const rounds = Number(process.argv[2] ?? 3);

/** 30 s of 1280×720 30 fps H.264 at 3 Mbit/s with AAC, a keyframe every 2 s (cached in the temp folder). */
function input(): string {
  const file = join(tmpdir(), 'lpbench-tsmux-720p30-3M-30s.flv');
  if (existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.tmp`;
  execFileSync(
    ffmpegPath(),
    [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440'],
      ...['-t', '30', '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '3M', '-maxrate', '3M', '-bufsize', '6M', '-g', '60', '-keyint_min', '60'],
      ...['-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-f', 'flv', tmp],
    ],
    { env: mediaToolEnv('ffmpeg'), stdio: ['ignore', 'ignore', 'inherit'] },
  );
  execFileSync('mv', [tmp, file]);
  return file;
}

/** CPU seconds of this process's finished children, at the kernel's tick resolution. */
function childCpu(): number {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[13]) + Number(f[14])) / 100;
}

/** CPU seconds `fn` costs: this process (µs resolution) plus the children it ran, and what it returned. */
async function cpuOf<T>(fn: () => Promise<T> | T): Promise<{ cpuS: number; value: T }> {
  const children = childCpu();
  const t = process.cpuUsage();
  const value = await fn();
  const own = process.cpuUsage(t);
  return { cpuS: (own.user + own.system) / 1e6 + (childCpu() - children), value };
}

const file = input();
const bytes = readFileSync(file);
const tags = flvFileTags(file);

function inProcess(): number {
  const seg = new FlvTsSegmenter();
  let n = 0;
  for (const t of tags) if (seg.push(t)) n++;
  if (seg.end()) n++;
  return n;
}

/** The in-process side is short enough for timer noise and stray GC to matter: several passes per round. */
const PASSES = 5;
function inProcessPasses(): number {
  let n = 0;
  for (let i = 0; i < PASSES; i++) n = inProcess();
  return n;
}

async function throughFfmpeg(): Promise<number> {
  const stdin = new PassThrough();
  const segmenter = startSegmenter({ inputUrl: 'bench.flv', input: stdin, stallTimeoutMs: 120_000 });
  stdin.end(bytes);
  let n = 0;
  for await (const _ of segmenter.segments) n++;
  await segmenter.done;
  return n;
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load average ${load()}; input ${(bytes.length / 1e6).toFixed(1)} MB, ${tags.length} tags (30 s 720p30 3 Mbit/s + AAC)`,
);
inProcess(); // warm-up (JIT)
let ours = 0;
let theirs = 0;
let segments = '';
for (let i = 0; i < rounds; i++) {
  const a = await cpuOf(inProcessPasses);
  const b = await cpuOf(throughFfmpeg);
  ours += a.cpuS / PASSES;
  theirs += b.cpuS;
  segments = `${a.value} vs ${b.value} segments`;
}
console.log(
  `tsmux: in-process ${(ours / rounds).toFixed(3)} s CPU, ffmpeg child ${(theirs / rounds).toFixed(3)} s CPU per 30 s stream ` +
    `(${(theirs / ours).toFixed(1)}× less; ${segments}; ${rounds} interleaved rounds; load average after ${load()})`,
);
