// Bounds on everything a caller hands the store, checked before any I/O, identically for both backends:
// keys and values may come from peers (payment-state ids, API keys), so none may grow without bound.
import { StoreInputError } from './errors.ts';
import { isPeriod, type Period } from './windows.ts';
import { MAX_LIST, type CounterIncrement, type GroupBy, type NewRecord, type RecordRange } from './stateStore.ts';

export const LIMITS = {
  /** namespace: what feature owns the rows */
  namespace: /^[a-z][a-z0-9_.-]{0,62}$/,
  keyBytes: 512,
  valueBytes: 64 * 1024,
  /** counters and gauges per call */
  increments: 8,
  amountNames: 8,
  amountName: /^[a-z][a-zA-Z0-9_]{0,31}$/,
  /** |amount| < 2^256: any wei amount, and it fits PostgreSQL's NUMERIC(78,0) */
  amountBound: 1n << 256n,
  tags: 16,
  tagName: /^[a-zA-Z][a-zA-Z0-9_.-]{0,63}$/,
  tagValueBytes: 256,
  gaugeLimit: 10_000,
  minTtlMs: 100,
  maxTtlMs: 24 * 3_600_000,
  /** dates the store keeps: 1970 … 9999 */
  maxTime: Date.UTC(9999, 11, 31),
};

/** Control characters (PostgreSQL text cannot hold NUL) or a lone surrogate (not encodable as UTF-8). */
function hasBadChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

function text(what: string, s: unknown, maxBytes: number, allowEmpty = false): string {
  if (typeof s !== 'string') throw new StoreInputError(`${what} must be a string`);
  if (!allowEmpty && s.length === 0) throw new StoreInputError(`${what} must not be empty`);
  const bytes = Buffer.byteLength(s, 'utf8');
  if (bytes > maxBytes) throw new StoreInputError(`${what} is ${bytes} bytes; at most ${maxBytes} are allowed`);
  if (hasBadChars(s)) throw new StoreInputError(`${what} holds a control character or invalid UTF-16; use printable text`);
  return s;
}

export function checkNamespace(ns: unknown): string {
  if (typeof ns !== 'string' || !LIMITS.namespace.test(ns)) {
    throw new StoreInputError(`namespace ${JSON.stringify(String(ns).slice(0, 80))} is invalid: use 1-63 of a-z 0-9 _ . - starting with a letter`);
  }
  return ns;
}

export function checkKey(key: unknown, what = 'key'): string {
  return text(what, key, LIMITS.keyBytes);
}

export function checkValue(value: unknown): string {
  return text('value', value, LIMITS.valueBytes, true);
}

export function checkVersion(v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new StoreInputError('expected version must be a whole number ≥ 0 (0 = absent)');
  return v;
}

export function checkDate(what: string, d: unknown): Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime()) || d.getTime() < 0 || d.getTime() > LIMITS.maxTime) {
    throw new StoreInputError(`${what} must be a valid date between 1970 and 9999`);
  }
  return d;
}

function amount(what: string, v: unknown, allowNegative: boolean): bigint {
  if (typeof v !== 'bigint') throw new StoreInputError(`${what} must be a bigint`);
  if (!allowNegative && v < 0n) throw new StoreInputError(`${what} must be ≥ 0`);
  if (v >= LIMITS.amountBound || -v >= LIMITS.amountBound) throw new StoreInputError(`${what} is out of range (|amount| < 2^256)`);
  return v;
}

export function checkIncrements(increments: readonly CounterIncrement[]): void {
  if (!Array.isArray(increments) || increments.length === 0 || increments.length > LIMITS.increments) {
    throw new StoreInputError(`give 1 to ${LIMITS.increments} counter increments`);
  }
  const seen = new Set<string>();
  for (const inc of increments) {
    checkNamespace(inc.ns);
    checkKey(inc.key, 'counter key');
    if (!isPeriod(inc.period)) throw new StoreInputError(`counter period ${JSON.stringify(String(inc.period).slice(0, 20))} is not minute, hour, day or month`);
    amount('counter amount', inc.amount, false);
    if (inc.limit !== undefined) amount('counter limit', inc.limit, false);
    const id = JSON.stringify([inc.ns, inc.key, inc.period]);
    if (seen.has(id)) throw new StoreInputError('the same counter appears twice in one add; add the amounts first');
    seen.add(id);
  }
}

