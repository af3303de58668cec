// The helper threads go below the event loop; the main thread keeps its priority.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { HELPER_THREAD_NICENESS, lowerHelperThreads } from '../../src/lib/helperThreads.ts';

/** /proc/self/task/<tid>/stat, counted after the command name's closing bracket: the 19th field is the niceness. */
function niceness(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

test('every thread but the main one is lowered to the helper niceness', { skip: process.platform !== 'linux' }, async () => {
  await new Promise((r) => setImmediate(r));
  const tids = readdirSync('/proc/self/task').map(Number);
  const helpers = tids.filter((t) => t !== process.pid);
  assert.ok(helpers.length >= 4, `V8 and libuv helper threads exist (${tids.length} threads)`);
  assert.ok(lowerHelperThreads() >= helpers.length);
  for (const t of helpers) assert.equal(niceness(t), HELPER_THREAD_NICENESS, `thread ${t}`);
  assert.equal(niceness(process.pid), 0, 'the main thread (the event loop) keeps its priority');
});
