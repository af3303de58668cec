// Where a slow stretch of synchronous code went: waiting for the core (another thread or process had it),
// collecting garbage, or running. Debug figures only: /proc/thread-self/schedstat is read
// per call (Linux; elsewhere the scheduler figures are absent), and the GC observer runs once asked for.
import { readFileSync } from 'node:fs';
import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';

let schedstatReadable = process.platform === 'linux';

/**
 * ms the calling thread has been runnable but waiting for a core, since it started; undefined where the
 * kernel does not say. (The same file's run time is only brought up to date at a tick or a switch, so it
 * is not read: too coarse for a millisecond.)
 */
export function threadWaitingMs(): number | undefined {
  if (!schedstatReadable) return undefined;
  try {
    const wait = readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[1];
    return Number(wait) / 1e6;
  } catch {
    schedstatReadable = false;
    return undefined;
  }
}

/** Garbage collections, newest last, as [start, end] in performance.now() ms; a bounded ring. */
const collections: Array<[number, number]> = [];
const KEPT = 256;
let observer: PerformanceObserver | undefined;

/** Starts noting garbage collections (idempotent); gcMsBetween() is 0 until then. */
export function watchCollections(): void {
  if (observer) return;
  observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries() as PerformanceEntry[]) {
      collections.push([e.startTime, e.startTime + e.duration]);
      if (collections.length > KEPT) collections.shift();
    }
  });
  observer.observe({ type: 'gc' });
}

/** ms of garbage collection (the main thread's pauses) that fell between `from` and `to`. */
export function gcMsBetween(from: number, to: number): number {
  let ms = 0;
  for (let i = collections.length - 1; i >= 0; i--) {
    const [start, end] = collections[i]!;
    if (end <= from) break;
    ms += Math.max(0, Math.min(end, to) - Math.max(start, from));
  }
  return ms;
}
