// The event loop is not preempted by the process's own helper threads. Besides it, node runs libuv's pool
// (LevelDB writes, file system) and V8's platform workers (compiles, collector tasks). Under Linux's
// default policy a thread that wakes preempts the thread on the core at once: on one core, every ledger
// write took the core from the loop twice (when queued, and when its fsync returned), mid-segment
// (docs/node.md). Under SCHED_BATCH a thread keeps its full share of the core but never preempts on waking:
// it runs when the loop waits or at the next tick. The policy is set per thread through util-linux's chrt
// (no privilege is needed); without chrt nothing changes.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { CHRT } from '../media/idlePriority.ts';

/** How often threads started since the last look are found (libuv and V8 start some on demand). */
const RESCAN_MS = 30_000;

const TASKS = '/proc/self/task';

/** Threads already handled (or gone). */
const handled = new Set<number>();

/** This process's threads besides the main one (Linux; empty elsewhere or where /proc is not readable). */
export function helperThreadIds(): number[] {
  if (process.platform !== 'linux') return [];
  try {
    return readdirSync(TASKS)
      .map(Number)
      .filter((tid) => Number.isInteger(tid) && tid !== process.pid);
  } catch {
    return [];
  }
}

function toBatch(tid: number): Promise<boolean> {
  return new Promise((resolve) => {
    // (a thread id given to sched_setscheduler changes that thread alone)
    execFile(CHRT!, ['--batch', '--pid', '0', String(tid)], { timeout: 5000 }, (err) => resolve(!err));
  });
}

/** Puts the helper threads not seen before under SCHED_BATCH; resolves with how many it changed. */
export async function batchHelperThreads(): Promise<number> {
  if (!CHRT) return 0;
  const fresh = helperThreadIds().filter((tid) => !handled.has(tid));
  for (const tid of fresh) handled.add(tid);
  const changed = await Promise.all(fresh.map(toBatch));
  return changed.filter(Boolean).length;
}

/** Batches the helpers now and, for threads started later, every RESCAN_MS; stop() ends the rescans. */
export function keepHelperThreadsBatched(): { stop(): void } {
  void batchHelperThreads();
  const timer = setInterval(() => void batchHelperThreads(), RESCAN_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
