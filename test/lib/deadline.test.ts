import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDeadline } from '../../src/lib/deadline.ts';

describe('startDeadline', () => {
  it('expires once, after its time', async () => {
    let expired = 0;
    const started = performance.now();
    startDeadline(30, () => expired++);
    await sleep(10);
    assert.equal(expired, 0);
    await sleep(60);
    assert.equal(expired, 1);
    assert.ok(performance.now() - started >= 30);
  });

  // (cleared after its timer fired, by an answer read in the same turn: test/net/lateEventLoop.test.ts)
  it('never expires once cleared', async () => {
    let expired = 0;
    startDeadline(20, () => expired++).clear();
    const e = startDeadline(20, () => expired++);
    e.clear();
    e.clear();
    await sleep(80);
    assert.equal(expired, 0);
  });

  it('waits while the lateness is ours, looking again every recheckMs, and expires once it is not', async () => {
    let expired = 0;
    let ours = true;
    let asked = 0;
    const lateByUs = () => {
      asked++;
      return ours;
    };
    startDeadline(20, () => expired++, { lateByUs, recheckMs: 20 });
    await sleep(110);
    assert.equal(expired, 0);
    assert.ok(asked >= 3, `asked ${asked} times`);
    ours = false;
    await sleep(60);
    assert.equal(expired, 1);
    // cleared while waiting on our lateness: never expires
    ours = true;
    const e = startDeadline(20, () => expired++, { lateByUs, recheckMs: 20 });
    await sleep(50);
    e.clear();
    ours = false;
    await sleep(60);
    assert.equal(expired, 1);
  });
});
