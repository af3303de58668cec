// Grouped read-modify-write commits: nothing lost or reordered, one synced write per group, a failed
// write changes nothing. The store here records calls and fails on demand; the ledger's own tests run
// the same code on the real LevelDB.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupCommit, type GroupCommitStore } from '../../src/store/groupCommit.ts';

/** `failWrites`: the numbers (1, 2, …) of the synced writes that fail. */
function store(failWrites: ReadonlySet<number> = new Set()) {
  const data = new Map<string, number>();
  const calls = { reads: 0, writes: 0 };
  const s: GroupCommitStore<number> = {
    async getMany(keys) {
      calls.reads += keys.length;
      return keys.map((k) => data.get(k));
    },
    async putSynced(entries) {
      await new Promise((r) => setTimeout(r, 5)); // an fsync takes a while; updates pile up meanwhile
      calls.writes++;
      if (failWrites.has(calls.writes)) throw new Error('disk full');
      for (const { key, value } of entries) data.set(key, value);
    },
  };
  return { s, data, calls };
}

const add = (key: string, n: number) => [{ key, next: (v: number | undefined) => (v ?? 0) + n }];

describe('GroupCommit', () => {
  it('starts writing once the caller is done: updates handed in together go in one write', async () => {
    const { s, calls } = store();
    const g = new GroupCommit(s);
    await g.update([...add('a', 1), ...add('b', 1)]); // both keys kept: a write needs no read first
    const all = [g.update(add('a', 1)), g.update(add('b', 2)), g.update(add('a', 3))];
    assert.equal(calls.writes, 1, 'nothing is written while the caller runs');
    await Promise.all(all);
    assert.equal(calls.writes, 2, 'the three updates in one write');
  });

  it('applies every update in order, grouping those that wait into one write, reading each key once', async () => {
    const { s, data, calls } = store();
    const g = new GroupCommit(s);
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        g.update([
          {
            key: 'k',
            next: (v) => {
              order.push(i);
              return (v ?? 0) + 1;
            },
          },
          ...add(`k${i % 3}`, i),
        ]),
      ),
    );
    assert.deepEqual(order, [...Array(50).keys()], 'applied in the order handed in');
    assert.equal(data.get('k'), 50);
    assert.deepEqual([data.get('k0'), data.get('k1'), data.get('k2')], [408, 425, 392]);
    assert.ok(calls.writes <= 3, `${calls.writes} synced writes for 50 updates`);
    assert.equal(calls.reads, 4, 'each key read once, then kept');
    await g.update(add('k', 1));
    assert.equal(calls.reads, 4);
    assert.equal(data.get('k'), 51);
  });

  it('fails every update of a group whose write fails, and later updates start from what is on disk', async () => {
    const { s, data, calls } = store(new Set([2]));
    const g = new GroupCommit(s);
    await g.update(add('k', 1)); // written alone; the next two go together in the second write
    const failed = [g.update(add('k', 10)), g.update(add('k', 100))];
    const settled = await Promise.allSettled(failed);
    assert.deepEqual(
      settled.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    await g.update(add('k', 1000));
    assert.equal(data.get('k'), 1001, 'the failed updates left no trace');
    assert.equal(calls.writes, 3);
    await g.idle();
  });
});
