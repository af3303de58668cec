import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  DEFAULT_TRANSCODING_OPTIONS,
  GOP_INTRA_ONLY,
  H264Profile,
  P144p25fps16x9,
  PRESETS,
  ProfileError,
  VideoCodec,
  parseProfileObject,
  parseProfileObjects,
  parseTranscodingOptions,
  presetByName,
  withFormat,
} from '../../src/media/profiles.ts';

const dir = mkdtempSync(join(tmpdir(), 'profiles-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('named presets', () => {
  it('has the 13 selectable presets of docs/wire.md §9.1 with exact sizes, bitrates and rates', () => {
    const table: Array<[string, number, number, number, number]> = [
      ['P720p60fps16x9', 1280, 720, 6_000_000, 60],
      ['P720p30fps16x9', 1280, 720, 4_000_000, 30],
      ['P720p25fps16x9', 1280, 720, 3_500_000, 25],
      ['P720p30fps4x3', 960, 720, 3_500_000, 30],
      ['P576p30fps16x9', 1024, 576, 1_500_000, 30],
      ['P576p25fps16x9', 1024, 576, 1_500_000, 25],
      ['P360p30fps16x9', 640, 360, 1_200_000, 30],
      ['P360p25fps16x9', 640, 360, 1_000_000, 25],
      ['P360p30fps4x3', 480, 360, 1_000_000, 30],
      ['P240p30fps16x9', 426, 240, 600_000, 30],
      ['P240p25fps16x9', 426, 240, 600_000, 25],
      ['P240p30fps4x3', 320, 240, 600_000, 30],
      ['P144p30fps16x9', 256, 144, 400_000, 30],
    ];
    assert.equal(Object.keys(PRESETS).length, 13);
    for (const [name, w, h, br, fps] of table) {
      const p = PRESETS[name];
      assert.ok(p, name);
      assert.deepEqual(
        [p.name, p.width, p.height, p.bitrate, p.fps, p.fpsDen, p.gopMs, p.profile, p.encoder, p.quality, p.format],
        [name, w, h, br, fps, 0, 0, H264Profile.EncoderDefault, VideoCodec.H264, 0, 'mpegts'],
      );
    }
  });

  it('defines P144p25fps16x9 but does not select it by name (lpms quirk)', () => {
    assert.equal(P144p25fps16x9.width, 256);
    assert.equal(P144p25fps16x9.fps, 25);
    assert.equal(presetByName('P144p25fps16x9'), undefined);
    assert.throws(() => parseTranscodingOptions('P144p25fps16x9'), ProfileError);
  });

  it('parses the default and drops unknown names', () => {
    assert.deepEqual(
      parseTranscodingOptions(DEFAULT_TRANSCODING_OPTIONS).map((p) => p.name),
      ['P240p30fps16x9', 'P360p30fps16x9'],
    );
    assert.deepEqual(
      parseTranscodingOptions(' P720p30fps16x9 ,nope,P144p30fps16x9').map((p) => p.name),
      ['P720p30fps16x9', 'P144p30fps16x9'],
    );
  });

  it('refuses a list with zero valid presets, naming the valid ones', () => {
    assert.throws(
      () => parseTranscodingOptions('foo,bar'),
      (e: Error) => {
        assert.ok(e instanceof ProfileError);
        assert.match(e.message, /No transcoding profiles found/);
        assert.match(e.message, /P720p60fps16x9/);
        return true;
      },
    );
    assert.throws(() => parseTranscodingOptions(''), ProfileError);
  });

  it('sets the container format for .mp4 input', () => {
    const [p] = withFormat([PRESETS.P240p30fps16x9!], 'mp4');
    assert.equal(p!.format, 'mp4');
    assert.equal(PRESETS.P240p30fps16x9!.format, 'mpegts', 'presets stay untouched');
  });
});

