// The native parts, each optional. build/keccak1600.node: the addon that hashes through the OpenSSL inside
// node (native/keccak1600.c), built with the system's C compiler against node's own headers; where either
// is missing, or the build fails, nothing is built and the gateway hashes with WebAssembly instead
// (src/lib/keccak.ts). build/frame-count: see buildFrameCounter().
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

const COUNTER_SOURCE = 'native/frame_count.c';
const COUNTER_OUTPUT = 'build/frame-count';
const COUNTER_STAMP = 'build/frame-count.stamp';
const LIBAV = ['libavformat', 'libavcodec', 'libavutil'];

/**
 * build/frame-count (native/frame_count.c): the sampled decode's frame counter, linked against the
 * system's FFmpeg libraries, found with pkg-config (Debian: libavformat-dev, libavcodec-dev,
 * libavutil-dev). Where they are missing, or the build fails, nothing is built and the sampled decode
 * starts an ffmpeg each time instead (src/media/probe.ts). Returns what it did.
 */
export function buildFrameCounter({ root = ROOT, force = false } = {}) {
  const source = join(root, COUNTER_SOURCE);
  const output = join(root, COUNTER_OUTPUT);
  if (!existsSync(source)) return 'no-source';
  const pkg = (...args) => spawnSync(process.env.PKG_CONFIG || 'pkg-config', [...args, ...LIBAV], { encoding: 'utf8' });
  const flags = pkg('--cflags', '--libs');
  const versions = pkg('--modversion');
  if (flags.status !== 0 || versions.status !== 0) {
    rmSync(output, { force: true });
    return 'no-libraries';
  }
  const stamp = createHash('sha256').update(readFileSync(source)).update(`\0${flags.stdout}\0${versions.stdout}`).digest('hex');
  if (!force && existsSync(output) && existsSync(join(root, COUNTER_STAMP)) && readFileSync(join(root, COUNTER_STAMP), 'utf8').trim() === stamp)
    return 'current';
  rmSync(output, { force: true });
  mkdirSync(dirname(output), { recursive: true });
  const cc = process.env.CC || 'cc';
  const r = spawnSync(cc, ['-O2', '-o', output, source, ...flags.stdout.trim().split(/\s+/)], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) return 'failed';
  writeFileSync(join(root, COUNTER_STAMP), `${stamp}\n`);
  return 'built';
}
