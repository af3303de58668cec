// Protobuf-aware mutations of encoded messages, for the fuzz test and the hostile-replies bench. The
// mutator knows the wire format (keys, wire types, varints, length prefixes) but no schema: any
// length-delimited field that parses as a message is mutated recursively, so nested messages
// (TicketParams inside OrchestratorInfo, TranscodeData inside TranscodeResult) get the same treatment.

/** A small seeded PRNG (mulberry32): the same seed gives the same inputs, so a failure can be replayed. */
export class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  /** uniform in [0, 1) */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

export function encodeVarint(value: bigint): Uint8Array {
  // negative int64 values go on the wire as their 64-bit two's complement (ten bytes)
  let v = value < 0n ? BigInt.asUintN(64, value) : value;
  const out: number[] = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? b | 0x80 : b);
  } while (v > 0n);
  return Uint8Array.from(out);
}

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

const key = (field: number, wire: number): Uint8Array => encodeVarint((BigInt(field) << 3n) | BigInt(wire));

/** One top-level field of a message: its key bytes and, for length-delimited fields, the payload. */
interface Field {
  field: number;
  wire: number;
  /** the whole field as encoded */
  raw: Uint8Array;
  /** length-delimited payload */
  payload?: Uint8Array;
}

function readVarint(buf: Uint8Array, pos: number): [bigint, number] | undefined {
  let v = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) return undefined;
    const b = buf[pos++]!;
    v |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (b < 0x80) return [v, pos];
  }
  return undefined;
}

/** The fields of a well-formed message (no groups), or undefined when the bytes are not one. */
export function splitFields(buf: Uint8Array): Field[] | undefined {
  const fields: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const k = readVarint(buf, pos);
    if (!k) return undefined;
    pos = k[1];
    const field = Number(k[0] >> 3n);
    const wire = Number(k[0] & 7n);
    if (field === 0) return undefined;
    let payload: Uint8Array | undefined;
    if (wire === WIRE_VARINT) {
      const v = readVarint(buf, pos);
      if (!v) return undefined;
      pos = v[1];
    } else if (wire === WIRE_I64) pos += 8;
    else if (wire === WIRE_I32) pos += 4;
    else if (wire === WIRE_LEN) {
      const len = readVarint(buf, pos);
      if (!len || len[1] + Number(len[0]) > buf.length) return undefined;
      payload = buf.subarray(len[1], len[1] + Number(len[0]));
      pos = len[1] + Number(len[0]);
    } else return undefined;
    if (pos > buf.length) return undefined;
    fields.push({ field, wire, raw: buf.subarray(start, pos), ...(payload ? { payload } : {}) });
  }
  return fields;
}

const lenField = (field: number, payload: Uint8Array): Uint8Array => concat(key(field, WIRE_LEN), encodeVarint(BigInt(payload.length)), payload);

/** Numbers that break parsers: zero, signs, 2^31/2^32/2^53/2^63/2^64 edges. */
const NASTY_NUMBERS: readonly bigint[] = [
  0n,
  1n,
  -1n,
  -2n,
  2n ** 31n - 1n,
  2n ** 31n,
  2n ** 32n - 1n,
  2n ** 32n,
  2n ** 53n + 1n,
  2n ** 63n - 1n,
  -(2n ** 63n),
  2n ** 64n - 1n,
];

/** Strings that are not what they claim: empty, invalid UTF-8, lone surrogates, NULs, very long. */
function nastyString(rng: Rng): Uint8Array {
  switch (rng.int(7)) {
    case 0:
      return new Uint8Array(0);
    case 1:
      return Uint8Array.from([0xff, 0xfe, 0xfd]);
    case 2:
      return Uint8Array.from([0xed, 0xa0, 0x80]); // a UTF-16 surrogate, encoded as UTF-8
    case 3:
      return Uint8Array.from([0xc0, 0xaf, 0x2e, 0x2e]); // an overlong '/'
    case 4:
      return new TextEncoder().encode(`https://127.0.0.1:1/\u0000${'%'.repeat(rng.int(50))}`);
    case 5:
      return new TextEncoder().encode('x'.repeat(1 + rng.int(20_000)));
    default:
      return rng.bytes(1 + rng.int(40));
  }
}

type Mutation = (buf: Uint8Array, rng: Rng, depth: number) => Uint8Array;

const spliceOut = (buf: Uint8Array, at: number, remove: number, insert: Uint8Array = new Uint8Array(0)): Uint8Array =>
  concat(buf.subarray(0, at), insert, buf.subarray(Math.min(buf.length, at + remove)));

/** Applies `fn` to one random field; a buffer that is no longer a message gets a byte-level mutation instead. */
function onField(buf: Uint8Array, rng: Rng, fn: (f: Field, fields: Field[]) => Uint8Array[] | undefined): Uint8Array {
  const fields = splitFields(buf);
  if (!fields || fields.length === 0) return byteMutations[rng.int(byteMutations.length)]!(buf, rng, 0);
  const i = rng.int(fields.length);
  const replacement = fn(fields[i]!, fields);
  if (!replacement) return buf;
  return concat(...fields.slice(0, i).map((f) => f.raw), ...replacement, ...fields.slice(i + 1).map((f) => f.raw));
}

