// The event loop is not preempted by the process's own helper threads. Besides it, node runs libuv's pool
// (LevelDB writes, file system) and V8's platform workers (compiles, collector tasks). Under Linux's
// default policy a thread that wakes preempts the thread on the core at once: on one core, every ledger
// write took the core from the loop twice (when queued, and when its fsync returned), mid-segment
// (docs/node.md). Under SCHED_BATCH a thread keeps its full share of the core but never preempts on waking:
// it runs when the loop waits or at the next tick. No privilege is needed.
//
// The policy is set by the system call itself, through a small addon (native/thread_policy.c), never by
// starting chrt once the gateway carries streams: a child process starts with fork(), which marks every
// page of the parent copy-on-write, and a gateway holding its streams' HLS windows (a gigabyte at 64
// streams) then faults each page again as it next writes it. On the bench machine one such chrt cost ~5 s
// of CPU over the next 25 s (docs/node.md, "No child process from a loaded gateway"). Without the addon,
// chrt changes the threads there at start-up, while the process is small, and later threads keep the
// default policy.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { loadBuiltAddon } from '../lib/builtAddon.ts';
import { CHRT } from '../media/idlePriority.ts';

/** How often threads started since the last look are found (libuv and V8 start some on demand). */
const RESCAN_MS = 30_000;

const TASKS = '/proc/self/task';

/** Threads already handled (or gone). */
const handled = new Set<number>();

interface ThreadPolicyAddon {
  setBatchPolicy(tid: number): boolean;
}

const addon = process.platform === 'linux' ? loadBuiltAddon<ThreadPolicyAddon>('thread-policy') : undefined;

/** How the policy is set here: by the system call, through chrt (start-up only), or not at all. */
export const batchMethod: 'syscall' | 'chrt' | 'none' = addon ? 'syscall' : CHRT ? 'chrt' : 'none';

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
  if (addon) {
    try {
      return Promise.resolve(addon.setBatchPolicy(tid));
    } catch {
      return Promise.resolve(false);
    }
  }
  return new Promise((resolve) => {
    // (a thread id given to sched_setscheduler changes that thread alone)
    execFile(CHRT!, ['--batch', '--pid', '0', String(tid)], { timeout: 5000 }, (err) => resolve(!err));
  });
}

/** Puts the helper threads not seen before under SCHED_BATCH; resolves with how many it changed. */
export async function batchHelperThreads(): Promise<number> {
  if (batchMethod === 'none') return 0;
  const fresh = helperThreadIds().filter((tid) => !handled.has(tid));
  for (const tid of fresh) handled.add(tid);
  const changed = await Promise.all(fresh.map(toBatch));
  return changed.filter(Boolean).length;
}

/**
 * Batches the helpers now and, for threads started later, every RESCAN_MS where the addon sets the policy
 * without a child process; stop() ends the rescans.
 */
export function keepHelperThreadsBatched(): { stop(): void } {
  void batchHelperThreads();
  if (batchMethod !== 'syscall') return { stop: () => {} };
  const timer = setInterval(() => void batchHelperThreads(), RESCAN_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