export function checkGauge(ns: string, key: string, holder: string): void {
  checkNamespace(ns);
  checkKey(key, 'gauge key');
  checkKey(holder, 'gauge holder');
}

export function checkTtl(ttlMs: unknown): number {
  if (typeof ttlMs !== 'number' || !Number.isInteger(ttlMs) || ttlMs < LIMITS.minTtlMs || ttlMs > LIMITS.maxTtlMs) {
    throw new StoreInputError(`slot ttl must be a whole number of ms from ${LIMITS.minTtlMs} to ${LIMITS.maxTtlMs}`);
  }
  return ttlMs;
}

export function checkGaugeLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0 || limit > LIMITS.gaugeLimit) {
    throw new StoreInputError(`gauge limit must be a whole number from 0 to ${LIMITS.gaugeLimit}`);
  }
  return limit;
}

export function checkRecord(r: NewRecord): void {
  checkKey(r.subject, 'record subject');
  if (r.at !== undefined) checkDate('record time', r.at);
  if (typeof r.amounts !== 'object' || r.amounts === null) throw new StoreInputError('record amounts must be an object of bigints');
  const names = Object.keys(r.amounts);
  if (names.length > LIMITS.amountNames) throw new StoreInputError(`a record holds at most ${LIMITS.amountNames} amounts`);
  for (const n of names) {
    if (!LIMITS.amountName.test(n))
      throw new StoreInputError(`amount name ${JSON.stringify(n.slice(0, 40))} is invalid: use a-z A-Z 0-9 _ starting with a-z, ≤ 32`);
    amount(`amount ${n}`, r.amounts[n], true);
  }
  const tags = r.tags ?? {};
  if (typeof tags !== 'object' || tags === null) throw new StoreInputError('record tags must be an object of strings');
  const tagNames = Object.keys(tags);
  if (tagNames.length > LIMITS.tags) throw new StoreInputError(`a record holds at most ${LIMITS.tags} tags`);
  for (const n of tagNames) {
    checkTagName(n);
    text(`tag ${n}`, tags[n], LIMITS.tagValueBytes, true);
  }
}

export function checkTagName(n: unknown): string {
  if (typeof n !== 'string' || !LIMITS.tagName.test(n)) {
    throw new StoreInputError(`tag name ${JSON.stringify(String(n).slice(0, 40))} is invalid: use a-z A-Z 0-9 _ . - starting with a letter, ≤ 64`);
  }
  return n;
}

export function checkRange(r: RecordRange): void {
  checkNamespace(r.ns);
  checkDate('range start', r.from);
  checkDate('range end', r.to);
  if (r.subject !== undefined) checkKey(r.subject, 'record subject');
}

export function checkListLimit(limit: unknown): number {
  if (limit === undefined) return 1000;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIST) {
    throw new StoreInputError(`list limit must be a whole number from 1 to ${MAX_LIST}`);
  }
  return limit;
}

export function checkCursor(after: { at: Date; id: string } | undefined): void {
  if (after === undefined) return;
  checkDate('cursor time', after.at);
  if (typeof after.id !== 'string' || !/^\d{1,19}$/.test(after.id)) throw new StoreInputError('cursor id must be a record id');
}

export function checkGroupBy(g: GroupBy): void {
  if (g?.by === 'subject' || g?.by === 'day') return;
  if (g?.by === 'tag') {
    checkTagName(g.tag);
    return;
  }
  throw new StoreInputError('groupBy must be { by: "subject" }, { by: "day" } or { by: "tag", tag }');
}

/** A reservation's counters: the same checks as increments of `amount` in each period. */
export function checkReservation(ns: string, key: string, holder: string, amountValue: bigint, periods: readonly { period: Period; limit?: bigint }[]): void {
  checkKey(holder, 'reservation holder');
  if (periods.length === 0) return void checkIncrements([{ ns, key, period: 'day', amount: amountValue }]);
  checkIncrements(periods.map((p) => ({ ns, key, period: p.period, amount: amountValue, ...(p.limit !== undefined ? { limit: p.limit } : {}) })));
}
