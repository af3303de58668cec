// The allocator settings the binary applies (scripts/mallocTuning.mjs): set where the addon is built, left to
// the operator's own MALLOC_ settings, and what they are for: a segment-sized buffer allocated and freed over
// and over reuses the heap's pages instead of faulting in new ones each time, a heap that grows while
// transient buffers come and go at its top keeps their pages instead of giving them back, and the pages a
// growing heap takes on are faulted in by a thread of their own (2 MiB at a time where the kernel gives huge
// pages to those who ask) rather than trapped one by one by the code that first writes them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../../scripts/dist.mjs';
import { PREFAULT_INTERVAL_MS, tuneMalloc } from '../../scripts/mallocTuning.mjs';

const BUILT = existsSync(join(ROOT, 'build', 'malloc-tuning.node'));

const PAGE = 4096;
const KEPT_BYTES = 750_000;
const TRANSIENT_BYTES = 1 << 20;

/** A script's first line that applies the binary's own allocator rule (tuneMalloc), exiting 3 where it cannot. */
const BINARY_RULE = `const { tuneMalloc } = await import(${JSON.stringify(join(ROOT, 'scripts/mallocTuning.mjs'))}); if (!tuneMalloc()) process.exit(3);`;

/** Runs `script` in a fresh node process (with `nodeFlags`) and returns what it printed. */
function runPrinting(script: string, nodeFlags: string[] = []): string {
  const r = spawnSync(process.execPath, [...nodeFlags, '--input-type=module', '-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/** Runs `script` in a fresh node process (with `nodeFlags`) and returns the one number it prints. */
function runPrintingNumber(script: string, nodeFlags: string[] = []): number {
  return Number(runPrinting(script, nodeFlags));
}

/**
 * Minor page faults per buffer of a fresh node process that allocates segment-sized buffers, keeping the
 * last 300 (a gateway with 25 streams keeps that many source segments in its playlist windows).
 */
function faultsOfSegmentChurn(tune: boolean): number {
  return runPrintingNumber(`
    ${tune ? BINARY_RULE : ''}
    const kept = [];
    const churn = (n) => { for (let i = 0; i < n; i++) { const b = Buffer.allocUnsafeSlow(${KEPT_BYTES}); b.fill(i); kept[i % 300] = b; } };
    churn(500);
    const before = process.resourceUsage().minorPageFault;
    churn(600);
    console.log((process.resourceUsage().minorPageFault - before) / 600);`);
}

/**
 * Minor page faults per round of a fresh node process whose heap grows: each round keeps a segment-sized
 * buffer (a playlist window filling as streams start) and frees a 1-MiB transient one right after it (the
 * copies an upload and a response body make), as a young-generation collection frees them.
 * `rule`: the heap rule set through the addon, or the binary's own (tuneMalloc).
 */
function faultsOfGrowingHeap(rule: 'binary' | [mmapThreshold: number, trimThreshold: number, topPad: number]): number {
  const set =
    rule === 'binary'
      ? BINARY_RULE
      : `const { createRequire } = await import('node:module');
         if (!createRequire(import.meta.url)(${JSON.stringify(join(ROOT, 'build', 'malloc-tuning.node'))}).setHeapRule(${rule.join(', ')})) process.exit(3);`;
  return runPrintingNumber(
    `
    ${set}
    const kept = [];
    const before = process.resourceUsage().minorPageFault;
    for (let i = 0; i < 300; i++) {
      const k = Buffer.allocUnsafeSlow(${KEPT_BYTES}); k.fill(i); kept.push(k);
      Buffer.allocUnsafeSlow(${TRANSIENT_BYTES}).fill(1);
      globalThis.gc({ type: 'minor' });
    }
    console.log((process.resourceUsage().minorPageFault - before) / 300);`,
    ['--expose-gc', '--no-concurrent-array-buffer-sweeping'],
  );
}

const GROWTH_BYTES = 2 << 20;
const GROWTH_ROUNDS = 40;

/**
 * Page faults per kept 2-MiB buffer taken by the main thread of a fresh node process under the binary's heap
 * rule whose heap grows by such a buffer every two prefault intervals (a playlist window filling as streams
 * start), written at once by the main thread; and whether a thread named heap-prefault ran there.
 */
function mainThreadFaultsOfGrowth(prefault: boolean): { faultsPerBuffer: number; prefaultThread: boolean; heapHugeKb: number } {
  const printed = runPrinting(
    `
    ${BINARY_RULE}
    const { readFileSync, readdirSync } = await import('node:fs');
    ${prefault ? `const { startHeapPrefault } = await import(${JSON.stringify(join(ROOT, 'scripts/mallocTuning.mjs'))}); if (!startHeapPrefault()) process.exit(4);` : ''}
    // minflt of this thread alone: the prefault thread's faults are the process's too
    const ownFaults = () => Number(readFileSync('/proc/self/task/' + process.pid + '/stat', 'utf8').split(') ')[1].split(' ')[7]);
    const kept = [];
    const before = ownFaults();
    for (let i = 0; i < ${GROWTH_ROUNDS}; i++) {
      await new Promise((r) => setTimeout(r, ${PREFAULT_INTERVAL_MS * 2}));
      const b = Buffer.allocUnsafeSlow(${GROWTH_BYTES}); b.fill(i); kept.push(b);
    }
    const faultsPerBuffer = (ownFaults() - before) / ${GROWTH_ROUNDS};
    const prefaultThread = readdirSync('/proc/self/task').some((t) => readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim() === 'heap-prefault');
    // how much of the heap (every mapping the kernel names [heap], however madvise split it) is in
    // transparent huge pages
    let inHeap = false, heapHugeKb = 0;
    for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\\n')) {
      if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inHeap = line.endsWith('[heap]');
      else if (inHeap && line.startsWith('AnonHugePages:')) heapHugeKb += Number(line.split(/ +/)[1]);
    }
    console.log(JSON.stringify({ faultsPerBuffer, prefaultThread, heapHugeKb }));`,
  );
  return JSON.parse(printed) as { faultsPerBuffer: number; prefaultThread: boolean; heapHugeKb: number };
}

/** Whether the prefault thread starts in a fresh process here (a kernel that knows MADV_POPULATE_WRITE). */
function prefaultRuns(): boolean {
  if (!BUILT || process.platform !== 'linux') return false;
  return (
    runPrintingNumber(
      `const { startHeapPrefault } = await import(${JSON.stringify(join(ROOT, 'scripts/mallocTuning.mjs'))}); console.log(startHeapPrefault() ? 1 : 0);`,
    ) === 1
  );
}

/** The two growths (without the thread, with it), run once for the tests that read them. */
let growths: { without: ReturnType<typeof mainThreadFaultsOfGrowth>; withPrefault: ReturnType<typeof mainThreadFaultsOfGrowth> } | undefined;
function growthsWithoutAndWithPrefault(): NonNullable<typeof growths> {
  growths ??= { without: mainThreadFaultsOfGrowth(false), withPrefault: mainThreadFaultsOfGrowth(true) };
  return growths;
}

/** The kernel's transparent huge page mode ('always', 'madvise', 'never'), or undefined where it has none. */
function transparentHugePages(): string | undefined {
  try {
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

const PREFAULT_RUNS = prefaultRuns();
const THP_MODE = transparentHugePages();
const NO_PREFAULT = 'no MADV_POPULATE_WRITE here (Linux 5.14 or later)';

describe('malloc tuning', { skip: BUILT ? false : 'build/malloc-tuning.node is not built' }, () => {
  it('is set where the addon is built; an operator’s own MALLOC_ setting or GLIBC_TUNABLES wins', () => {
    assert.equal(tuneMalloc({ env: {} }), true);
    assert.equal(tuneMalloc({ env: { MALLOC_MMAP_THRESHOLD_: '131072' } }), false);
    assert.equal(tuneMalloc({ env: { GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=0' } }), false);
    assert.equal(tuneMalloc({ env: {}, root: join(ROOT, 'no-such-checkout') }), false);
  });

  it('segment-sized buffers freed and allocated again reuse the heap’s pages', () => {
    const untuned = faultsOfSegmentChurn(false);
    const tuned = faultsOfSegmentChurn(true);
    // each 750-KB buffer is 184 pages; on the bench machine ~50 came from the kernel again untuned, ~4 tuned
    assert.ok(untuned > 20, `untuned: ${untuned} faults per buffer`);
    assert.ok(tuned < untuned / 4, `tuned: ${tuned} faults per buffer against ${untuned} untuned`);
  });

  it('a growing heap keeps the pages of transient buffers freed at its top instead of faulting them in again', () => {
    const keptPages = KEPT_BYTES / PAGE;
    const transientPages = TRANSIENT_BYTES / PAGE;
    // the mmap threshold pinned alone leaves glibc trimming the top from 128 KiB free: the transient's pages come back every round
    const trimmedAt128k = faultsOfGrowingHeap([32 << 20, 128 << 10, 128 << 10]);
    const binary = faultsOfGrowingHeap('binary');
    // on the bench machine: ~415 faults per round trimmed at 128 KiB, ~192 with the binary's rule (183 pages kept per round)
    assert.ok(trimmedAt128k > keptPages + transientPages * 0.75, `trimmed at 128 KiB: ${trimmedAt128k} faults per round`);
    assert.ok(binary < keptPages + transientPages * 0.25, `the binary's rule: ${binary} faults per round`);
  });

  it('a growing heap’s new pages are faulted in by the heap-prefault thread, not trapped by the code that first writes them', {
    skip: PREFAULT_RUNS ? false : NO_PREFAULT,
  }, () => {
    const pagesPerBuffer = GROWTH_BYTES / PAGE;
    const { without, withPrefault } = growthsWithoutAndWithPrefault();
    assert.equal(without.prefaultThread, false);
    assert.equal(withPrefault.prefaultThread, true);
    // the heap grows 16 MiB (the top pad) and more at a time, eight of these buffers: on the bench machine
    // ~517 faults per buffer without the thread and ~67 with it (one buffer in
    // eight, the one that grows the heap, is written before the thread looks)
    assert.ok(without.faultsPerBuffer > pagesPerBuffer * 0.9, `without the thread: ${without.faultsPerBuffer} faults per buffer`);
    assert.ok(
      withPrefault.faultsPerBuffer < pagesPerBuffer * 0.4,
      `with it: ${withPrefault.faultsPerBuffer} faults per buffer against ${without.faultsPerBuffer}`,
    );
  });

  it('a growing heap is faulted in as transparent huge pages where the kernel gives them to those who ask', {
    skip: !PREFAULT_RUNS ? NO_PREFAULT : THP_MODE === 'madvise' ? false : `transparent huge pages are "${THP_MODE ?? 'absent'}" here, not "madvise"`,
  }, () => {
    const { without, withPrefault } = growthsWithoutAndWithPrefault();
    const grownKb = (GROWTH_BYTES * GROWTH_ROUNDS) / 1024;
    // without the thread no one asks for them; with it, on the bench machine, 80 of the 80 MiB grown
    assert.equal(without.heapHugeKb, 0, `${without.heapHugeKb} KiB of huge pages without the thread`);
    assert.ok(withPrefault.heapHugeKb >= grownKb / 2, `${withPrefault.heapHugeKb} KiB of huge pages in the heap of ${grownKb} KiB grown`);
  });
});
