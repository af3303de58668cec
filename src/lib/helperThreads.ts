// The process's helper threads (V8's garbage-collection and compiler workers, libuv's pool) below its main
// thread. Every segment's work runs on the main thread (the event loop); on a busy core, V8's four workers
// each took a full scheduler tick in a row while the main thread waited, holding a segment back by up to
// 24 ms (seen with `perf sched timehist`). A niceness is per thread on Linux, and raising one needs no
// privilege; the helpers still get a share of a busy core, so nothing they do is starved.
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * The lowest niceness: at 10 the workers still took up to three ticks in a row (12 ms) ahead of the main
 * thread; at 19 a tick's run puts a worker ~70 ticks behind it. Still a weight (not SCHED_IDLE), so a
 * helper holding a lock the main thread needs is never starved by other processes' threads.
 */
export const HELPER_THREAD_NICENESS = 19;

/**
 * Lowers every thread of this process but the main one to HELPER_THREAD_NICENESS; returns how many it
 * lowered (0 where /proc is absent). Threads started later inherit the niceness of the thread that starts
 * them, so call it once the node is up (libuv starts its pool at the first file or crypto job).
 */
export function lowerHelperThreads(): number {
  if (process.platform !== 'linux') return 0;
  let tids: number[];
  try {
    tids = readdirSync('/proc/self/task').map(Number);
  } catch {
    return 0;
  }
  let lowered = 0;
  for (const tid of tids) {
    if (tid === process.pid || !Number.isInteger(tid)) continue;
    try {
      setPriority(tid, HELPER_THREAD_NICENESS); // on Linux a thread id names that thread alone
      lowered++;
    } catch {
      // gone meanwhile, or refused: it keeps the main thread's priority
    }
  }
  return lowered;
}
