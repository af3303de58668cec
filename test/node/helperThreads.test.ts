// The helper threads under SCHED_BATCH (src/node/helperThreads.ts), checked in a fresh node process from
// the kernel's own view of each thread (/proc/<pid>/task/<tid>/stat).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { SCHED_BATCH, SCHED_OTHER, schedulingPolicy } from '../../src/media/idlePriority.ts';
import { batchMethod } from '../../src/node/helperThreads.ts';

const MODULE = fileURLToPath(new URL('../../src/node/helperThreads.ts', import.meta.url));
const PRIORITY = fileURLToPath(new URL('../../src/media/idlePriority.ts', import.meta.url));

describe('helper threads', { skip: batchMethod === 'none' && 'neither the addon nor chrt here' }, () => {
  it('every thread but the main one goes under SCHED_BATCH, threads started later at the next look', () => {
    const script = `
      import { Worker } from 'node:worker_threads';
      import { batchHelperThreads, helperThreadIds } from ${JSON.stringify(MODULE)};
      import { schedulingPolicy } from ${JSON.stringify(PRIORITY)};
      const before = helperThreadIds();
      const first = await batchHelperThreads();
      // a thread started afterwards (a worker) is found by the next call, and only it
      const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
      await new Promise((r) => worker.once('online', r));
      const added = helperThreadIds().filter((t) => !before.includes(t));
      const second = await batchHelperThreads();
      const policies = Object.fromEntries([process.pid, ...helperThreadIds()].map((t) => [t, schedulingPolicy(t, '/proc/self/task')]));
      console.log(JSON.stringify({ main: process.pid, before: before.length, first, added: added.length, second, policies }));
      await worker.terminate();`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    const r = JSON.parse(out) as { main: number; before: number; first: number; added: number; second: number; policies: Record<string, number> };
    assert.ok(r.before >= 4, `node runs helper threads: ${out}`);
    assert.equal(r.first, r.before);
    assert.ok(r.added >= 1 && r.second === r.added, `only the new threads the second time: ${out}`);
    for (const [tid, policy] of Object.entries(r.policies)) {
      assert.equal(policy, Number(tid) === r.main ? SCHED_OTHER : SCHED_BATCH, `thread ${tid}: ${out}`);
    }
  });

  it('sets the policy without a child process where the addon is built: no page of a loaded process is faulted again', {
    skip: batchMethod !== 'syscall' && 'build/thread-policy.node is not built',
  }, () => {
    // 256 MiB written (as a gateway's HLS windows), a new helper thread batched, the memory written again:
    // then the same after a child process, whose fork() made every page copy-on-write
    const script = `
      import { execFileSync } from 'node:child_process';
      import { Worker } from 'node:worker_threads';
      import { batchHelperThreads, batchMethod } from ${JSON.stringify(MODULE)};
      const kept = Array.from({ length: 256 }, (_, i) => Buffer.alloc(1 << 20, i));
      await batchHelperThreads();
      const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
      await new Promise((r) => worker.once('online', r));
      const rewrite = () => {
        const before = process.resourceUsage().minorPageFault;
        for (const b of kept) b.fill(7);
        return process.resourceUsage().minorPageFault - before;
      };
      rewrite();
      const changed = await batchHelperThreads();
      const afterBatch = rewrite();
      execFileSync('true');
      const afterChild = rewrite();
      console.log(JSON.stringify({ batchMethod, changed, afterBatch, afterChild }));
      await worker.terminate();`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    const r = JSON.parse(out) as { batchMethod: string; changed: number; afterBatch: number; afterChild: number };
    assert.equal(r.batchMethod, 'syscall');
    assert.ok(r.changed >= 1, `the worker's thread batched: ${out}`);
    // 65,536 pages: after a fork each is faulted again (here ~all of them), after the system call none
    assert.ok(r.afterChild > 30_000, `a child process makes the pages fault again: ${out}`);
    assert.ok(r.afterBatch < r.afterChild / 20, `batching faults no page again: ${out}`);
  });

  it('reads a thread’s policy from its stat line, a command name with spaces and parentheses included', async () => {
    assert.equal(schedulingPolicy(process.pid), SCHED_OTHER);
    assert.equal(schedulingPolicy(2 ** 30), undefined);
    const tasks = await mkdtemp(join(tmpdir(), 'lptasks-'));
    try {
      // fields 3… of a stat line: the state, then numbers; field 41 is the policy
      const after = ['S', ...Array.from({ length: 49 }, (_, i) => String(i + 4))];
      after[38] = String(SCHED_BATCH);
      await mkdir(join(tasks, '7'));
      await writeFile(join(tasks, '7', 'stat'), `7 (a (b) c) ${after.join(' ')}\n`);
      assert.equal(schedulingPolicy(7, tasks), SCHED_BATCH);
    } finally {
      await rm(tasks, { recursive: true, force: true });
    }
  });
});