describe('JSON profile files', () => {
  it('parses every field, including gop strings and "intra"', () => {
    const path = file(
      'full.json',
      JSON.stringify([
        {
          name: 'hd',
          width: 1280,
          height: 720,
          bitrate: 3_000_000,
          fps: 30000,
          fpsDen: 1001,
          profile: 'H264High',
          gop: '2',
          encoder: 'H.264',
          colorDepth: 0,
          chromaFormat: 0,
          quality: 23,
        },
        { name: 'half', width: 640, height: 360, bitrate: 800000, gop: '0.5', profile: 'h264constrainedhigh' },
        { name: 'intra', width: 320, height: 180, bitrate: 300000, gop: 'intra', encoder: 'HEVC' },
        { width: 256, height: 144, bitrate: 100000, profile: 'none', encoder: '' },
      ]),
    );
    const [hd, half, intra, anon] = parseTranscodingOptions(path);
    assert.deepEqual(hd, {
      name: 'hd',
      width: 1280,
      height: 720,
      bitrate: 3_000_000,
      fps: 30000,
      fpsDen: 1001,
      format: 'mpegts',
      profile: H264Profile.H264High,
      gopMs: 2000,
      encoder: VideoCodec.H264,
      colorDepth: 0,
      chromaFormat: 0,
      quality: 23,
    });
    assert.equal(half!.gopMs, 500);
    assert.equal(half!.profile, H264Profile.H264ConstrainedHigh);
    assert.equal(intra!.gopMs, GOP_INTRA_ONLY);
    assert.equal(intra!.encoder, VideoCodec.H265);
    assert.equal(anon!.name, 'custom_256x144_100000', 'missing name gets the go-livepeer default');
    assert.equal(anon!.gopMs, 0);
  });

  it('rejects a gop given as a JSON number, a negative gop and bad gop text', () => {
    assert.throws(() => parseProfileObject({ width: 1, height: 1, gop: 2 }), /"gop" must be a string/);
    assert.throws(() => parseProfileObject({ width: 1, height: 1, gop: '-1' }), /negative/);
    assert.throws(() => parseProfileObject({ width: 1, height: 1, gop: 'often' }), /seconds as text/);
  });

  it('rejects unknown profile and encoder names, wrong types and bad sizes', () => {
    assert.throws(() => parseProfileObject({ width: 2, height: 2, profile: 'H264Extreme' }), /unknown H.264 profile/);
    assert.throws(() => parseProfileObject({ width: 2, height: 2, encoder: 'AV1' }), /unknown encoder/);
    assert.throws(() => parseProfileObject({ width: '2', height: 2 }), /"width" must be an integer/);
    assert.throws(() => parseProfileObject({ width: 2, height: 2, fps: -1 }), /"fps"/);
    assert.throws(() => parseProfileObject({ width: 0, height: 2 }), /positive/);
    for (const name of ['a/b', 'a\r\n#EXT-X-ENDLIST', '..', 'a b', 'x'.repeat(129)]) {
      assert.throws(() => parseProfileObject({ name, width: 2, height: 2 }), /profile name ".*" is not allowed/, JSON.stringify(name));
    }
    assert.throws(
      () =>
        parseProfileObjects([
          { name: 'x', width: 2, height: 2 },
          { name: 'x', width: 4, height: 4 },
        ]),
      /used twice/,
    );
    assert.throws(() => parseProfileObjects({ profiles: [] }), /JSON array/);
  });

  it('reports a bad file clearly and treats a missing or empty file as a preset list', () => {
    assert.throws(() => parseTranscodingOptions(file('bad.json', '{not json')), /not valid JSON/);
    assert.throws(() => parseTranscodingOptions(file('obj.json', '{"profiles":[]}')), /JSON array/);
    assert.throws(() => parseTranscodingOptions(file('none.json', '[]')), /No transcoding profiles/);
    // An empty file is not a profile file: its path is read as preset names (none valid).
    assert.throws(() => parseTranscodingOptions(file('empty.json', '')), /No transcoding profiles/);
    assert.throws(() => parseTranscodingOptions(join(dir, 'missing.json')), /No transcoding profiles/);
  });
});
