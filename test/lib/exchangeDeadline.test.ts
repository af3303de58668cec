// The deadline of one exchange with a peer: it ends the wait by its own timer or the caller's signal,
// hands what comes late to be closed, and leaves nothing on the caller's long-lived signal.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { startExchangeDeadline } from '../../src/lib/exchangeDeadline.ts';

const after = <T>(ms: number, value: T) => new Promise<T>((r) => setTimeout(() => r(value), ms));

describe('exchange deadline', () => {
  it('a wait past the deadline fails as a TimeoutError at the deadline; what comes late goes to be closed', async () => {
    const deadline = startExchangeDeadline(100);
    const lateOnes: string[] = [];
    const started = performance.now();
    await assert.rejects(
      deadline.within(after(300, 'answer'), (v) => lateOnes.push(v)),
      (err: Error) => err.name === 'TimeoutError',
    );
    assert.ok(performance.now() - started < 250);
    assert.equal(deadline.signal.aborted, true);
    await after(300, null);
    assert.deepEqual(lateOnes, ['answer']);
    deadline.clear();
  });

  it('an answer in time is returned and the deadline cleared; nothing goes to late', async () => {
    const deadline = startExchangeDeadline(200);
    const lateOnes: string[] = [];
    assert.equal(await deadline.within(after(10, 'answer'), (v) => lateOnes.push(v)), 'answer');
    deadline.clear();
    await after(250, null);
    assert.equal(deadline.signal.aborted, false);
    assert.deepEqual(lateOnes, []);
  });

  it('the caller’s signal ends it with the caller’s reason, and clear() leaves no listener on that signal', async () => {
    const stop = new AbortController();
    for (let i = 0; i < 5; i++) startExchangeDeadline(60_000, stop.signal).clear();
    assert.equal(getEventListeners(stop.signal, 'abort').length, 0);
    const deadline = startExchangeDeadline(60_000, stop.signal);
    setTimeout(() => stop.abort(new Error('closing')), 20);
    await assert.rejects(deadline.within(new Promise(() => {})), /closing/);
    assert.equal(deadline.signal.aborted, true);
    deadline.clear();
    const already = startExchangeDeadline(undefined, stop.signal);
    await assert.rejects(already.within(new Promise(() => {})), /closing/);
    already.clear();
  });
});
