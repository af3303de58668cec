// Garbage-collector settings the binary applies before the node starts (docs/node.md, "A node with one core").
// They are set with v8.setFlagsFromString once V8 runs, so only flags V8 reads at each collection are used:
// changing --parallel-marking (or --single-threaded-gc, which implies it) after start-up makes V8 abort at
// the next full collection (test/cli/gcFlags.test.ts runs these under a collecting load).
import { setFlagsFromString } from 'node:v8';
import { availableParallelism } from 'node:os';

/**
 * V8 sets the next old-generation limit from the live heap and starts marking again once the room left is
 * below the young generation's size; the Buffers allocated since the last full collection (a gateway's
 * segments and renditions) count against that room too. With V8's own sizing a full collection ran about
 * every 0.5 s under load (--trace-gc); with the limit at twice the live heap, every ~1.3 s at 20 streams.
 * More is worse: at three or four times, V8's separate step for Buffers (64 MB since the last collection)
 * comes first, and while that marking runs each new Buffer past the step does 5–10 ms of marking on the spot:
 * CPU 0.88–0.97×, but per-segment overhead p99 2.6–3.1 → 7.3–7.8 ms side by side at 20 streams.
 */
export const HEAP_GROWTH = ['--heap-growing-percent=100'];

/**
 * On one core V8's helper threads take the core from the event loop a scheduler tick (4 ms) at a time,
 * while a segment waits to be paid and sent. These flags keep the collector's work in the loop's own pauses.
 * Parallel marking stays (see above): it runs inside a pause the loop is in anyway.
 */
export const ONE_CORE = [
  '--no-parallel-scavenge',
  '--no-concurrent-marking',
  '--no-concurrent-sweeping',
  '--no-parallel-compaction',
  '--no-parallel-pointer-update',
  '--no-concurrent-array-buffer-sweeping',
];

/** Operator settings that mean "leave the collector alone": any of them and nothing of ours is added. */
const OPERATOR_ONE_CORE = /single-threaded|parallel-scavenge|concurrent-marking|concurrent-sweeping|parallel-compaction|parallel-pointer-update|v8-pool-size/;

/**
 * The flags to set, given what this process runs on: the cores it may use (its CPU affinity counts, so a
 * `taskset -c 0` gives 1) and the flags the operator gave node (argv and NODE_OPTIONS), which win.
 */
export function gcFlagsFor({ cores, operatorFlags }) {
  const given = operatorFlags.join(' ');
  const flags = [];
  if (!given.includes('heap-growing-percent')) flags.push(...HEAP_GROWTH);
  if (cores === 1 && !OPERATOR_ONE_CORE.test(given)) flags.push(...ONE_CORE);
  return flags;
}

/** Sets gcFlagsFor() for this process; returns what was set. */
export function tuneGarbageCollector() {
  const flags = gcFlagsFor({ cores: availableParallelism(), operatorFlags: [...process.execArgv, process.env.NODE_OPTIONS ?? ''] });
  for (const flag of flags) setFlagsFromString(flag);
  return flags;
}
