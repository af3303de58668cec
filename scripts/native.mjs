// The native parts, each optional. build/keccak1600.node: the addon that hashes with AVX-512 or through the
// OpenSSL inside node (native/keccak1600*.c), built with the system's C compiler against node's own
// headers; where either is missing, or the build fails, nothing is built and the gateway hashes with
// WebAssembly instead (src/lib/keccak.ts). build/frame-count: see buildFrameCounter(); build/malloc-tuning.node:
// see buildMallocTuning(); build/thread-policy.node: see buildThreadPolicy().
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from './dist.mjs';

/**
 * Compiles `sources` (every file the build reads; `ccArgs` says which are compiled) into `output` with the
 * system's C compiler unless `output` is the build of these sources with these `settings` (recorded in
 * `stampFile`). `missing()` names what the build lacks, if anything, once an existing build is known to be
 * stale. Returns what it did.
 */
function compileIfChanged({ root, force, sources, output, stampFile, settings, missing = () => undefined, ccArgs }) {
  const sourcePaths = sources.map((source) => join(root, source));
  const outputPath = join(root, output);
  const stampPath = join(root, stampFile);
  if (!sourcePaths.every((path) => existsSync(path))) return 'no-source';
  const hash = createHash('sha256');
  for (const path of sourcePaths) hash.update(readFileSync(path)).update('\0');
  const stamp = hash.update(settings).digest('hex');
  if (!force && existsSync(outputPath) && existsSync(stampPath) && readFileSync(stampPath, 'utf8').trim() === stamp) return 'current';
  rmSync(outputPath, { force: true });
  const lacking = missing();
  if (lacking) return lacking;
  mkdirSync(dirname(outputPath), { recursive: true });
  const cc = process.env.CC || 'cc';
  const r = spawnSync(cc, ccArgs(outputPath, sourcePaths), { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) return 'failed';
  writeFileSync(stampPath, `${stamp}\n`);
  return 'built';
}

/** node's own headers, beside the running node, for the addons */
const NODE_INCLUDE = join(dirname(dirname(process.execPath)), 'include', 'node');
/** What an addon's build lacks without those headers. */
const missingNodeHeaders = () => (existsSync(join(NODE_INCLUDE, 'node_api.h')) ? undefined : 'no-headers');
/** The build settings of an addon: which node it is for. */
const ADDON_SETTINGS = `${process.execPath}\0${process.version}`;

/** Builds the addon unless it is the build of this source for this node. Returns what it did. */
export function buildNative({ root = ROOT, force = false } = {}) {
  return compileIfChanged({
    root,
    force,
    sources: ['native/keccak1600.c', 'native/keccak1600_avx512.c', 'native/keccak1600_avx512.h'],
    output: 'build/keccak1600.node',
    stampFile: 'build/keccak1600.stamp',
    settings: ADDON_SETTINGS,
    missing: missingNodeHeaders,
    // -O3: the eight-sponge rounds are loops over the state's 25 registers, kept in registers only when
    // unrolled (2.2 GB/s of CPU at -O3 against 0.64 at -O2 on the bench machine)
    ccArgs: (output, [addon, avx512]) => ['-O3', '-shared', '-fPIC', '-I', NODE_INCLUDE, '-o', output, addon, avx512, '-ldl'],
  });
}

/** Builds a one-file addon (`native/<source>` → `build/<name>.node`) unless it is the build of that file for this node. */
function buildOneFileAddon({ root, force, source, name }) {
  return compileIfChanged({
    root,
    force,
    // the header their argument reading shares is part of each one's build
    sources: [`native/${source}`, 'native/napi_whole_args.h'],
    output: `build/${name}.node`,
    stampFile: `build/${name}.stamp`,
    settings: ADDON_SETTINGS,
    missing: missingNodeHeaders,
    ccArgs: (output, [file]) => ['-O2', '-shared', '-fPIC', '-I', NODE_INCLUDE, '-o', output, file],
  });
}

/**
 * build/malloc-tuning.node (native/malloc_tuning.c): sets glibc's heap rule (mmap and trim thresholds, top pad) for the gateway process
 * (scripts/mallocTuning.mjs). Where it is not built, the allocator keeps its own rule. Returns what it did.
 */
export function buildMallocTuning({ root = ROOT, force = false } = {}) {
  return buildOneFileAddon({ root, force, source: 'malloc_tuning.c', name: 'malloc-tuning' });
}

/**
 * build/thread-policy.node (native/thread_policy.c): puts the gateway's helper threads under SCHED_BATCH
 * without a child process (src/node/helperThreads.ts). Where it is not built, only the threads there at
 * start-up are changed, through chrt. Returns what it did.
 */
export function buildThreadPolicy({ root = ROOT, force = false } = {}) {
  return buildOneFileAddon({ root, force, source: 'thread_policy.c', name: 'thread-policy' });
}

const LIBAV = ['libavformat', 'libavcodec', 'libavutil'];

/**
 * build/frame-count (native/frame_count.c): the sampled decode's frame counter, linked against the
 * system's FFmpeg libraries, found with pkg-config (Debian: libavformat-dev, libavcodec-dev,
 * libavutil-dev). Where they are missing, or the build fails, nothing is built and the sampled decode
 * starts an ffmpeg each time instead (src/media/probe.ts). Returns what it did.
 */
export function buildFrameCounter({ root = ROOT, force = false } = {}) {
  const source = 'native/frame_count.c';
  const output = 'build/frame-count';
  if (!existsSync(join(root, source))) return 'no-source';
  const pkg = (...args) => spawnSync(process.env.PKG_CONFIG || 'pkg-config', [...args, ...LIBAV], { encoding: 'utf8' });
  const flags = pkg('--cflags', '--libs');
  const versions = pkg('--modversion');
  if (flags.status !== 0 || versions.status !== 0) {
    rmSync(join(root, output), { force: true });
    return 'no-libraries';
  }
  return compileIfChanged({
    root,
    force,
    sources: [source],
    output,
    stampFile: 'build/frame-count.stamp',
    settings: `${flags.stdout}\0${versions.stdout}`,
    ccArgs: (out, [src]) => ['-O2', '-o', out, src, ...flags.stdout.trim().split(/\s+/)],
  });
}
