import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mpegTsCodecs } from '../../src/media/codecs.ts';
import { ffmpegPath, ffprobePath, mediaToolEnv } from '../../src/media/ffmpegBinaries.ts';
import { type CutSegment, FlvMediaError, FlvTsSegmenter, SegmentTooLargeError, UnsupportedCodecError } from '../../src/media/flvTsSegmenter.ts';
import { videoElementaryStream } from '../../src/media/mpegts.ts';
import { keccak256 } from '../../src/lib/keccak.ts';
import { bitstreamShape } from '../../src/media/pixels.ts';
import { parseSegmentListLine } from '../../src/media/segmenter.ts';
import { flvFileTags } from './flvFile.ts';

const dir = mkdtempSync(join(tmpdir(), 'flvts-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function ffmpeg(args: string[]): void {
  execFileSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args], {
    env: mediaToolEnv('ffmpeg'),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

const video = (size: string, fps: number) => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${fps}`];
const tone = (rate: number) => ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${rate}`];
const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-bf', '2', '-g', '60'];

/** The fixtures: name → ffmpeg arguments that write it as FLV. */
const FIXTURES: Record<string, string[]> = {
  // 720p 30 fps with B-frames, AAC 48 kHz stereo
  main: [...video('1280x720', 30), ...tone(48000), '-t', '9', ...x264, '-c:a', 'aac', '-ac', '2', '-b:a', '128k'],
  // 25 fps portrait: keyframes every 2.4 s, so cuts fall behind the 2 s grid and catch up
  portrait: [...video('360x640', 25), ...tone(44100), '-t', '9', ...x264, '-c:a', 'aac', '-ac', '1', '-b:a', '64k'],
  videoOnly: [...video('320x240', 30), '-t', '7', ...x264],
  audioOnly: [...tone(48000), '-t', '7', '-c:a', 'aac', '-ac', '2', '-b:a', '128k'],
  // 5 fps: video PES 200 ms apart, so the PCR needs packets of its own between them
  lowFps: [...video('320x240', 5), ...tone(48000), '-t', '7', ...x264.slice(0, -1), '10', '-c:a', 'aac', '-b:a', '64k'],
  mp3: [...video('320x240', 30), ...tone(44100), '-t', '7', ...x264, '-c:a', 'libmp3lame', '-b:a', '128k'],
};

const flv = (name: string) => join(dir, `${name}.flv`);

before(() => {
  for (const [name, args] of Object.entries(FIXTURES)) ffmpeg([...args, '-f', 'flv', flv(name)]);
  // the same stream published with timestamps that start 5.3 s in
  ffmpeg(['-i', flv('main'), '-c', 'copy', '-output_ts_offset', '5.3', '-f', 'flv', flv('offset')]);
});

interface Reference {
  segments: Buffer[];
  list: { startS: number; endS: number }[];
}

/** ffmpeg's own segment muxer on the same file, as the gateway runs it. */
function reference(name: string): Reference {
  const out = join(dir, `ref-${name}`);
  mkdirSync(out);
  ffmpeg([
    '-i',
    flv(name),
    '-map',
    '0:v?',
    '-map',
    '0:a?',
    '-c',
    'copy',
    '-f',
    'segment',
    '-segment_time',
    '2',
    '-segment_format',
    'mpegts',
    '-segment_list',
    join(out, 'out.csv'),
    '-segment_list_type',
    'csv',
    '-reset_timestamps',
    '0',
    join(out, '%d.ts'),
  ]);
  const list = readFileSync(join(out, 'out.csv'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => parseSegmentListLine(l)!);
  const files = readdirSync(out).filter((f) => f.endsWith('.ts'));
  return { segments: files.map((_, i) => readFileSync(join(out, `${i}.ts`))), list };
}

function ours(tags: Buffer[], opts?: ConstructorParameters<typeof FlvTsSegmenter>[0]): CutSegment[] {
  const seg = new FlvTsSegmenter(opts);
  const out: CutSegment[] = [];
  for (const t of tags) {
    const s = seg.push(t);
    if (s) out.push(s);
  }
  const last = seg.end();
  if (last) out.push(last);
  return out;
}

let probeCount = 0;
/** ffprobe's packets of a segment: "type,pts,dts,size,flags" per packet. */
function packets(data: Buffer): string[] {
  const file = join(dir, `probe-${probeCount++}.ts`);
  writeFileSync(file, data);
  const out = execFileSync(ffprobePath(), ['-v', 'error', '-show_entries', 'packet=codec_type,pts,dts,size,flags', '-of', 'csv=p=0', file], {
    env: mediaToolEnv('ffprobe'),
    encoding: 'utf8',
  });
  return out.split('\n').filter((l) => l.trim() !== '');
}

/** What ffmpeg says when it decodes the segment: nothing, for a clean one. */
function decodeErrors(data: Buffer): string {
  const r = spawnSync(ffmpegPath(), ['-v', 'error', '-i', 'pipe:0', '-f', 'null', '-'], { input: data, env: mediaToolEnv('ffmpeg'), encoding: 'utf8' });
  return `${r.stderr}${r.status === 0 ? '' : ` (exit ${r.status})`}`;
}

function summary(lines: string[], type: string) {
  const mine = lines.filter((l) => l.startsWith(`${type},`));
  return { count: mine.length, first: mine[0]?.split(',')[1], last: mine.at(-1)?.split(',')[1] };
}

describe('FlvTsSegmenter against ffmpeg -f segment (real ffmpeg/ffprobe)', () => {
  for (const name of ['main', 'portrait', 'videoOnly', 'audioOnly', 'lowFps', 'mp3', 'offset']) {
    it(`${name}: same cuts, times, packets and codecs as ffmpeg, and every segment decodes cleanly`, () => {
      const ref = reference(name);
      const mine = ours(flvFileTags(flv(name)));
      assert.ok(ref.segments.length >= 3, `${name}: ffmpeg made ${ref.segments.length} segments`);
      assert.equal(mine.length, ref.segments.length, 'segment count');
      for (let i = 0; i < mine.length; i++) {
        const m = mine[i]!;
        const r = ref.list[i]!;
        const where = `${name} segment ${i}`;
        assert.ok(Math.abs(m.durationMs - Math.round((r.endS - r.startS) * 1000)) <= 1, `${where}: duration ${m.durationMs} vs ${r.endS - r.startS}`);
        assert.ok(Math.abs(m.endMs - Math.round(r.endS * 1000)) <= 1, `${where}: end ${m.endMs} vs ${r.endS}`);
        assert.equal(m.data.length % 188, 0, `${where}: whole packets`);
        const mp = packets(m.data);
        const rp = packets(ref.segments[i]!);
        assert.deepEqual(summary(mp, 'video'), summary(rp, 'video'), `${where}: video frames, first and last PTS`);
        // stronger than needed downstream: every packet's timestamps, size and flags agree (audio PTS within
        // 2 ticks of 90 kHz: at 44.1 kHz ffmpeg's sample clock rounds a tick differently now and then)
        assert.deepEqual(
          mp.filter((l) => !l.startsWith('audio')),
          rp.filter((l) => !l.startsWith('audio')),
          `${where}: video packets`,
        );
        const audio = (lines: string[]) => lines.filter((l) => l.startsWith('audio')).map((l) => l.split(','));
        const [ma, ra] = [audio(mp), audio(rp)];
        assert.equal(ma.length, ra.length, `${where}: audio packets`);
        ma.forEach((p, k) => {
          assert.ok(Math.abs(Number(p[1]) - Number(ra[k]![1])) <= 2, `${where}: audio PTS ${p[1]} vs ${ra[k]![1]}`);
          assert.equal(p[3], ra[k]![3], `${where}: audio packet size`);
        });
        assert.deepEqual(bitstreamShape(m.data), bitstreamShape(ref.segments[i]!), `${where}: bitstream shape`);
        // (the first segment may see a stream join the program after its first packet: then it has no hash)
        if (i > 0) assert.ok(m.hash, `${where}: hashed while written`);
        if (m.hash) assert.deepEqual(Buffer.from(m.hash), Buffer.from(keccak256(m.data)), `${where}: the hash is keccak-256 of the bytes`);
        const read = bitstreamShape(m.data);
        if (read) {
          assert.deepEqual(m.shape, { width: read.width, height: read.height, ...(read.fps ? { fps: read.fps } : {}) }, `${where}: shape known while muxing`);
        } else assert.equal(m.shape, undefined, `${where}: no shape without video`);
        assert.equal(mpegTsCodecs(m.data), mpegTsCodecs(ref.segments[i]!), `${where}: codecs`);
        assert.equal(decodeErrors(m.data), '', `${where}: decodes without errors`);
      }
      assert.equal(decodeErrors(Buffer.concat(mine.map((s) => s.data))), '', `${name}: all segments concatenated decode without errors`);
    });
  }

  it('hands out each segment in memory of its own size, unchanged by the segments written after it', () => {
    const cuts = ours(flvFileTags(flv('main')));
    assert.ok(cuts.length >= 4);
    const copies = cuts.map((c) => Buffer.from(c.data));
    const again = ours(flvFileTags(flv('main')));
    for (const [i, c] of cuts.entries()) {
      // the HLS window keeps a segment for half a minute: no spare room behind it, no bytes shared
      assert.equal(c.data.buffer.byteLength, c.data.length, `segment ${i} holds only its bytes`);
      assert.ok(!cuts.some((o, j) => j !== i && o.data.buffer === c.data.buffer), `segment ${i} shares no memory`);
      assert.ok(copies[i]!.equals(c.data), `segment ${i} unchanged`);
      assert.ok(again[i]!.data.equals(c.data), `segment ${i} the same from a fresh segmenter`);
      if (c.hash) assert.deepEqual(c.hash, keccak256(c.data));
    }
  });

  it('starts every segment with PAT and PMT, one video access unit per PES, PCR at least every 100 ms, keyframes marked', () => {
    for (const name of ['main', 'audioOnly', 'lowFps']) {
      for (const seg of ours(flvFileTags(flv(name)))) {
        const d = seg.data;
        assert.equal((((d[1]! & 0x1f) << 8) | d[2]!) >>> 0, 0, 'PAT first');
        assert.equal(((d[189]! & 0x1f) << 8) | d[190]!, 0x1000, 'PMT second');
        let lastPcr: number | undefined;
        let maxGap = 0;
        let keyStarts = 0;
        for (let at = 0; at < d.length; at += 188) {
          assert.equal(d[at], 0x47);
          const afc = (d[at + 3]! >> 4) & 3;
          if (afc & 2 && d[at + 4]! > 0) {
            const flags = d[at + 5]!;
            if (flags & 0x10) {
              const pcr = d[at + 6]! * 2 ** 25 + d[at + 7]! * 2 ** 17 + d[at + 8]! * 2 ** 9 + d[at + 9]! * 2 + (d[at + 10]! >> 7);
              if (lastPcr !== undefined) {
                assert.ok(pcr >= lastPcr, `${name}: PCR ${pcr} after ${lastPcr}`);
                maxGap = Math.max(maxGap, pcr - lastPcr);
              }
              lastPcr = pcr;
            }
            if (flags & 0x40 && (((d[at + 1]! & 0x1f) << 8) | d[at + 2]!) === 0x100 && name === 'main') keyStarts++;
          }
        }
        assert.ok(maxGap <= 9000, `${name}: PCR gap ${maxGap / 90} ms`);
        if (name === 'main') {
          assert.equal(keyStarts, 1, 'one keyframe (the first) per 2 s segment of a 60-frame GOP');
          const es = videoElementaryStream(d);
          assert.equal(es.pesPackets, bitstreamShape(d)!.frames, 'one access unit per PES');
        }
      }
    }
  });
});

// --- hostile input -------------------------------------------------------------------------------------

/** An FLV tag with this type, timestamp and body (and its previous-tag size). */
function tag(type: number, timestamp: number, body: Buffer): Buffer {
  const t = Buffer.alloc(11 + body.length + 4);
  t[0] = type;
  t.writeUIntBE(body.length, 1, 3);
  t.writeUIntBE(timestamp & 0xffffff, 4, 3);
  t[7] = (timestamp >>> 24) & 0xff;
  body.copy(t, 11);
  t.writeUInt32BE(11 + body.length, 11 + body.length);
  return t;
}

function withTimestamp(t: Buffer, timestamp: number): Buffer {
  const c = Buffer.from(t);
  c.writeUIntBE(timestamp & 0xffffff, 4, 3);
  c[7] = (timestamp >>> 24) & 0xff;
  return c;
}

const timestampOf = (t: Buffer) => ((t[7]! << 24) >>> 0) + t.readUIntBE(4, 3);
const isVideo = (t: Buffer) => t[0] === 9;
const isConfig = (t: Buffer) => (t[0] === 9 && t[12] === 0) || (t[0] === 8 && t[12] === 0);

describe('FlvTsSegmenter on hostile input', () => {
  let tags: Buffer[];
  before(() => {
    tags = flvFileTags(flv('videoOnly')).slice(1);
  });

  const expectError = (fn: () => unknown, type: new (...a: never[]) => Error, what: string) => assert.throws(fn, (e: unknown) => e instanceof type, what);

  it('names truncated tags and NAL unit lengths past the end as FlvMediaError', () => {
    const config = tags.find(isConfig)!;
    const key = tags.find((t) => isVideo(t) && !isConfig(t))!;
    expectError(() => new FlvTsSegmenter().push(Buffer.from([9, 0, 0])), FlvMediaError, 'shorter than a tag header');
    expectError(() => new FlvTsSegmenter().push(key.subarray(0, 40)), FlvMediaError, 'body cut short');
    const s = new FlvTsSegmenter();
    s.push(config);
    const bad = Buffer.from(key);
    bad.writeUInt32BE(0x7fffffff, 16); // the first NAL unit's length
    expectError(() => s.push(bad), FlvMediaError, 'NAL unit length past the end');
    expectError(() => s.push(key), FlvMediaError, 'a failed segmenter stays failed');
  });

  it('drops frames that come before any sequence header, then muxes once one arrives', () => {
    const s = new FlvTsSegmenter();
    const media = tags.filter((t) => !isConfig(t));
    for (const t of media.slice(0, 30)) assert.equal(s.push(t), undefined);
    s.push(tags.find(isConfig)!);
    let cuts = 0;
    for (const t of media.slice(30)) if (s.push(t)) cuts++;
    const last = s.end();
    assert.ok(last && cuts >= 2, `segments after the header: ${cuts} + last`);
    assert.equal(decodeErrors(last.data), '');
  });

  it('rejects garbage sequence headers as FlvMediaError', () => {
    expectError(() => new FlvTsSegmenter().push(tag(9, 0, Buffer.from([0x17, 0, 0, 0, 0, 0, 1, 2]))), FlvMediaError, 'AVC record too short');
    expectError(
      () => new FlvTsSegmenter().push(tag(9, 0, Buffer.from([0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0x40, 0x00, 0x67]))),
      FlvMediaError,
      'SPS length past the record',
    );
    expectError(() => new FlvTsSegmenter().push(tag(8, 0, Buffer.from([0xaf, 0, 0x12]))), FlvMediaError, 'AudioSpecificConfig cut short');
    expectError(() => new FlvTsSegmenter().push(tag(8, 0, Buffer.from([0xaf, 0, 0x39, 0x90]))), UnsupportedCodecError, 'AAC object type ADTS cannot say');
  });

  it('names codecs it does not mux as UnsupportedCodecError', () => {
    expectError(() => new FlvTsSegmenter().push(tag(9, 0, Buffer.from([0x12, 0, 0, 0]))), UnsupportedCodecError, 'Sorenson H.263');
    expectError(() => new FlvTsSegmenter().push(tag(9, 0, Buffer.from([0x90, 0x68, 0x76, 0x63, 0x31]))), UnsupportedCodecError, 'enhanced RTMP HEVC');
    expectError(() => new FlvTsSegmenter().push(tag(8, 0, Buffer.from([0xb6, 0, 0]))), UnsupportedCodecError, 'Speex');
    assert.equal(new FlvTsSegmenter().push(tag(18, 0, Buffer.from([2, 0, 10]))), undefined, 'script tags are ignored');
  });

  it('keeps going through timestamps that run backwards or jump by hours, and CTS extremes', () => {
    const out: CutSegment[] = [];
    const s = new FlvTsSegmenter();
    tags.forEach((t, i) => {
      let ts = timestampOf(t);
      if (i > 60 && i < 80) ts = Math.max(0, ts - 1500); // backwards
      if (i >= 120) ts += 5 * 3600_000; // five hours later
      let c = withTimestamp(t, ts);
      if (isVideo(c) && !isConfig(c) && i % 7 === 0) {
        c = Buffer.from(c);
        c.writeUIntBE(i % 14 === 0 ? 0x800000 : 0x7fffff, 13, 3); // CTS −2^23 / 2^23 − 1 ms
      }
      const seg = s.push(c);
      if (seg) out.push(seg);
    });
    const last = s.end();
    if (last) out.push(last);
    assert.ok(out.length >= 3);
    for (const seg of out) {
      assert.equal(seg.data.length % 188, 0);
      assert.ok(seg.durationMs >= 0);
      const es = videoElementaryStream(seg.data);
      for (const pts of es.pts) assert.ok(pts >= 0 && pts < 2 ** 33);
    }
  });

  it('goes on cutting ~2 s segments after the publisher clock restarts from 0', () => {
    const restart = tags.findIndex((t) => timestampOf(t) >= 4000 && isVideo(t) && t[11]! >> 4 === 1);
    // an hour in, the clock goes back to 0
    const restarted = tags.map((t, i) => withTimestamp(t, i < restart ? timestampOf(t) + 3600_000 : timestampOf(t) - timestampOf(tags[restart]!)));
    const plain = ours(tags);
    const again = ours([...restarted.slice(0, restart), ...tags.filter(isConfig), ...restarted.slice(restart)]);
    assert.equal(again.length, plain.length);
    for (const seg of again.slice(0, -1)) assert.ok(seg.durationMs >= 1900 && seg.durationMs <= 2100, `duration ${seg.durationMs}`);
    for (let i = 1; i < again.length; i++) assert.ok(again[i]!.endMs > again[i - 1]!.endMs);
  });

  it('uses a new sequence header from then on (the encoder restarted at another size, now with audio)', () => {
    const second = flvFileTags(flv('portrait')).slice(1);
    const offset = timestampOf(tags.at(-1)!) + 33;
    const segs = ours([...tags, ...second.map((t) => withTimestamp(t, timestampOf(t) + offset))]);
    const shapes = segs.map((seg) => bitstreamShape(seg.data));
    assert.deepEqual({ width: shapes[0]!.width, height: shapes[0]!.height }, { width: 320, height: 240 });
    const last = segs.at(-1)!;
    assert.deepEqual({ width: shapes.at(-1)!.width, height: shapes.at(-1)!.height }, { width: 360, height: 640 });
    assert.match(mpegTsCodecs(last.data)!, /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
    // (the segment that holds the switch makes ffmpeg's null muxer complain about its frame rate change)
    for (const seg of [segs[0]!, last]) assert.equal(decodeErrors(seg.data), '');
  });

  it('unwraps the 32-bit FLV clock and wraps the 33-bit PTS', () => {
    // FLV timestamps 3 s before 2^32 ms: they wrap to 0 in the second segment
    const start = 2 ** 32 - 3000;
    const wrapped = ours(tags.map((t) => withTimestamp(t, (start + timestampOf(t)) % 2 ** 32)));
    const plain = ours(tags);
    assert.deepEqual(
      wrapped.map((s) => [s.durationMs, s.endMs]),
      plain.map((s) => [s.durationMs, s.endMs]),
    );
    // 26.5 h in, the 90 kHz PTS passes 2^33 inside a segment: written modulo 2^33, still decodable
    const jump = 2 ** 33 / 90 - 4000;
    const late = ours(tags.map((t, i) => (i < 3 ? t : withTimestamp(t, timestampOf(t) + jump))));
    const ptsAll = late.flatMap((s) => videoElementaryStream(s.data).pts);
    assert.ok(
      ptsAll.some((p) => p < 200_000),
      'some PTS wrapped to small values',
    );
    assert.ok(ptsAll.every((p) => p < 2 ** 33));
    for (const seg of late.slice(1)) assert.equal(decodeErrors(seg.data), '');
  });

  it('fails with SegmentTooLargeError when no keyframe comes within maxSegmentBytes', () => {
    const s = new FlvTsSegmenter({ maxSegmentBytes: 256 * 1024 });
    const interFrames = tags.filter((t) => isVideo(t) && !isConfig(t) && t[11]! >> 4 === 2);
    s.push(tags.find(isConfig)!);
    assert.throws(
      () => {
        for (let i = 0; i < 100_000; i++) s.push(withTimestamp(interFrames[i % interFrames.length]!, 33 * (i + 1)));
      },
      (e: unknown) => e instanceof SegmentTooLargeError,
    );
  });

  it('throws only its typed errors on thousands of randomly mutated real tags', () => {
    const seed = Number(process.env.FLVTS_SEED ?? Date.now() % 2 ** 31);
    console.log(`flvTsSegmenter mutation seed: ${seed} (FLVTS_SEED=${seed} repeats it)`);
    let state = seed >>> 0;
    const rand = (): number => {
      // mulberry32
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
    const pick = <T>(a: T[]): T => a[Math.floor(rand() * a.length)]!;
    const audioTags = flvFileTags(flv('main'))
      .slice(1)
      .filter((t) => t[0] === 8)
      .slice(0, 40);
    const pool = [...tags.slice(0, 80), ...audioTags];
    const configs = pool.filter(isConfig);
    const typed = { media: 0, codec: 0, segments: 0 };
    for (let round = 0; round < 3000; round++) {
      const s = new FlvTsSegmenter({ maxSegmentBytes: 1 << 20 });
      const run = [...configs, ...Array.from({ length: 12 }, () => pick(pool))];
      try {
        for (const original of run) {
          let t: Buffer = Buffer.from(original);
          const kind = rand();
          if (kind < 0.3) {
            for (let k = 0; k < 1 + rand() * 4; k++) t[Math.floor(rand() * t.length)] = Math.floor(rand() * 256);
          } else if (kind < 0.45) {
            t = t.subarray(0, Math.floor(rand() * t.length));
          } else if (kind < 0.6) {
            // a mutation where it matters most: the codec header bytes and the first NAL unit length
            for (let k = 11; k < Math.min(t.length, 24); k++) if (rand() < 0.3) t[k] = Math.floor(rand() * 256);
          } else if (kind < 0.7) {
            t = withTimestamp(t, Math.floor(rand() * 2 ** 32));
          }
          const seg = s.push(t);
          if (seg) {
            typed.segments++;
            assert.equal(seg.data.length % 188, 0);
          }
        }
        s.end();
      } catch (e) {
        if (e instanceof FlvMediaError) typed.media++;
        else if (e instanceof UnsupportedCodecError) typed.codec++;
        else throw new Error(`seed ${seed}, round ${round}: untyped ${String(e)}`, { cause: e });
      }
    }
    assert.ok(typed.media > 0 && typed.codec > 0, `both error kinds met: ${JSON.stringify(typed)}`);
  });
});
