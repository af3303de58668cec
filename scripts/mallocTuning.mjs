// The allocator setting the binary applies before the node starts (docs/node.md, "Segment buffers come
// from the heap"). A gateway allocates a buffer the size of a segment (~0.75 MB at 3 Mbit/s) for every
// segment of every stream and frees it a window later; above glibc's mmap threshold each such buffer is
// mapped and unmapped on its own, and the kernel faults in and zeroes every page of it again. glibc raises
// that threshold by itself only once such a mapping is freed, and keeps trimming the heap's top at twice
// it, so the pages still come and go. Pinned at 32 MiB (the most glibc's own rule would ever raise it
// to), segment buffers are reused from the heap.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from './dist.mjs';

export const MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024;

/**
 * Sets the threshold unless the operator set glibc's own MALLOC_MMAP_THRESHOLD_ (or any MALLOC_ tuning of
 * the allocator's rule) or the addon is not built. Returns whether it was set.
 */
export function tuneMalloc({ env = process.env, root = ROOT } = {}) {
  if (Object.keys(env).some((k) => /^MALLOC_(MMAP_THRESHOLD|TRIM_THRESHOLD|TOP_PAD|MMAP_MAX)_$/.test(k) || k === 'GLIBC_TUNABLES')) return false;
  const addon = join(root, 'build', 'malloc-tuning.node');
  if (!existsSync(addon)) return false;
  try {
    return createRequire(import.meta.url)(addon).setMmapThreshold(MMAP_THRESHOLD_BYTES) === true;
  } catch {
    return false;
  }
}
