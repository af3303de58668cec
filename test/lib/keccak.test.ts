import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it, test } from 'node:test';
import { keccak_256 } from '@noble/hashes/sha3';
import { Keccak256Stream, keccak256 } from '../../src/lib/keccak.ts';

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
