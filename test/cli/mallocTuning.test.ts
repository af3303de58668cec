// The allocator setting the binary applies (scripts/mallocTuning.mjs): set where the addon is built, left to
// the operator's own MALLOC_ settings, and what it is for: a segment-sized buffer allocated and freed over
// and over reuses the heap's pages instead of faulting in new ones each time.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../../scripts/dist.mjs';
import { tuneMalloc } from '../../scripts/mallocTuning.mjs';

const BUILT = existsSync(join(ROOT, 'build', 'malloc-tuning.node'));

/**
 * Minor page faults per buffer of a fresh node process that allocates segment-sized buffers, keeping the
 * last 300 (a gateway with 25 streams keeps that many source segments in its playlist windows).
 */
function faultsOfSegmentChurn(tune: boolean): number {
  const script = `
    ${tune ? `const { tuneMalloc } = await import(${JSON.stringify(join(ROOT, 'scripts/mallocTuning.mjs'))}); if (!tuneMalloc()) process.exit(3);` : ''}
    const kept = [];
    const churn = (n) => { for (let i = 0; i < n; i++) { const b = Buffer.allocUnsafeSlow(750_000); b.fill(i); kept[i % 300] = b; } };
    churn(500);
    const before = process.resourceUsage().minorPageFault;
    churn(600);
    console.log((process.resourceUsage().minorPageFault - before) / 600);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
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
});
