// The allocator settings the binary applies before the node starts (docs/node.md, "Segment buffers come
// from the heap"). A gateway allocates a buffer the size of a segment (~0.75 MB at 3 Mbit/s) for every
// segment of every stream and frees it a window later; above glibc's mmap threshold each such buffer is
// mapped and unmapped on its own, and the kernel faults in and zeroes every page of it again. glibc raises
// that threshold by itself only once such a mapping is freed, so the threshold is pinned at 32 MiB (the
// most glibc's own rule would ever raise it to). Pinning it turns that rule off, which also leaves the
// heap's top trimmed from 128 KiB free: the rule would trim at twice the threshold. Trimmed at 128 KiB, a
// gateway taking on streams gave back a third of what its heap grew by (137 MB in 10 s at 80 streams,
// strace) and faulted it in again within moments, for the transient copies of uploads and bodies; so the
// trim threshold is set as the rule would have it, and the heap grows 16 MiB at a time (address space
// only: pages are faulted in when used), not one brk per allocation at the top.
//
// A stream's first 24 s fill its playlist window (~15 MiB at 3 Mbit/s with two renditions), all of it new
// heap, and each new page costs a trap when first written: ~10 us a page under the bench machine's
// hypervisor, where a thread faulting in the same pages with one MADV_POPULATE_WRITE pays 4.7 us. The
// addon's thread looks at the heap's end every PREFAULT_INTERVAL_MS and faults in what it grew by, ahead
// of its use: the heap grows 16 MiB at a time, more than a second of new segments at 20 streams. It asks
// for transparent huge pages there first (MADV_HUGEPAGE), so where the kernel gives them that is one
// fault per 2 MiB.

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from './dist.mjs';

export const MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024;
export const TRIM_THRESHOLD_BYTES = 2 * MMAP_THRESHOLD_BYTES;
export const TOP_PAD_BYTES = 16 * 1024 * 1024;
export const PREFAULT_INTERVAL_MS = 50;
/** Room the heap needs above its top: the playlist windows of a few hundred streams. */
export const MIN_HEAP_ROOM_BYTES = 4 * 1024 ** 3;
/** Set in the environment of the process replaceProcess() starts again, so it is started again once only. */
export const HEAP_RESTART_ENV = 'LIVEPEER_GATEWAY_HEAP_RESTARTED';

function loadAddon(root) {
  const addon = join(root, 'build', 'malloc-tuning.node');
  return existsSync(addon) ? createRequire(import.meta.url)(addon) : undefined;
}

/** Whether the operator tuned glibc's allocator: then the binary leaves it alone. */
function operatorTunedMalloc(env) {
  return Object.keys(env).some((k) => /^MALLOC_(MMAP_THRESHOLD|TRIM_THRESHOLD|TOP_PAD|MMAP_MAX)_$/.test(k) || k === 'GLIBC_TUNABLES');
}

/**
 * Bytes between the heap's end and the next mapping above it, from /proc/PID/maps' text; undefined when
 * there is no [heap] (nothing grown by brk yet). The kernel may name more than one line [heap] (parts
 * madvise set apart): the highest end counts.
 */
export function heapRoom(maps) {
  const ranges = [];
  let heapEnd;
  for (const line of maps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (!m) continue;
    const range = { start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`) };
    ranges.push(range);
    if (line.trimEnd().endsWith('[heap]') && (heapEnd === undefined || range.end > heapEnd)) heapEnd = range.end;
  }
  if (heapEnd === undefined) return undefined;
  const above = ranges.filter((r) => r.start >= heapEnd).map((r) => r.start);
  if (above.length === 0) return Number.POSITIVE_INFINITY;
  return Number(above.reduce((a, b) => (b < a ? b : a)) - heapEnd);
}

/**
 * V8 reserves 512 MiB for its compiled code at start-up, at the first free address near node's own code
 * it reads in /proc/self/maps. node is not position-independent, so its heap (grown with brk, from a random
 * point above node's data) is in that stretch too, and now and then the reservation lands just above the
 * heap's top: the heap can then grow no more (a few MiB), glibc takes its growth in mappings elsewhere,
 * where the prefault thread does not look, and each new segment buffer is faulted in by the code that
 * writes it (3 of ~50 gateway runs in the benches: page faults per stream a second 157 against 25–31).
 * Where the heap has less than MIN_HEAP_ROOM_BYTES above it, this starts the process again (execve: same
 * pid, arguments, environment, descriptors), once; the new start lays the addresses out afresh. Returns
 * the room the heap has (undefined without a [heap] or when nothing can be read), when it does not restart.
 */
export function restartIfHeapBlocked({ env = process.env, root = ROOT, maps = () => readFileSync('/proc/self/maps', 'utf8') } = {}) {
  const restarted = env[HEAP_RESTART_ENV] === '1';
  // not for the processes this one starts
  delete env[HEAP_RESTART_ENV];
  if (operatorTunedMalloc(env)) return undefined;
  let room;
  let addon;
  try {
    room = heapRoom(maps());
    addon = loadAddon(root);
  } catch {
    return undefined;
  }
  if (restarted || room === undefined || room >= MIN_HEAP_ROOM_BYTES || typeof addon?.replaceProcess !== 'function') return room;
  const environment = Object.entries({ ...env, [HEAP_RESTART_ENV]: '1' }).map(([k, v]) => `${k}=${v}`);
  try {
    // standard input, output and error, and the channel to a parent node, if any
    const keepFds = [0, 1, 2];
    if (/^\d+$/.test(env.NODE_CHANNEL_FD ?? '')) keepFds.push(Number(env.NODE_CHANNEL_FD));
    addon.replaceProcess(process.execPath, [process.argv0, ...process.execArgv, ...process.argv.slice(1)], environment, keepFds);
  } catch {
    // the kernel refused: this process goes on with the heap it has
  }
  return room;
}

/**
 * Sets them unless the operator set glibc's own MALLOC_MMAP_THRESHOLD_ (or any MALLOC_ tuning of
 * the allocator's rule) or the addon is not built. Returns whether it was set.
 */
export function tuneMalloc({ env = process.env, root = ROOT } = {}) {
  if (operatorTunedMalloc(env)) return false;
  try {
    return loadAddon(root)?.setHeapRule(MMAP_THRESHOLD_BYTES, TRIM_THRESHOLD_BYTES, TOP_PAD_BYTES) === true;
  } catch {
    return false;
  }
}

/**
 * Starts the thread that faults in the heap's growth ahead of its use (Linux 5.14 or later, the addon
 * built). Returns whether it runs.
 */
export function startHeapPrefault({ root = ROOT } = {}) {
  try {
    return loadAddon(root)?.startHeapPrefault(PREFAULT_INTERVAL_MS) === true;
  } catch {
    return false;
  }
}
