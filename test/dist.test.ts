// dist/ and the binary: the build is used only when it is the build of the current sources.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildDist, distIsCurrent, ROOT, sourceHash } from '../scripts/dist.mjs';

describe('compiled dist/', () => {
  before(() => {
    buildDist();
  });

  it('is current after a build, so the binary runs it', () => {
    assert.equal(distIsCurrent(), true);
  });

  it('the binary runs from it under plain node', () => {
    const out = execFileSync(process.execPath, [join(ROOT, 'scripts/livepeer-gateway.mjs'), '-version'], { encoding: 'utf8', timeout: 60_000 });
    assert.match(out, /^livepeer-gateway \d+\.\d+\.\d+ \(node v/);
  });

  describe('freshness', () => {
    let root: string;
    before(async () => {
      // a copy of the sources with a stamped dist/, so edits here never touch the checkout
      root = await mkdtemp(join(tmpdir(), 'lpdist-'));
      await cp(join(ROOT, 'src'), join(root, 'src'), { recursive: true });
      for (const f of ['tsconfig.json', 'tsconfig.build.json']) await cp(join(ROOT, f), join(root, f));
      await cp(join(ROOT, 'dist', '.source-hash'), join(root, 'dist', '.source-hash'));
    });
    after(() => rm(root, { recursive: true, force: true }));

    it('the copy matches the stamp of the real build', () => {
      assert.equal(sourceHash(root), sourceHash());
      assert.equal(distIsCurrent(root), true);
    });

    it('an edited, added or removed source file makes dist/ stale', async () => {
      const file = join(root, 'src/lib/bytes.ts');
      const original = await readFile(file);
      await writeFile(file, `${original}\n// edited\n`);
      assert.equal(distIsCurrent(root), false, 'edited');
      await writeFile(file, original);
      assert.equal(distIsCurrent(root), true, 'restored');

      await writeFile(join(root, 'src/lib/new.ts'), 'export const x = 1;\n');
      assert.equal(distIsCurrent(root), false, 'added');
      await rm(join(root, 'src/lib/new.ts'));
      await rm(join(root, 'src/lib/wei.ts'));
      assert.equal(distIsCurrent(root), false, 'removed');
    });

    it('without TypeScript installed (a production install) nothing is built and nothing is removed', async () => {
      const stamp = join(root, 'dist', '.source-hash');
      await writeFile(join(root, 'src/lib/bytes.ts'), '// edited: dist/ is stale\n', { flag: 'a' });
      assert.equal(buildDist({ root }), 'no-typescript');
      assert.equal((await readFile(stamp, 'utf8')).trim(), sourceHash(), 'dist/ left as it was');
    });

    it('a change of compiler options makes dist/ stale; no stamp is never current', async () => {
      await writeFile(join(root, 'tsconfig.build.json'), '{}');
      assert.equal(distIsCurrent(root), false);
      await rm(join(root, 'dist'), { recursive: true });
      assert.equal(distIsCurrent(root), false);
    });
  });
});
