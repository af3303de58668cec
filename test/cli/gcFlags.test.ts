// The garbage-collector flags the binary sets once V8 runs (scripts/gcFlags.mjs): which, when, and that V8
// takes them at run time under a load that collects young and old generations many times.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../../scripts/dist.mjs';
import { gcFlagsFor, HEAP_GROWTH, ONE_CORE } from '../../scripts/gcFlags.mjs';

const GC_FLAGS = join(ROOT, 'scripts/gcFlags.mjs');
const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find((p) => existsSync(p));

/** Runs `body` in a fresh node (plain JavaScript module) and returns its output. */
function runNode(body: string, prefix: string[] = []): string {
  const [cmd, ...args] = [...prefix, process.execPath, '--input-type=module', '-e', body];
  return execFileSync(cmd!, args, { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODE_OPTIONS: '' } });
}

describe('garbage-collector flags', () => {
  it('with more than one core: only the heap growth', () => {
    assert.deepEqual(gcFlagsFor({ cores: 2, operatorFlags: [] }), HEAP_GROWTH);
    assert.deepEqual(gcFlagsFor({ cores: 64, operatorFlags: [''] }), HEAP_GROWTH);
  });

  it('on one core: the collector works in the loop’s pauses, parallel marking left as it is', () => {
    const flags = gcFlagsFor({ cores: 1, operatorFlags: [] });
    assert.deepEqual(flags, [...HEAP_GROWTH, ...ONE_CORE]);
    assert.ok(flags.includes('--no-parallel-scavenge') && flags.includes('--no-concurrent-marking'));
    // V8 aborts at the next full collection when these change once it runs
    assert.ok(!flags.some((f) => /parallel-marking|single-threaded/.test(f)));
  });

  it('the operator’s own node flags win', () => {
    assert.deepEqual(gcFlagsFor({ cores: 1, operatorFlags: ['--single-threaded-gc'] }), HEAP_GROWTH);
    assert.deepEqual(gcFlagsFor({ cores: 1, operatorFlags: ['', '--max-old-space-size=4096 --v8-pool-size=2'] }), HEAP_GROWTH);
    assert.deepEqual(gcFlagsFor({ cores: 1, operatorFlags: ['--heap-growing-percent=50'] }), ONE_CORE);
    assert.deepEqual(gcFlagsFor({ cores: 2, operatorFlags: ['--heap-growing-percent=50'] }), []);
  });

  it('a process pinned to one core sets them (its affinity is what counts)', { skip: !TASKSET && 'no taskset' }, () => {
    const out = runNode(`import { tuneGarbageCollector } from ${JSON.stringify(GC_FLAGS)}; console.log(JSON.stringify(tuneGarbageCollector()));`, [
      TASKSET!,
      '-c',
      '0',
    ]);
    assert.deepEqual(JSON.parse(out), [...HEAP_GROWTH, ...ONE_CORE]);
  });

  it('V8 takes them at run time: young and full collections under load, then a clean exit', () => {
    // a heap that keeps old objects alive while young ones churn, so scavenges, incremental marking,
    // compaction and sweeping all run with the flags in force
    const out = runNode(
      `import { setFlagsFromString } from 'node:v8';
       import { HEAP_GROWTH, ONE_CORE } from ${JSON.stringify(GC_FLAGS)};
       import { PerformanceObserver } from 'node:perf_hooks';
       for (const f of [...HEAP_GROWTH, ...ONE_CORE]) setFlagsFromString(f);
       const kinds = new Set();
       new PerformanceObserver((l) => { for (const e of l.getEntries()) kinds.add(e.detail.kind); }).observe({ entryTypes: ['gc'] });
       let kept = [];
       for (let i = 0; i < 1500; i++) {
         const batch = [];
         for (let j = 0; j < 2000; j++) batch.push({ j, s: 'x' + j, b: new Uint8Array(64) });
         kept.push(batch);
         if (kept.length > 150) kept = kept.slice(75);
       }
       await new Promise((r) => setTimeout(r, 100));
       console.log(JSON.stringify([...kinds]));`,
    );
    const kinds = JSON.parse(out) as number[];
    // perf_hooks' kinds: 1 minor (scavenge); 2 major (mark-compact), or 4 when its marking ran in steps
    assert.ok(kinds.includes(1) && (kinds.includes(2) || kinds.includes(4)), `collections seen: ${out}`);
  });
});
