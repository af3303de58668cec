// The allocator settings the binary applies (scripts/mallocTuning.mjs): set where the addon is built, left to
// the operator's own MALLOC_ settings, and what they are for: a segment-sized buffer allocated and freed over
// and over reuses the heap's pages instead of faulting in new ones each time, and a heap that grows while
// transient buffers come and go at its top keeps their pages instead of giving them back.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../../scripts/dist.mjs';
import { tuneMalloc } from '../../scripts/mallocTuning.mjs';

const BUILT = existsSync(join(ROOT, 'build', 'malloc-tuning.node'));

const PAGE = 4096;
const KEPT_BYTES = 750_000;
const TRANSIENT_BYTES = 1 << 20;

/** A script's first line that applies the binary's own allocator rule (tuneMalloc), exiting 3 where it cannot. */
const BINARY_RULE = `const { tuneMalloc } = await import(${JSON.stringify(join(ROOT, 'scripts/mallocTuning.mjs'))}); if (!tuneMalloc()) process.exit(3);`;

/** Runs `script` in a fresh node process (with `nodeFlags`) and returns the one number it prints. */
function runPrintingNumber(script: string, nodeFlags: string[] = []): number {
  const r = spawnSync(process.execPath, [...nodeFlags, '--input-type=module', '-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
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
});
