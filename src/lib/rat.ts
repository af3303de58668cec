// Exact rational arithmetic on bigint, the way go-livepeer uses big.Rat for prices, EV and credit.

export interface Rat {
  readonly num: bigint;
  readonly den: bigint;
}

/** The exponent of the largest power of two dividing x (x > 0). */
function twos(x: bigint): bigint {
  let n = 0n;
  while ((x & 0xffffffffn) === 0n) {
    x >>= 32n;
    n += 32n;
  }
  const low = Number(x & 0xffffffffn);
  return n + BigInt(31 - Math.clz32(low & -low));
}

/**
 * gcd(a, b) = 2^min(twos) × gcd of the odd parts. The powers of two go first because a ticket's EV has
 * 2^256 below the line: Euclid's steps on such numbers were most of a payment's arithmetic, and without
 * their twos the usual denominators (a price's, the 51/50 padding) are a few bits and end it in a step or two.
 */
function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  if (a === 0n) return b;
  if (b === 0n) return a;
  const ta = twos(a);
  const tb = twos(b);
  a >>= ta;
  b >>= tb;
  while (b !== 0n) [a, b] = [b, a % b];
  return a << (ta < tb ? ta : tb);
}

export function rat(num: bigint, den = 1n): Rat {
  if (den === 0n) throw new RangeError('rational with zero denominator');
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const g = gcd(num, den) || 1n;
  return { num: num / g, den: den / g };
}

export const ZERO: Rat = rat(0n);

export const add = (a: Rat, b: Rat): Rat => rat(a.num * b.den + b.num * a.den, a.den * b.den);
export const sub = (a: Rat, b: Rat): Rat => rat(a.num * b.den - b.num * a.den, a.den * b.den);
export const mul = (a: Rat, b: Rat): Rat => rat(a.num * b.num, a.den * b.den);
export const div = (a: Rat, b: Rat): Rat => rat(a.num * b.den, a.den * b.num);
export const cmp = (a: Rat, b: Rat): -1 | 0 | 1 => {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
};
export const isZero = (a: Rat): boolean => a.num === 0n;

/** Smallest integer ≥ a. */
export function ceil(a: Rat): bigint {
  const q = a.num / a.den;
  return a.num % a.den === 0n || a.num < 0n ? q : q + 1n;
}

/** Largest integer ≤ a. */
export function floor(a: Rat): bigint {
  const q = a.num / a.den;
  return a.num % a.den === 0n || a.num >= 0n ? q : q - 1n;
}

/** The exact value of an IEEE-754 double, like Go's big.Rat.SetFloat64. */
export function ratFromFloat64(x: number): Rat {
  if (!Number.isFinite(x)) throw new RangeError(`not a finite number: ${x}`);
  if (x === 0) return ZERO;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const sign = bits >> 63n ? -1n : 1n;
  const exp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const mantissa = exp === 0 ? frac : frac | (1n << 52n);
  const e = (exp === 0 ? 1 : exp) - 1075;
  return e >= 0 ? rat(sign * mantissa * (1n << BigInt(e))) : rat(sign * mantissa, 1n << BigInt(-e));
}

/** Go's big.Rat.String(): "num/den". */
export const ratString = (a: Rat): string => `${a.num}/${a.den}`;

/** Decimal text with `digits` places, rounded down; for logs and operator messages only. */
export function ratToDecimal(a: Rat, digits = 6): string {
  const scale = 10n ** BigInt(digits);
  const scaled = floor(mul(a, rat(scale)));
  const neg = scaled < 0n;
  const abs = neg ? -scaled : scaled;
  const int = abs / scale;
  const frac = (abs % scale).toString().padStart(digits, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}
