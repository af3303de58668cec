// Processes that nothing waits on (the sampled decodes) start below the gateway's event loop, which shares
// their core and sends every stream's segments. util-linux's chrt starts them under SCHED_IDLE (no
// privilege is needed to lower a policy): the kernel switches away from an idle-policy task as soon as the
// loop wakes, where a niceness only weighs the share and lets the decode run on for up to a scheduler slice
// (ms). Without chrt they get niceness 10. Under full load an idle-policy decode may not finish in time;
// its timeout is then not held against the orchestrator (see verifyResult.ts). The ffmpeg launcher, which
// relays those decodes, runs under SCHED_BATCH: it must keep up, but not take the core from the loop.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/** chrt, where there is one. */
export const CHRT = ['/usr/bin/chrt', '/bin/chrt'].find((p) => process.platform === 'linux' && existsSync(p));
/** chrt's exit codes when it could not run the program (not found; found but not executable), as a shell's. */
export const CHRT_NOT_FOUND = 127;
export const CHRT_CANNOT_EXECUTE = 126;
/** The niceness where SCHED_IDLE is not to be had: below the gateway's own threads (0). */
const FALLBACK_NICENESS = 10;

/** The command line that runs `path args` under SCHED_IDLE (through chrt), or as is where chrt is missing. */
export function idlePriority(path: string, args: readonly string[]): { command: string; args: string[] } {
  return CHRT ? { command: CHRT, args: ['--idle', '0', path, ...args] } : { command: path, args: [...args] };
}

/**
 * fork()'s `execPath` and `execArgv` that start a node child under SCHED_BATCH through chrt, for a child
 * that works for the event loop but that nothing waits on mid-segment (the ffmpeg launcher). Its threads,
 * those node starts with it and those started later, inherit the policy; they keep their full share of
 * the core but never preempt the loop on waking. As is where chrt is missing or this process runs under
 * another policy (an operator's SCHED_IDLE or real-time, which chrt could not or should not change).
 */
export function batchFork(execArgv: readonly string[]): { execPath: string; execArgv: string[] } {
  const ours = schedulingPolicy(process.pid);
  if (!CHRT || (ours !== SCHED_OTHER && ours !== SCHED_BATCH)) return { execPath: process.execPath, execArgv: [...execArgv] };
  return { execPath: CHRT, execArgv: ['--batch', '0', process.execPath, ...execArgv] };
}

/** For a child started from idlePriority()'s command line: the niceness, where chrt did not lower it. */
export function lowerWithoutChrt(child: ChildProcess): void {
  if (CHRT || child.pid === undefined) return;
  try {
    setPriority(child.pid, FALLBACK_NICENESS);
  } catch {
    // gone already, or a system that refuses: it runs at the normal priority
  }
}

/** Linux's numbers for the policies set here, as a task's stat line gives them. */
export const SCHED_OTHER = 0;
export const SCHED_BATCH = 3;
export const SCHED_IDLE = 5;

/**
 * The scheduling policy of process or thread `id` (field 41 of `<dir>/<id>/stat`; `dir` is /proc, or a
 * process's `task` directory for its threads), or undefined where /proc does not say.
 */
export function schedulingPolicy(id: number, dir = '/proc'): number | undefined {
  try {
    const stat = readFileSync(`${dir}/${id}/stat`, 'latin1');
    // the command name (field 2) is in parentheses and may hold spaces: count fields after its end
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const policy = Number(fields[38]);
    return Number.isInteger(policy) ? policy : undefined;
  } catch {
    return undefined;
  }
}
