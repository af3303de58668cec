import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { keccak_256, keccakP } from '@noble/hashes/sha3';
import { KECCAK_IMPLEMENTATION, Keccak256Stream, keccak256 } from '../../src/lib/keccak.ts';

test('keccak256 is Ethereum keccak-256 (not NIST SHA3): known vectors', () => {
  assert.equal(Buffer.from(keccak256(new Uint8Array(0))).toString('hex'), 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
  assert.equal(Buffer.from(keccak256(Buffer.from('abc'))).toString('hex'), '4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45');
});

test('keccak256 agrees with @noble/hashes on sizes around the 136-byte rate and on segment-sized inputs', () => {
  for (const size of [1, 31, 32, 135, 136, 137, 271, 272, 1000, 188 * 4000 + 7]) {
    const data = randomBytes(size);
    assert.deepEqual(keccak256(data), keccak_256(data), `size ${size}`);
  }
});

test('keccak256 of several parts is the hash of their concatenation; results are independent copies', () => {
  const a = randomBytes(100);
  const b = randomBytes(300);
  const whole = keccak_256(Buffer.concat([a, b]));
  const first = keccak256(a, b);
  assert.deepEqual(first, whole);
  keccak256(randomBytes(10)); // the shared hasher moves on; the earlier result must not change
  assert.deepEqual(first, whole);
});

describe('Keccak256Stream', () => {
  it('hashes pieces as one-shot keccak-256 does, with other streams and one-shot hashes in between', () => {
    const a = randomBytes(300_000);
    const b = randomBytes(123_457);
    const sa = new Keccak256Stream();
    const sb = new Keccak256Stream();
    for (let at = 0; at < a.length; at += 4_096) {
      sa.update(a.subarray(at, at + 4_096));
      if (at < b.length) sb.update(b.subarray(at, Math.min(b.length, at + 4_096)));
      keccak256(randomBytes(100)); // the shared hasher used in between
    }
    assert.deepEqual(Buffer.from(sa.digest()), Buffer.from(keccak256(a)));
    assert.deepEqual(Buffer.from(sb.digest()), Buffer.from(keccak256(b)));
    assert.deepEqual(Buffer.from(new Keccak256Stream().digest()), Buffer.from(keccak256(new Uint8Array(0))));
  });
});

describe('native keccak (build/keccak1600.node)', () => {
  const addon = join(dirname(fileURLToPath(import.meta.url)), '../../build/keccak1600.node');
  type Addon = {
    absorb: (state: Uint8Array, data: Uint8Array) => number;
    absorbWith: (name: string, state: Uint8Array, data: Uint8Array) => number;
    absorbLanes: (states: Uint8Array[], pieces: Uint8Array[], mustFinish?: number) => number[];
    implementation: string;
    available: string[];
  };
  const load = (): Addon => createRequire(import.meta.url)(addon) as Addon;

  it('is what hashes here wherever the addon is built (npm run build) on Linux x86-64', { skip: !existsSync(addon) && 'addon not built' }, () => {
    // node's own OpenSSL exports the function on the official Linux x86-64 builds this project runs on
    if (process.platform === 'linux' && process.arch === 'x64') {
      const { available, implementation } = load();
      assert.ok(available.includes('openssl'));
      // AVX-512 wherever this CPU has it (the addon asks the CPU; /proc/cpuinfo says the same)
      const cpuHasIt = /^flags\s*:.*\bavx512f\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
      assert.equal(implementation, cpuHasIt ? 'avx512' : 'openssl');
      assert.equal(available.includes('avx512'), cpuHasIt);
    }
    assert.equal(KECCAK_IMPLEMENTATION, load().implementation);
  });

  /** Keccak-f[1600]'s absorb as the reference defines it, over @noble/hashes' permutation. */
  function referenceAbsorb(state: Uint8Array, data: Uint8Array): number {
    const lanes = new Uint32Array(state.buffer, state.byteOffset, 50);
    let at = 0;
    for (; data.length - at >= 136; at += 136) {
      for (let i = 0; i < 136; i++) state[i]! ^= data[at + i]!;
      keccakP(lanes);
    }
    return data.length - at;
  }

  for (const name of ['avx512', 'openssl']) {
    it(`${name}: absorbs as the reference permutation does, from any state, at any offset, leaving the tail`, {
      skip: (!existsSync(addon) && 'addon not built') || (!load().available.includes(name) && `${name} cannot run here`),
    }, () => {
      const { absorbWith } = load();
      const data = randomBytes(136 * 40 + 200);
      for (const [offset, length] of [
        [0, 0],
        [0, 135],
        [0, 136],
        [3, 137],
        [1, 136 * 2],
        [7, 136 * 17 + 100],
        [5, 136 * 40 + 1],
      ] as const) {
        const start = new Uint8Array(200);
        start.set(randomBytes(200));
        const ours = start.slice();
        const theirs = start.slice();
        const piece = data.subarray(offset, offset + length);
        assert.equal(absorbWith(name, ours, piece), referenceAbsorb(theirs, piece), `left over, ${length} bytes`);
        assert.deepEqual(Buffer.from(ours), Buffer.from(theirs), `state after ${length} bytes at offset ${offset}`);
      }
    });
  }

  it('absorbLanes: up to 64 sponges, each from its own state over its own piece (unequal lengths), as the reference', {
    skip: !existsSync(addon) && 'addon not built',
  }, () => {
    const { absorbLanes } = load();
    for (const count of [1, 2, 3, 8, 9, 17, 64]) {
      const states = Array.from({ length: count }, () => Uint8Array.from(randomBytes(200)));
      const expected = states.map((s) => s.slice());
      // lengths such that lanes run out at different blocks, some with none, some not whole blocks
      const pieces = states.map((_, i) => randomBytes(((i * 37) % 23) * 136 + (i % 5) * 11 + 3).subarray(i % 4));
      for (const [i, s] of expected.entries()) referenceAbsorb(s, pieces[i]!);
      absorbLanes(states, pieces);
      for (const [i, s] of states.entries()) assert.deepEqual(Buffer.from(s), Buffer.from(expected[i]!), `${count} sponges: sponge ${i}`);
    }
    const state = () => new Uint8Array(200);
    assert.throws(() => absorbLanes([state()], []), TypeError);
    assert.throws(
      () =>
        absorbLanes(
          Array.from({ length: 65 }, state),
          Array.from({ length: 65 }, () => new Uint8Array(0)),
        ),
      TypeError,
    );
    const twice = state();
    assert.throws(() => absorbLanes([twice, twice], [new Uint8Array(136), new Uint8Array(136)]), /given twice/);
    const shared = new Uint8Array(400);
    assert.throws(() => absorbLanes([shared.subarray(0, 200), shared.subarray(192, 392)], [new Uint8Array(136), new Uint8Array(136)]), /overlap/);
    absorbLanes([shared.subarray(0, 200), shared.subarray(200, 400)], [new Uint8Array(136), new Uint8Array(136)]); // side by side is fine
    assert.throws(() => absorbLanes([new Uint8Array(208).subarray(1, 201)], [new Uint8Array(136)]), TypeError);
    assert.throws(() => absorbLanes([state()], ['not bytes' as unknown as Uint8Array]), TypeError);
  });

  it('absorbLanes: sponges from mustFinish on stop where fewer than three run side by side; the rest finish', {
    skip: !existsSync(addon) && 'addon not built',
  }, () => {
    const { absorbLanes, available } = load();
    const pieces = [10, 20, 30].map((blocks) => randomBytes(blocks * 136 + 7));
    for (const mustFinish of [0, 1, 2, 3]) {
      const states = pieces.map(() => Uint8Array.from(randomBytes(200)));
      const expected = states.map((s) => s.slice());
      const absorbed = absorbLanes(states, pieces, mustFinish);
      // with AVX-512 the three run 10 blocks side by side, then two are left; without it all finish
      const want = pieces.map((p, i) => (i < mustFinish || !available.includes('avx512') ? p.length - 7 : 10 * 136));
      assert.deepEqual(absorbed, want, `mustFinish ${mustFinish}`);
      for (const [i, s] of expected.entries()) referenceAbsorb(s, pieces[i]!.subarray(0, want[i]));
      for (const [i, s] of states.entries()) assert.deepEqual(Buffer.from(s), Buffer.from(expected[i]!), `mustFinish ${mustFinish}: sponge ${i}`);
    }
    assert.throws(() => absorbLanes([new Uint8Array(200)], [new Uint8Array(136)], '1' as unknown as number), TypeError);
  });

  it('absorbWith names an implementation that runs here, or throws', { skip: !existsSync(addon) && 'addon not built' }, () => {
    const { absorbWith } = load();
    assert.throws(() => absorbWith('sha3', new Uint8Array(200), new Uint8Array(136)), /no such keccak implementation/);
    assert.throws(() => absorbWith('openssl', new Uint8Array(199), new Uint8Array(136)), TypeError);
  });

  it('splits at every offset around the rate as one-shot hashing does (streaming tail handling)', () => {
    const data = randomBytes(3 * 136 + 9);
    const whole = keccak_256(data);
    for (let cut = 0; cut <= data.length; cut++) {
      const s = new Keccak256Stream();
      s.update(data.subarray(0, cut));
      s.update(new Uint8Array(0));
      s.update(data.subarray(cut));
      assert.deepEqual(s.digest(), whole, `cut at ${cut}`);
    }
    // digest() does not end the stream: more bytes after it hash as one input
    const s = new Keccak256Stream();
    s.update(data.subarray(0, 200));
    s.digest();
    s.update(data.subarray(200));
    assert.deepEqual(s.digest(), whole);
  });

  it('refuses a state that is not 200 aligned bytes, or data that is not bytes', { skip: !existsSync(addon) && 'addon not built' }, () => {
    const { absorb } = load() as unknown as { absorb: (state: unknown, data?: unknown) => number };
    assert.throws(() => absorb(new Uint8Array(199), new Uint8Array(136)), TypeError);
    assert.throws(() => absorb(new Uint8Array(208).subarray(1, 201), new Uint8Array(136)), TypeError);
    assert.throws(() => absorb(new Uint8Array(200), 'not bytes'), TypeError);
    assert.throws(() => absorb(new Uint8Array(200), new Uint16Array(68)), TypeError);
    assert.throws(() => absorb(new Uint8Array(200)), TypeError);
    assert.equal(absorb(new Uint8Array(200), new Uint8Array(300)), 300 - 2 * 136);
  });
});
