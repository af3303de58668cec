// How much freed memory the C library's allocator keeps. Segments, renditions and socket reads are
// Buffers whose memory comes from malloc; V8 frees them in bursts, when a full collection finds them dead,
// and it starts one each time Buffers grow by about 64 MB. glibc by default returns the free top of its
// heap to the kernel once it passes twice the largest block it last freed (~2 MB here), so after every
// collection the next 64 MB are fresh pages again: each one a page fault and a page cleared by the kernel,
// ~3,200 a second at 20 streams. Keeping up to 128 MiB free takes most faults away (docs/node.md, "Freed
// memory is kept", has the figures); the price is that the process may hold that much more than it uses
// after a busy spell. Operators who set glibc's own knobs keep them.
import { createRequire } from 'node:module';

/** Free memory at the top of the heap kept for reuse: two of V8's 64-MB steps between full collections. */
export const KEPT_FREE_BYTES = 128 * 1024 * 1024;
/**
 * Blocks up to this size come from the heap, not from a mapping of their own (which is returned, and
 * faults again, each time); glibc's own ceiling, which it otherwise reaches only by adjusting as it goes.
 */
export const MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024;

/** glibc's variables for the settings set here, and the tunables naming them: an operator's choice wins. */
const OPERATOR_VARIABLES = ['MALLOC_TRIM_THRESHOLD_', 'MALLOC_MMAP_THRESHOLD_', 'MALLOC_TOP_PAD_', 'MALLOC_MMAP_MAX_'];
const OPERATOR_TUNABLES = /glibc\.malloc\.(trim_threshold|mmap_threshold|top_pad|mmap_max)=/;

export type FreedMemorySetting =
  /** the allocator keeps up to KEPT_FREE_BYTES free */
  | 'kept'
  /** the operator set the allocator's thresholds in the environment; left as they are */
  | 'operator'
  /** not glibc, or build/malloc-tuning.node was not built: the allocator's own behaviour */
  | 'unavailable';

interface MallocTuning {
  keepFreedMemory(trimBytes: number, mmapBytes: number): boolean;
}

/** Sets the allocator to keep freed memory, once per process, unless the environment already says. */
export function keepFreedMemory(env: NodeJS.ProcessEnv = process.env): FreedMemorySetting {
  if (OPERATOR_VARIABLES.some((name) => env[name] !== undefined) || OPERATOR_TUNABLES.test(env.GLIBC_TUNABLES ?? '')) return 'operator';
  let addon: MallocTuning;
  try {
    addon = createRequire(import.meta.url)('../../build/malloc-tuning.node') as MallocTuning;
  } catch {
    return 'unavailable';
  }
  return addon.keepFreedMemory(KEPT_FREE_BYTES, MMAP_THRESHOLD_BYTES) ? 'kept' : 'unavailable';
}
