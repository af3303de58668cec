import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gcMsBetween, threadWaitingMs, watchCollections } from '../../src/lib/mainThreadTime.ts';

test('the main thread’s wait for the core is read from the kernel, and only grows', { skip: process.platform !== 'linux' }, () => {
  const a = threadWaitingMs();
  assert.equal(typeof a, 'number');
  let x = 0;
  for (let i = 0; i < 1e6; i++) x += i;
  assert.ok(x > 0);
  const b = threadWaitingMs()!;
  assert.ok(b >= a!);
});

test('garbage collections are counted within the stretch asked about, not outside it', async () => {
  watchCollections();
  const from = performance.now();
  let kept: object[] = [];
  for (let i = 0; i < 3e6; i++) {
    kept.push({ i });
    if (kept.length > 2e5) kept = [];
  }
  const to = performance.now();
  await new Promise((r) => setTimeout(r, 50)); // the observer hears of collections after the fact
  const inside = gcMsBetween(from, to);
  assert.ok(inside > 0, 'allocating 3 million objects collected garbage');
  assert.ok(inside <= to - from);
  assert.equal(gcMsBetween(to + 10_000, to + 20_000), 0);
});
