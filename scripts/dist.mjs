// dist/: the compiled JavaScript (and declarations) of src/, built by `tsc -p tsconfig.build.json`.
// The build stores a hash of its inputs next to its output, so the binary and `npm test` can tell
// whether dist/ is the build of the sources as they are now, and never run a stale one.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STAMP_NAME = '.source-hash';
/** Besides src/, what changes the output. */
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json'];

function filesUnder(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** sha256 over every file of src/ and the compiler configuration (paths and contents); undefined without src/. */
export function sourceHash(root = ROOT) {
  if (!existsSync(join(root, 'src'))) return undefined;
  const files = [...filesUnder(join(root, 'src')), ...CONFIG_FILES.map((f) => join(root, f)).filter((f) => existsSync(f))]
    .map((f) => relative(root, f).split('\\').join('/'))
    .sort();
  const h = createHash('sha256');
  for (const f of files) {
    const data = readFileSync(join(root, f));
    h.update(`${f}\0${data.length}\0`);
    h.update(data);
  }
  return h.digest('hex');
}

/** True when dist/ was built from exactly the current sources (or when there are no sources to build from). */
export function distIsCurrent(root = ROOT) {
  let stamp;
  try {
    stamp = readFileSync(join(root, 'dist', STAMP_NAME), 'utf8').trim();
  } catch {
    return false;
  }
  const hash = sourceHash(root);
  return hash === undefined || stamp === hash;
}

/**
 * Builds dist/ unless it is current (`force` rebuilds anyway). Returns what it did. Without TypeScript
 * installed (a production install without dev dependencies) nothing is built: the binary then runs src/.
 */
export function buildDist({ root = ROOT, force = false } = {}) {
  const hash = sourceHash(root);
  if (!force && distIsCurrent(root)) return 'current';
  let tsc;
  try {
    tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    return 'no-typescript';
  }
  const dist = join(root, 'dist');
  rmSync(dist, { recursive: true, force: true });
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (exit ${r.status ?? r.signal}); dist/ is not usable`);
  copyAssets(join(root, 'src'), dist);
  if (hash !== undefined) writeFileSync(join(dist, STAMP_NAME), `${hash}\n`);
  return 'built';
}

/** Files of src/ that are not TypeScript (SQL migrations, static assets) go beside the compiled modules that load them. */
function copyAssets(src, dist) {
  for (const file of filesUnder(src)) {
    if (file.endsWith('.ts')) continue;
    const target = join(dist, relative(src, file));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, target);
  }
}
