import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { keccak_256 } from '@noble/hashes/sha3';
import { KECCAK_IMPLEMENTATION } from '../../src/lib/keccak.ts';
import { DeferredKeccak256Stream, keccak256Each, laneStats } from '../../src/lib/keccakLanes.ts';

const sideBySide = KECCAK_IMPLEMENTATION === 'avx512';

describe('DeferredKeccak256Stream', () => {
  it('hashes 20 streams fed in turns, with renditions hashed in between, as one-shot keccak-256 does', () => {
    const inputs = Array.from({ length: 20 }, (_, i) => randomBytes(50_000 + i * 7_919));
    const streams = inputs.map(() => new DeferredKeccak256Stream());
    const at = inputs.map(() => 0);
    const before = { ...laneStats };
    for (let turn = 0; at.some((a, i) => a < inputs[i]!.length); turn++) {
      inputs.forEach((input, i) => {
        // pieces of every size: under a block, whole blocks, blocks and a tail, a tail then blocks
        const size = [1, 135, 136, 4_096 + 3, 13_600, 65_536 + 77][(turn + i) % 6]!;
        streams[i]!.update(input.subarray(at[i], at[i]! + size));
        at[i] = Math.min(input.length, at[i]! + size);
      });
      if (turn % 7 === 3) {
        const renditions = [randomBytes(3_000), randomBytes(100), randomBytes(40_000)];
        assert.deepEqual(
          keccak256Each(renditions),
          renditions.map((r) => keccak_256(r)),
        );
      }
    }
    for (const [i, s] of streams.entries()) assert.deepEqual(Buffer.from(s.digest()), Buffer.from(keccak_256(inputs[i]!)), `stream ${i}`);
    if (sideBySide) {
      // the streams' bytes went through the lanes, four or more sponges a call on average
      assert.ok(laneStats.calls > before.calls);
      assert.ok((laneStats.sponges - before.sponges) / (laneStats.calls - before.calls) >= 4);
    }
  });

  it("a stream's bytes wait at most 100 ms for other streams, and are hashed then; a digest hashes what waits", {
    skip: !sideBySide && 'no AVX-512 here',
  }, async () => {
    const data = randomBytes(10 * 136 + 5);
    const s = new DeferredKeccak256Stream();
    const calls = laneStats.calls;
    s.update(data);
    assert.equal(laneStats.calls, calls, 'waits for others');
    await sleep(150);
    assert.equal(laneStats.calls, calls + 1, 'hashed when the wait ran out');
    assert.deepEqual(s.digest(), keccak_256(data));
    // a digest takes the other streams' waiting bytes into the same call
    const others = [randomBytes(2_000), randomBytes(3_000)];
    const streams = others.map((bytes) => {
      const other = new DeferredKeccak256Stream();
      other.update(bytes);
      return other;
    });
    const last = new DeferredKeccak256Stream();
    last.update(data);
    const sponges = laneStats.sponges;
    assert.deepEqual(last.digest(), keccak_256(data));
    assert.equal(laneStats.sponges, sponges + 3);
    for (const [i, other] of streams.entries()) assert.deepEqual(other.digest(), keccak_256(others[i]!));
  });

  it('digest() does not end the stream, and an empty stream hashes as no bytes', () => {
    const data = randomBytes(5_000);
    const s = new DeferredKeccak256Stream();
    s.update(data.subarray(0, 2_000));
    assert.deepEqual(s.digest(), keccak_256(data.subarray(0, 2_000)));
    s.update(data.subarray(2_000));
    assert.deepEqual(s.digest(), keccak_256(data));
    assert.deepEqual(new DeferredKeccak256Stream().digest(), keccak_256(new Uint8Array(0)));
  });
});

describe('keccak256Each', () => {
  it('hashes each input: empty, small, around the rate, large, the same input twice, more than 64', () => {
    const one = randomBytes(20_000);
    const inputs = [new Uint8Array(0), randomBytes(31), randomBytes(135), randomBytes(136), randomBytes(1_087), randomBytes(1_088), one, one];
    for (let i = 0; i < 70; i++) inputs.push(randomBytes(1_024 + i * 136 + (i % 3)));
    assert.deepEqual(
      keccak256Each(inputs),
      inputs.map((input) => keccak_256(input)),
    );
    assert.deepEqual(keccak256Each([]), []);
  });
});
