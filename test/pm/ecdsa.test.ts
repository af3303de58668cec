import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { secp256k1 } from '@noble/curves/secp256k1';
import { bytesToHex } from '../../src/lib/bytes.ts';
import { ecdsa, nobleEcdsa } from '../../src/pm/ecdsa.ts';
import { privateKeySigner, recoverPersonalSigner, SignatureError } from '../../src/pm/signer.ts';

const KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

test('the native libsecp256k1 binding loads on this machine (else signing falls back to @noble/curves)', () => {
  assert.equal(ecdsa.name, 'libsecp256k1');
});

test('both backends give the same RFC 6979 low-s signatures and recover the same key', () => {
  const key = Buffer.from(KEY.slice(2), 'hex');
  const pub = secp256k1.getPublicKey(key, false);
  for (let i = 0; i < 50; i++) {
    const digest = randomBytes(32);
    const a = ecdsa.sign(digest, key);
    const b = nobleEcdsa.sign(digest, key);
    assert.deepEqual(Buffer.from(a.signature), Buffer.from(b.signature));
    assert.equal(a.recovery, b.recovery);
    assert.ok(secp256k1.Signature.fromCompact(a.signature).s <= secp256k1.CURVE.n >> 1n, 'low s');
    assert.deepEqual(Buffer.from(ecdsa.recover(a.signature, a.recovery, digest)), Buffer.from(pub));
    assert.deepEqual(Buffer.from(nobleEcdsa.recover(a.signature, a.recovery, digest)), Buffer.from(pub));
  }
});

test('personal signatures from either backend verify as the signer; hostile signatures are refused', () => {
  const native = privateKeySigner(KEY);
  const noble = privateKeySigner(KEY, nobleEcdsa);
  const hash = randomBytes(32);
  const sig = native.signHash(hash);
  assert.equal(sig, noble.signHash(hash));
  assert.equal(recoverPersonalSigner(hash, sig), native.address);

  const bytes = Buffer.from(sig.slice(2), 'hex');
  // high s (the malleable twin of a valid signature)
  const s = BigInt(`0x${bytes.subarray(32, 64).toString('hex')}`);
  const twin = Buffer.from(bytes);
  twin.set(Buffer.from((secp256k1.CURVE.n - s).toString(16).padStart(64, '0'), 'hex'), 32);
  twin[64] = twin[64] === 27 ? 28 : 27;
  assert.throws(() => recoverPersonalSigner(hash, twin), SignatureError);
  // r and s out of range, zero, wrong v, wrong length
  const overflow = Buffer.concat([Buffer.alloc(64, 0xff), Buffer.from([27])]);
  assert.throws(() => recoverPersonalSigner(hash, overflow));
  assert.throws(() => recoverPersonalSigner(hash, Buffer.concat([Buffer.alloc(64), Buffer.from([27])])));
  assert.throws(() => recoverPersonalSigner(hash, Buffer.concat([bytes.subarray(0, 64), Buffer.from([29])])), SignatureError);
  assert.throws(() => recoverPersonalSigner(hash, bytes.subarray(0, 64)), SignatureError);
  // a different hash recovers someone else
  assert.notEqual(recoverPersonalSigner(randomBytes(32), sig), native.address);
  assert.match(bytesToHex(bytes), /^0x[0-9a-f]{130}$/);
});
