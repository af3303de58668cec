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

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from './dist.mjs';

export const MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024;
export const TRIM_THRESHOLD_BYTES = 2 * MMAP_THRESHOLD_BYTES;
export const TOP_PAD_BYTES = 16 * 1024 * 1024;
export const PREFAULT_INTERVAL_MS = 50;

function loadAddon(root) {
  const addon = join(root, 'build', 'malloc-tuning.node');
  return existsSync(addon) ? createRequire(import.meta.url)(addon) : undefined;
}

/**
 * Sets them unless the operator set glibc's own MALLOC_MMAP_THRESHOLD_ (or any MALLOC_ tuning of
 * the allocator's rule) or the addon is not built. Returns whether it was set.
 */
export function tuneMalloc({ env = process.env, root = ROOT } = {}) {
  if (Object.keys(env).some((k) => /^MALLOC_(MMAP_THRESHOLD|TRIM_THRESHOLD|TOP_PAD|MMAP_MAX)_$/.test(k) || k === 'GLIBC_TUNABLES')) return false;
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
