import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { ThrottledReport } from '../../src/lib/throttledReport.ts';

describe('ThrottledReport', () => {
  it('reports the first event at once, then at most once per interval with the count since', async () => {
    const reports: [number, string][] = [];
    const r = new ThrottledReport<string>(150, (count, last) => reports.push([count, last]));
    r.add('a');
    assert.deepEqual(reports, [[1, 'a']]);
    for (const x of ['b', 'c', 'd']) r.add(x);
    assert.deepEqual(reports, [[1, 'a']], 'within the interval: counted, not reported');
    await sleep(250);
    assert.deepEqual(reports, [
      [1, 'a'],
      [3, 'd'],
    ]);
    r.close();
  });

  it('a flood that stops is counted: its tail is reported when the interval ends, or at close', async () => {
    const reports: [number, number][] = [];
    const r = new ThrottledReport<number>(60_000, (count, last) => reports.push([count, last]));
    for (let i = 1; i <= 1000; i++) r.add(i);
    assert.deepEqual(reports, [[1, 1]]);
    r.close();
    assert.deepEqual(reports, [
      [1, 1],
      [999, 1000],
    ]);
    r.add(1001);
    r.close();
    assert.equal(reports.length, 2, 'nothing is counted after close');
  });

  it('quiet intervals report nothing; the next event after one is reported at once', () => {
    let now = 0;
    const reports: number[] = [];
    const r = new ThrottledReport<null>(
      1000,
      (count) => reports.push(count),
      () => now,
    );
    r.add(null);
    now = 5000;
    r.flush();
    assert.deepEqual(reports, [1]);
    r.add(null);
    assert.deepEqual(reports, [1, 1]);
    r.close();
  });
});