const byteMutations: Mutation[] = [
  // flip a bit
  (buf, rng) => {
    if (buf.length === 0) return buf;
    const out = Uint8Array.from(buf);
    out[rng.int(out.length)]! ^= 1 << rng.int(8);
    return out;
  },
  // insert random bytes
  (buf, rng) => spliceOut(buf, rng.int(buf.length + 1), 0, rng.bytes(1 + rng.int(8))),
  // delete a range
  (buf, rng) => spliceOut(buf, rng.int(buf.length + 1), 1 + rng.int(16)),
  // truncate
  (buf, rng) => buf.subarray(0, rng.int(buf.length + 1)),
  // overwrite with 0x80 runs (endless continuation bits) or 0xff
  (buf, rng) => spliceOut(buf, rng.int(buf.length + 1), rng.int(4), new Uint8Array(1 + rng.int(12)).fill(rng.pick([0x80, 0xff]))),
];

const fieldMutations: Mutation[] = [
  // duplicate a field (repeated and merged singular fields)
  (buf, rng) => onField(buf, rng, (f) => Array.from({ length: 2 + rng.int(3) }, () => f.raw)),
  // delete a field
  (buf, rng) => onField(buf, rng, () => []),
  // wrong wire type, payload kept (including the group types 3 and 4, and the invalid 6 and 7)
  (buf, rng) => onField(buf, rng, (f) => [key(f.field, (f.wire + 1 + rng.int(7)) % 8), f.raw.subarray(key(f.field, f.wire).length)]),
  // a length prefix far past the end
  (buf, rng) =>
    onField(buf, rng, (f) =>
      f.payload
        ? [key(f.field, WIRE_LEN), encodeVarint(rng.pick([2n ** 31n, 2n ** 32n - 1n, 2n ** 53n, 2n ** 64n - 1n, BigInt(f.payload.length + 1)])), f.payload]
        : undefined,
    ),
  // a varint that overflows 64 bits, or never ends
  (buf, rng) =>
    onField(buf, rng, (f) => [
      key(f.field, WIRE_VARINT),
      rng.int(2) ? Uint8Array.from([...new Array(10 + rng.int(6)).fill(0xff), 0x01]) : new Uint8Array(11).fill(0x80),
    ]),
  // negative or huge numbers in place of the value
  (buf, rng) => onField(buf, rng, (f) => [key(f.field, WIRE_VARINT), encodeVarint(rng.pick(NASTY_NUMBERS))]),
  // empty, non-UTF-8 or very long payload
  (buf, rng) => onField(buf, rng, (f) => [lenField(f.field, nastyString(rng))]),
  // unknown fields: high numbers, every wire type, groups that never close
  (buf, rng) => {
    const field = rng.pick([15, 99, 1000, 2 ** 29 - 1]);
    const extra = rng.pick([
      concat(key(field, WIRE_VARINT), encodeVarint(rng.pick(NASTY_NUMBERS))),
      lenField(field, rng.bytes(rng.int(64))),
      concat(key(field, WIRE_I64), rng.bytes(8)),
      concat(key(field, WIRE_I32), rng.bytes(4)),
      concat(key(field, 3), key(1, WIRE_VARINT), Uint8Array.of(1), key(field, 4)), // a well-formed group
      concat(key(field, 3), key(1, WIRE_VARINT), Uint8Array.of(1)), // a group left open
      key(0, WIRE_VARINT), // field number 0
    ]);
    return spliceOut(buf, rng.pick([0, buf.length]), 0, extra);
  },
  // garbage inside a nested message (its own mutations, length prefix fixed up)
  (buf, rng, depth) =>
    onField(buf, rng, (f) => {
      if (!f.payload) return undefined;
      const inner = depth < 3 && splitFields(f.payload) ? mutateOnce(f.payload, rng, depth + 1) : rng.bytes(rng.int(48));
      return [lenField(f.field, inner)];
    }),
];

// An enormous repeated field: thousands of copies (a reply listing 100,000 renditions), at most 2 MB.
// Rare: one in 50 mutations, as each costs the fuzzer milliseconds.
const enormous: Mutation = (buf, rng) =>
  onField(buf, rng, (f) => {
    const copies = Math.min(1000 + rng.int(rng.int(10) === 0 ? 100_000 : 5000), Math.floor(2_000_000 / f.raw.length));
    const out = new Uint8Array(copies * f.raw.length);
    for (let i = 0; i < copies; i++) out.set(f.raw, i * f.raw.length);
    return [out];
  });

function mutateOnce(buf: Uint8Array, rng: Rng, depth: number): Uint8Array {
  if (rng.int(50) === 0) return enormous(buf, rng, depth);
  const pool = rng.int(4) === 0 ? byteMutations : fieldMutations;
  return pool[rng.int(pool.length)]!(buf, rng, depth);
}

/** One to four mutations of a valid encoded message. */
export function mutate(buf: Uint8Array, rng: Rng): Uint8Array {
  let out = buf;
  const n = 1 + rng.int(4);
  // once a message is enormous, further mutations would only cost the fuzzer time
  for (let i = 0; i < n && out.length < 65_536; i++) out = mutateOnce(out, rng, 0);
  return out;
}
