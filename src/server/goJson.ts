// JSON exactly as Go's encoding/json writes it for the control API: big integers as bare numbers
// ({"Deposit":1000000000000000000}), rationals (lib/rat.ts Rat) as "num/den" strings like *big.Rat,
// byte arrays as base64, map keys sorted, and <, >, & escaped as \u003c, \u003e, \u0026.

/** A value that should be written as Go writes *big.Rat. */
function isRat(v: object): v is { num: bigint; den: bigint } {
  const keys = Object.keys(v);
  return keys.length === 2 && typeof (v as { num?: unknown }).num === 'bigint' && typeof (v as { den?: unknown }).den === 'bigint';
}

function goString(s: string): string {
  return JSON.stringify(s)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function write(v: unknown, seen: Set<object>): string | undefined {
  switch (typeof v) {
    case 'bigint':
      return v.toString();
    case 'number':
      // Go refuses NaN/Inf; null keeps the document valid.
      return Number.isFinite(v) ? JSON.stringify(v) : 'null';
    case 'string':
      return goString(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (v === null) return 'null';
  const obj = v as object;
  if (seen.has(obj)) throw new TypeError('goJson: cyclic value');
  seen.add(obj);
  try {
    if (typeof (obj as { toJSON?: unknown }).toJSON === 'function' && !(obj instanceof Map)) {
      return write((obj as { toJSON(): unknown }).toJSON(), seen);
    }
    if (obj instanceof Uint8Array) return `"${Buffer.from(obj).toString('base64')}"`;
    if (Array.isArray(obj)) return `[${obj.map((x) => write(x, seen) ?? 'null').join(',')}]`;
    if (isRat(obj)) return goString(`${obj.num}/${obj.den}`);
    const entries: [string, unknown][] =
      obj instanceof Map
        ? [...obj.entries()].map(([k, x]) => [String(k), x] as [string, unknown]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        : Object.entries(obj);
    const parts: string[] = [];
    for (const [k, x] of entries) {
      const s = write(x, seen);
      if (s !== undefined) parts.push(`${goString(k)}:${s}`);
    }
    return `{${parts.join(',')}}`;
  } finally {
    seen.delete(obj);
  }
}

/** Serializes like Go's json.Marshal (see the file comment). Undefined fields are left out. */
export function goJson(value: unknown): string {
  return write(value, new Set()) ?? 'null';
}
