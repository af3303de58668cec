// Codec strings read from real ffmpeg output, checked against ffprobe's reading of the same file; bytes
// that are not a transport stream give no answer and no exception.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ffmpegPath, ffprobePath, mediaToolEnv } from '../../src/media/ffmpegBinaries.ts';
import { adtsCodec, h264Codec, mpegTsCodecs } from '../../src/media/codecs.ts';
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

function probe(name: string): { profile: string; level: number } {
  const out = execFileSync(ffprobePath(), ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=profile,level', '-of', 'json', join(dir, name)], {
    env: mediaToolEnv('ffprobe'),
  });
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
