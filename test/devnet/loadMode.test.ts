// The load mode's on-disk rendition cache: a restarted orchestrator (a new transcoder on the same
// directory) serves the same renditions without encoding, a half-written entry is not served, and
// orchestrators sharing the directory may write one entry at once.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PrerenderedTranscoder, writeCacheEntry } from '../../scripts/devnet/orchestrator/loadMode.ts';
import { profileToWire } from '../../src/net/capabilities.ts';
import { P144p30fps16x9 } from '../net/fixtures.ts';

describe('load mode rendition cache on disk', () => {
  it('serves a restarted transcoder from the directory, and only complete entries', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'load-mode-cache-'));
    try {
      const profiles = [profileToWire(P144p30fps16x9)];
      const first = new PrerenderedTranscoder(dir);
      const [made] = await first.transcode(1000, profiles);
      assert.equal(first.encoded, 1);

      const restarted = new PrerenderedTranscoder(dir);
      const [again] = await restarted.transcode(1000, profiles);
      assert.equal(restarted.encoded, 0, 'read from disk, not encoded');
      assert.deepEqual(again, made);

      // An entry whose meta file is missing (a writer killed half-way) is made again, not served.
      for (const f of await readdir(dir)) if (f.endsWith('.json')) await rm(join(dir, f));
      await writeFile(join(dir, 'garbage.json'), '{');
      const third = new PrerenderedTranscoder(dir);
      const [remade] = await third.transcode(1000, profiles);
      assert.equal(third.encoded, 1);
      assert.equal(remade!.frames, made!.frames);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lets orchestrators sharing the directory write the same entry at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'load-mode-cache-'));
    try {
      // every stream's short last segment: each orchestrator process misses it at the same moment
      const profiles = [profileToWire(P144p30fps16x9)];
      const [made] = await new PrerenderedTranscoder().transcode(700, profiles);
      const file = join(dir, 'entry');
      await Promise.all(Array.from({ length: 8 }, () => writeCacheEntry(file, made!)));
      assert.deepEqual((await readdir(dir)).sort(), ['entry.json', 'entry.ts'], 'one whole entry, no temp file left');
      assert.deepEqual(JSON.parse(await readFile(`${file}.json`, 'utf8')), { frames: made!.frames, pixels: String(made!.pixels) });
      assert.deepEqual(await readFile(`${file}.ts`), Buffer.from(made!.data));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
