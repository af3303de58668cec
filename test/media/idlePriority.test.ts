// How children are started below the event loop (src/media/idlePriority.ts): the ffmpeg launcher's fork
// goes through chrt --batch only where this process runs under the default or batch policy.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { batchFork, CHRT } from '../../src/media/idlePriority.ts';

const MODULE = fileURLToPath(new URL('../../src/media/idlePriority.ts', import.meta.url));

test('a forked child runs node through chrt --batch, with its own node flags after', { skip: !CHRT }, () => {
  assert.deepEqual(batchFork(['--import', 'tsx']), { execPath: CHRT, execArgv: ['--batch', '0', process.execPath, '--import', 'tsx'] });
});

test("under an operator's SCHED_IDLE the child is forked as is: batch would raise it", { skip: !CHRT }, () => {
  const script = `import { batchFork } from ${JSON.stringify(MODULE)}; console.log(JSON.stringify(batchFork(['--x'])));`;
  const out = execFileSync(CHRT!, ['--idle', '0', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.deepEqual(JSON.parse(out), { execPath: process.execPath, execArgv: ['--x'] });
});

test('without chrt the child is forked as is', { skip: Boolean(CHRT) }, () => {
  assert.deepEqual(batchFork(['--x']), { execPath: process.execPath, execArgv: ['--x'] });
});
