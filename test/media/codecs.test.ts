// Codec strings read from real ffmpeg output (libx264, libx265, aac), checked against ffprobe's reading of
// the same file and against fixed strings; the HEVC string from a transport stream's SPS equals the one
// from the same stream's hvcC in MP4. Bytes that are not a transport stream or an MP4 give no answer and
// no exception.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ffmpegPath, ffprobePath, mediaToolEnv } from '../../src/media/ffmpegBinaries.ts';
import { adtsCodec, h264Codec, hevcCodec, mpegTsCodecs, segmentCodecs } from '../../src/media/codecs.ts';
import { avcCodecString, hevcCodecString, mp4aCodecString } from '../../src/media/codecStrings.ts';
import { mp4Codecs } from '../../src/media/mp4Codecs.ts';
import { testSourceArgs } from './testMedia.ts';

const dir = mkdtempSync(join(tmpdir(), 'codecs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function clip(name: string, extra: string[]): Buffer {
  const path = join(dir, name);
  execFileSync(ffmpegPath(), [...testSourceArgs({ seconds: 1 }), ...extra, '-y', path], {
    env: mediaToolEnv('ffmpeg'),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return readFileSync(path);
}

/** Re-muxes a clip into another container without re-encoding. */
function remux(from: string, name: string, extra: string[]): Buffer {
  const path = join(dir, name);
  execFileSync(ffmpegPath(), ['-v', 'error', '-i', join(dir, from), '-c', 'copy', ...extra, '-y', path], {
    env: mediaToolEnv('ffmpeg'),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return readFileSync(path);
}

function probe(name: string): { profile: string; level: number; codec_tag_string: string } {
  const out = execFileSync(
    ffprobePath(),
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=profile,level,codec_tag_string', '-of', 'json', join(dir, name)],
    {
      env: mediaToolEnv('ffprobe'),
    },
  );
  return JSON.parse(out.toString()).streams[0];
}

const PROFILE_IDC: Record<string, number> = { Baseline: 66, 'Constrained Baseline': 66, Main: 77, High: 100 };

describe('codecs of an MPEG-TS segment', () => {
  for (const [name, extra] of [
    ['baseline.ts', []],
    ['main.ts', ['-preset', 'veryfast', '-profile:v', 'main']],
    ['high.ts', ['-preset', 'veryfast', '-profile:v', 'high', '-level:v', '4.0']],
  ] as const) {
    it(`${name}: profile and level as ffprobe reads them, AAC-LC audio`, () => {
      const codecs = mpegTsCodecs(clip(name, [...extra]));
      const p = probe(name);
      assert.ok(codecs, 'found');
      const m = /^avc1\.([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2}),mp4a\.40\.2$/.exec(codecs);
      assert.ok(m, codecs);
      assert.equal(Number.parseInt(m[1]!, 16), PROFILE_IDC[p.profile], `profile ${p.profile}`);
      assert.equal(Number.parseInt(m[3]!, 16), p.level, `level ${p.level}`);
      if (name === 'high.ts') assert.equal(codecs, 'avc1.640028,mp4a.40.2');
    });
  }

  it('video without audio', () => {
    assert.match(mpegTsCodecs(clip('silent.ts', ['-an']))!, /^avc1\.[0-9a-f]{6}$/);
  });

  it('hostile or foreign bytes: no answer, no exception', () => {
    const ts = clip('cut.ts', []);
    assert.equal(mpegTsCodecs(Buffer.alloc(0)), undefined);
    assert.equal(mpegTsCodecs(randomBytes(188 * 50)), undefined);
    // a transport stream cut inside its first packets, and one whose packets were garbled after the sync byte
    assert.equal(mpegTsCodecs(ts.subarray(0, 300)), undefined);
    const garbled = Buffer.from(ts);
    for (let off = 0; off + 188 <= garbled.length; off += 188) randomBytes(187).copy(garbled, off + 1);
    assert.doesNotThrow(() => mpegTsCodecs(garbled));
    const allSync = Buffer.alloc(188 * 100, 0x47);
    assert.doesNotThrow(() => mpegTsCodecs(allSync));
    assert.equal(h264Codec(Buffer.from([0, 0, 1])), undefined);
    assert.equal(adtsCodec(Buffer.from([0xff])), undefined);
  });
});

const hasX265 = execFileSync(ffmpegPath(), ['-hide_banner', '-encoders'], { env: mediaToolEnv('ffmpeg') })
  .toString()
  .includes('libx265');
const X265 = ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', '-pix_fmt', 'yuv420p'];

describe('codec strings from their header bytes', () => {
  it('H.264: profile, constraint byte and level in hex', () => {
    assert.equal(avcCodecString(0x64, 0x00, 0x1f), 'avc1.64001f');
    assert.equal(avcCodecString(0x42, 0xc0, 0x1e, 'avc3'), 'avc3.42c01e');
  });
  it("HEVC: ISO 14496-15 Annex E, as in Apple's HLS authoring examples", () => {
    // Main, compatible with Main and Main 10, progressive + frame-only constraints, Main tier level 3.1
    const main = Uint8Array.from([0x01, 0x60, 0x00, 0x00, 0x00, 0xb0, 0, 0, 0, 0, 0, 93]);
    assert.equal(hevcCodecString(main), 'hvc1.1.6.L93.B0');
    // Main 10, High tier level 5.1, profile space 1, two constraint bytes (the zero ones at the end left out)
    const main10 = Uint8Array.from([0x40 | 0x20 | 0x02, 0x20, 0x00, 0x00, 0x00, 0x90, 0x08, 0, 0, 0, 0, 153]);
    assert.equal(hevcCodecString(main10, 'hev1'), 'hev1.A2.4.H153.90.8');
    // no constraint flag at all: nothing after the level
    assert.equal(hevcCodecString(Uint8Array.from([0x01, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 120])), 'hvc1.1.2.L120');
    assert.equal(hevcCodecString(Uint8Array.from([1, 2, 3])), undefined);
  });
  it('MPEG-4 audio: object type from the decoder config; MP3 as Apple names it', () => {
    assert.equal(mp4aCodecString(0x40, 2), 'mp4a.40.2');
    assert.equal(mp4aCodecString(0x40, 5), 'mp4a.40.5');
    assert.equal(mp4aCodecString(0x6b), 'mp4a.40.34');
    assert.equal(mp4aCodecString(0x40), undefined);
  });
});

describe('codecs of HEVC in MPEG-TS', { skip: hasX265 ? false : 'this ffmpeg has no libx265' }, () => {
  it('720p Main (x265 picks level 3.1): hvc1.1.6.L93.90, the same string the MP4 hvcC of the stream gives', () => {
    const ts = clip('hevc720.ts', ['-s', '1280x720', ...X265, '-c:a', 'aac']);
    const p = probe('hevc720.ts');
    assert.equal(p.profile, 'Main');
    assert.equal(p.level, 93);
    const codecs = mpegTsCodecs(ts);
    assert.equal(codecs, 'hvc1.1.6.L93.90,mp4a.40.2');
    assert.equal(segmentCodecs(ts, 'mpegts'), codecs);
    assert.equal(mp4Codecs(remux('hevc720.ts', 'hevc720.mp4', ['-tag:v', 'hvc1'])), codecs);
  });
  it('a small picture gets a lower level, read from the SPS (ffprobe agrees)', () => {
    const ts = clip('hevc240.ts', ['-s', '320x240', ...X265, '-an']);
    const p = probe('hevc240.ts');
    assert.equal(mpegTsCodecs(ts), `hvc1.1.6.L${p.level}.90`);
    assert.equal(hevcCodec(Buffer.from([0, 0, 1, 0x42, 0x01, 0x01])), undefined, 'an SPS cut short');
  });
});

describe('codecs of an MP4 segment (HTTP push)', () => {
  it('plain MP4, H.264 High 3.1 and AAC-LC: avc1.64001f,mp4a.40.2 (ffprobe agrees)', () => {
    clip('high31.ts', ['-s', '640x360', '-preset', 'veryfast', '-profile:v', 'high', '-level:v', '3.1']);
    const mp4 = remux('high31.ts', 'high31.mp4', []);
    const p = probe('high31.mp4');
    assert.deepEqual([p.profile, p.level, p.codec_tag_string], ['High', 31, 'avc1']);
    assert.equal(mp4Codecs(mp4), 'avc1.64001f,mp4a.40.2');
    assert.equal(segmentCodecs(mp4, 'mp4'), 'avc1.64001f,mp4a.40.2');
  });
  it('moov at the front (faststart) and fragmented MP4 with its init: the same answer as the transport stream', () => {
    clip('base.ts', []);
    const expected = mpegTsCodecs(readFileSync(join(dir, 'base.ts')));
    assert.match(expected!, /^avc1\.42c0[0-9a-f]{2},mp4a\.40\.2$/);
    assert.equal(mp4Codecs(remux('base.ts', 'fast.mp4', ['-movflags', '+faststart'])), expected);
    assert.equal(mp4Codecs(remux('fast.mp4', 'frag.mp4', ['-movflags', '+frag_keyframe+empty_moov+default_base_moof'])), expected);
  });
  it('HE-AAC: mp4a.40.5', () => {
    const path = join(dir, 'he.mp4');
    execFileSync(ffmpegPath(), ['-v', 'error', '-i', join(dir, 'high31.mp4'), '-c:v', 'copy', '-c:a', 'aac', '-profile:a', 'aac_he', '-y', path], {
      env: mediaToolEnv('ffmpeg'),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    assert.equal(mp4Codecs(readFileSync(path)), 'avc1.64001f,mp4a.40.5');
  });
  it('hostile or foreign bytes: no answer, no exception, no loop', () => {
    const mp4 = readFileSync(join(dir, 'high31.mp4'));
    assert.equal(mp4Codecs(Buffer.alloc(0)), undefined);
    assert.equal(mp4Codecs(randomBytes(64 * 1024)), undefined);
    assert.equal(mp4Codecs(readFileSync(join(dir, 'high31.ts'))), undefined, 'a transport stream');
    // every cut of the first kilobytes and of the moov: undefined or the full answer, never a throw
    const moovAt = mp4.indexOf('moov') - 4;
    for (let cut = 0; cut < mp4.length; cut += cut < 4096 || cut > moovAt ? 7 : 997) {
      const got = mp4Codecs(mp4.subarray(0, cut));
      assert.ok(got === undefined || got === 'avc1.64001f,mp4a.40.2', `${cut}: ${got}`);
    }
    // a box that claims more than there is, a 64-bit size past the end, a zero-length box
    const lies = Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from('moov'), Buffer.alloc(32)]);
    assert.equal(mp4Codecs(lies), undefined);
    const huge = Buffer.concat([Buffer.from([0, 0, 0, 1]), Buffer.from('moov'), Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0]), Buffer.alloc(32)]);
    assert.equal(mp4Codecs(huge), undefined);
    const tiny = Buffer.concat([Buffer.from([0, 0, 0, 4]), Buffer.from('moov')]);
    assert.equal(mp4Codecs(tiny), undefined);
    // the moov's bytes garbled after each header: whatever comes out, no exception
    const garbled = Buffer.from(mp4);
    for (let i = moovAt + 8; i < garbled.length; i += 13) garbled[i] = garbled[i]! ^ 0x5a;
    assert.doesNotThrow(() => mp4Codecs(garbled));
  });
});
