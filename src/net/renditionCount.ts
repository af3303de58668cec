// Counting the renditions a TranscodeResult lists without decoding it. A 16 MB reply can list a million
// URLs; decoding them all into objects costs seconds of the event loop and hundreds of MB. Walking the
// protobuf framing costs neither: TranscodeResult.data (field 3) holds TranscodeData, whose field 1 is
// repeated TranscodedSegmentData. Repeated `data` fields merge, so every occurrence counts.

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/** Reads a varint at `pos`: [value, next position], or undefined past the end or beyond 2^53. */
function varint(buf: Uint8Array, pos: number): [number, number] | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 8; i++) {
    if (pos >= buf.length) return undefined;
    const b = buf[pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, pos];
    scale *= 128;
  }
  // longer varints only appear as huge int64 values: skip them
  while (pos < buf.length && buf[pos]! >= 0x80) pos++;
  return pos < buf.length ? [value, pos + 1] : undefined;
}

/** Calls `onField(field, start, end)` for each length-delimited field; false when the framing is broken. */
function walk(buf: Uint8Array, from: number, to: number, onField: (field: number, start: number, end: number) => void): boolean {
  let pos = from;
  while (pos < to) {
    const key = varint(buf, pos);
    if (!key) return false;
    const [tag, next] = key;
    pos = next;
    const field = Math.floor(tag / 8);
    switch (tag & 7) {
      case WIRE_VARINT: {
        const v = varint(buf, pos);
        if (!v) return false;
        pos = v[1];
        break;
      }
      case WIRE_I64:
        pos += 8;
        break;
      case WIRE_I32:
        pos += 4;
        break;
      case WIRE_LEN: {
        const len = varint(buf, pos);
        if (!len) return false;
        const start = len[1];
        const end = start + len[0];
        if (end > to) return false;
        onField(field, start, end);
        pos = end;
        break;
      }
      default:
        return false;
    }
  }
  return pos === to;
}

/** The renditions a TranscodeResult body lists, or undefined when its framing is broken (let the decoder say why). */
export function countListedRenditions(body: Uint8Array): number | undefined {
  let count = 0;
  let ok = true;
  const top = walk(body, 0, body.length, (field, start, end) => {
    if (field !== 3) return;
    ok &&= walk(body, start, end, (inner) => {
      if (inner === 1) count++;
    });
  });
  return top && ok ? count : undefined;
}
