// SerialQueue: one task at a time, in order; a failure reaches its caller only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerialQueue } from '../../src/lib/serialQueue.ts';

test('tasks run one at a time in the order given; a failed one does not stop the rest', async () => {
  const q = new SerialQueue();
  const log: string[] = [];
  let running = 0;
  const task =
    (name: string, fail = false) =>
    async () => {
      running++;
      assert.equal(running, 1, `${name} started while another task was running`);
      log.push(`start ${name}`);
      await new Promise((r) => setImmediate(r));
      log.push(`end ${name}`);
      running--;
      if (fail) throw new Error(`${name} failed`);
      return name;
    };
  const results = await Promise.allSettled([q.run(task('a')), q.run(task('b', true)), q.run(task('c'))]);
  assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  assert.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    ['a', 'b failed', 'c'],
  );
});

test('idle() waits for everything queued so far, failures included', async () => {
  const q = new SerialQueue();
  let done = 0;
  void q.run(async () => {
    await new Promise((r) => setImmediate(r));
    done++;
  });
  q.run(async () => {
    done++;
    throw new Error('x');
  }).catch(() => undefined);
  await q.idle();
  assert.equal(done, 2);
});
