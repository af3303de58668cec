// build/keccak1600.node: the addon that hashes through the OpenSSL inside node (native/keccak1600.c).
// Built with the system's C compiler against node's own headers; where either is missing, or the build
// fails, nothing is built and the gateway hashes with WebAssembly instead (src/lib/keccak.ts).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from './dist.mjs';

const SOURCE = 'native/keccak1600.c';
const OUTPUT = 'build/keccak1600.node';
const STAMP = 'build/keccak1600.stamp';

/** Builds the addon unless it is the build of this source for this node. Returns what it did. */
export function buildNative({ root = ROOT, force = false } = {}) {
  const source = join(root, SOURCE);
  const output = join(root, OUTPUT);
  if (!existsSync(source)) return 'no-source';
  const include = join(dirname(dirname(process.execPath)), 'include', 'node');
  const stamp = createHash('sha256').update(readFileSync(source)).update(`\0${process.execPath}\0${process.version}`).digest('hex');
  if (!force && existsSync(output) && existsSync(join(root, STAMP)) && readFileSync(join(root, STAMP), 'utf8').trim() === stamp) return 'current';
  rmSync(output, { force: true });
  if (!existsSync(join(include, 'node_api.h'))) return 'no-headers';
  mkdirSync(dirname(output), { recursive: true });
  const cc = process.env.CC || 'cc';
  const r = spawnSync(cc, ['-O2', '-shared', '-fPIC', '-I', include, '-o', output, source, '-ldl'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) return 'failed';
  writeFileSync(join(root, STAMP), `${stamp}\n`);
  return 'built';
}
