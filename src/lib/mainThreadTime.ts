// Where a slow stretch of synchronous code went: running on the CPU, waiting for it (another thread or
// process had the core), or collecting garbage. Debug figures only: /proc/thread-self/schedstat is read
// per call (Linux; elsewhere the scheduler figures are absent), and the GC observer runs once asked for.
import { readFileSync } from 'node:fs';
import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';

export interface ThreadTime {
  /** ms this thread ran, since it started */
  readonly onCpuMs: number;
  /** ms this thread was runnable but waited for a core, since it started */
  readonly waitingMs: number;
}

let schedstatReadable = process.platform === 'linux';

/** The calling thread's scheduler times now, or undefined where the kernel does not say. */
export function threadTime(): ThreadTime | undefined {
  if (!schedstatReadable) return undefined;
  try {
    const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ');
    return { onCpuMs: Number(run) / 1e6, waitingMs: Number(wait) / 1e6 };
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
