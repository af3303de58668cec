// How much work decoding a message would be, counted on its framing before protobufjs builds objects.
// Decoding costs per element, not per byte: a 1 MiB OrchestratorInfo of 150,000 tiny
// capabilities_prices entries takes a second of CPU and 75 MiB; at the 16 MiB a peer may send, 13 s and
// 740 MiB. Walking the framing costs a few milliseconds per MiB and allocates nothing, so a message with
// more elements than any real one is refused before it is decoded.
//
// The walk must see what protobufjs will see. protobufjs reads a known field by its schema type whatever
// wire type the key says, and truncates lengths to 32 bits, so framing that disagrees with the schema
// would let a peer hide a packed array of a million values from the count. Such framing is never sent by
// a protobuf encoder; it is refused (fail closed) rather than interpreted.
import protobuf from 'protobufjs';

/** Far above any real message (a few hundred fields), far below what would stall the event loop. */
export const MAX_DECODED_ELEMENTS = 20_000;

/** Nesting of messages and groups; real messages nest five deep. protobuf's own parsers stop at 100. */
export const MAX_NESTING = 100;

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_I32 = 5;

class OverBudget extends Error {}
class Unreadable extends Error {}

/** Reads a varint at `pos`; values of 2^32 and above are refused (protobufjs would truncate lengths and tags). */
function varint32(buf: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 5; i++) {
    if (pos >= buf.length) throw new Unreadable();
    const b = buf[pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) {
      if (value >= 2 ** 32) throw new Unreadable();
      return [value, pos];
    }
    scale *= 128;
  }
  throw new Unreadable();
}

/** Skips a varint value (up to 10 bytes, as protobufjs reads them). */
function skipVarint(buf: Uint8Array, pos: number): number {
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new Unreadable();
    if (buf[pos++]! < 0x80) return pos;
  }
  throw new Unreadable();
}

interface Shape {
  /** wire types protobufjs reads this field as */
  wires: readonly number[];
  message?: protobuf.Type;
  /** a map field: entries are walked; field 2 of an entry is this message, when the values are messages */
  map?: { value?: protobuf.Type };
  /** repeated scalars, packed into one length-delimited field */
  packed?: boolean;
}

const shapes = new WeakMap<protobuf.Field, Shape>();

function shapeOf(field: protobuf.Field): Shape {
  let s = shapes.get(field);
  if (s) return s;
  const message = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
  const basic = (protobuf.types.basic as Record<string, number | undefined>)[field.type];
  const scalarWire = field.resolvedType instanceof protobuf.Enum ? WIRE_VARINT : basic;
  if (field instanceof protobuf.MapField) s = { wires: [WIRE_LEN], map: message ? { value: message } : {} };
  else if (message) s = { wires: [WIRE_LEN], message };
  else if (field.repeated && scalarWire !== WIRE_LEN && scalarWire !== undefined) s = { wires: [WIRE_LEN, scalarWire], packed: true };
  else s = { wires: [scalarWire ?? WIRE_LEN] };
  shapes.set(field, s);
  return s;
}

/**
 * Counts the elements decoding would create (every field occurrence, every nested message's fields,
 * every packed value, unknown groups included) and throws OverBudget past the budget. `type`
 * undefined: content protobufjs skips; `mapValue`: a map entry, whose field 2 is that message.
 */
function walk(
  buf: Uint8Array,
  from: number,
  to: number,
  type: protobuf.Type | undefined,
  budget: { left: number },
  entry?: { value?: protobuf.Type },
  inGroup = false,
  depth = 0,
): number {
  if (depth > MAX_NESTING) throw new Unreadable();
  let pos = from;
  while (pos < to) {
    const [tag, next] = varint32(buf, pos);
    pos = next;
    const id = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === WIRE_END_GROUP) {
      if (inGroup) return pos;
      throw new Unreadable();
    }
    if (--budget.left < 0) throw new OverBudget();
    const field = type?.fieldsById[id];
    const shape = field ? shapeOf(field) : entry?.value && id === 2 ? { wires: [WIRE_LEN], message: entry.value } : undefined;
    if (shape && !shape.wires.includes(wire)) throw new Unreadable();
    switch (wire) {
      case WIRE_VARINT:
        pos = skipVarint(buf, pos);
        break;
      case WIRE_I64:
        pos += 8;
        break;
      case WIRE_I32:
        pos += 4;
        break;
      case WIRE_START_GROUP:
        pos = walk(buf, pos, to, undefined, budget, undefined, true, depth + 1);
        break;
      case WIRE_LEN: {
        const [len, start] = varint32(buf, pos);
        const end = start + len;
        if (end > to) throw new Unreadable();
        if (shape?.message) walk(buf, start, end, shape.message, budget, undefined, false, depth + 1);
        else if (shape?.map) walk(buf, start, end, undefined, budget, shape.map, false, depth + 1);
        else if (shape?.packed) {
          // every packed value takes at least one byte
          budget.left -= len;
          if (budget.left < 0) throw new OverBudget();
        }
        pos = end;
        break;
      }
      default:
        throw new Unreadable();
    }
  }
  if (pos > to || inGroup) throw new Unreadable();
  return pos;
}

export type FramingVerdict = 'ok' | 'over-budget' | 'unreadable';

/**
 * Would decoding `bytes` as `type` stay within `limit` elements, and does the framing agree with the
 * schema? Checked before protobufjs decodes anything from a peer.
 */
export function checkFraming(type: protobuf.Type, bytes: Uint8Array, limit = MAX_DECODED_ELEMENTS): FramingVerdict {
  try {
    walk(bytes, 0, bytes.length, type, { left: limit });
    return 'ok';
  } catch (err) {
    if (err instanceof OverBudget) return 'over-budget';
    if (err instanceof Unreadable) return 'unreadable';
    throw err;
  }
}
