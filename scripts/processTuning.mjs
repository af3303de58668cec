// The allocator and garbage-collector settings a gateway process takes before its node starts, in one
// place for the two ways one starts: the `livepeer-gateway` binary and `npm start` (docs/node.md).
import { tuneGarbageCollector } from './gcFlags.mjs';
import { restartIfHeapBlocked, startHeapPrefault, tuneMalloc } from './mallocTuning.mjs';

/**
 * Call first, before the first segment buffer and before anything is written out or started: where V8
 * left the heap no room to grow, the process starts again (mallocTuning.mjs). Segment buffers then come
 * from the heap, not mapped one by one, and the heap's growth is faulted in ahead of its use; the
 * collector gets the heap's growth rule and, on one core, keeps its work in the loop's own pauses. The
 * operator's own malloc and node flags win.
 */
export function tuneGatewayProcess() {
  restartIfHeapBlocked();
  if (tuneMalloc()) startHeapPrefault();
  tuneGarbageCollector();
}
