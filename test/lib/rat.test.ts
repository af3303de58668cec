import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { add, div, mul, rat, sub } from '../../src/lib/rat.ts';

/** Euclid's gcd on absolute values, the plain way, to hold the quick one to. */
function plainGcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function plainRat(num: bigint, den: bigint): { num: bigint; den: bigint } {
  if (den < 0n) [num, den] = [-num, -den];
  const g = plainGcd(num, den) || 1n;
  return { num: num / g, den: den / g };
}

/** A deterministic stream of bigints: small, huge, powers of two and their multiples, negatives. */
function* numbers(): Generator<bigint> {
  let x = 0x9e3779b97f4a7c15n;
  for (let i = 0; i < 400; i++) {
    x = (x * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
    const bits = BigInt(i % 320);
    const v = [x, x << bits, 1n << bits, (x | 1n) << (bits / 2n), x % 1000n, (x << 256n) / 100n][i % 6]!;
    yield i % 7 === 3 ? -v : v;
  }
}

describe('rationals', () => {
  it('are kept in lowest terms, denominator positive, as plain Euclid would', () => {
    const xs = [...numbers()];
    for (const [i, num] of xs.entries()) {
      const den = xs[(i * 7 + 3) % xs.length]!;
      if (den === 0n) continue;
      assert.deepEqual(rat(num, den), plainRat(num, den), `${num}/${den}`);
    }
  });

  it('fixed cases: powers of two, zero, signs', () => {
    assert.deepEqual(rat(1n << 256n, 1n << 300n), { num: 1n, den: 1n << 44n });
    assert.deepEqual(rat(3n << 200n, 9n << 256n), { num: 1n, den: 3n << 56n });
    assert.deepEqual(rat(0n, 5n), { num: 0n, den: 1n });
    assert.deepEqual(rat(-6n, 4n), { num: -3n, den: 2n });
    assert.deepEqual(rat(6n, -4n), { num: -3n, den: 2n });
    assert.deepEqual(rat(7n), { num: 7n, den: 1n });
    assert.throws(() => rat(1n, 0n), RangeError);
  });

  it("a ticket's EV and a padded fee add up as go-livepeer's big.Rat does", () => {
    // EV = faceValue × winProb / 2^256; fee = pixels × 51/50 × price
    const ev = rat(10n ** 15n * ((1n << 256n) / 100_000n), 1n << 256n);
    const fee = mul(mul(rat(20_044_800n), rat(51n, 50n)), rat(1200n, 7n));
    const credit = sub(add(ev, ev), fee);
    assert.deepEqual(credit, plainRat(credit.num, credit.den));
    assert.deepEqual(div(credit, ev), plainRat(credit.num * ev.den, credit.den * ev.num));
  });
});
