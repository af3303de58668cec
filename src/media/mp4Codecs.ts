// The RFC 6381 codec string of an MP4 segment (an `.mp4` HTTP push: plain or fragmented with its init),
// read from the first sample entry of each track in moov: avc1/avc3 → avcC, hvc1/hev1 → hvcC, mp4a → esds
// (also inside QuickTime's `wave`), ac-3/ec-3/Opus/.mp3 by name. Walks box headers only, never sample data;
// every length is checked against its parent, so hostile bytes give undefined, not an exception or a loop.
import { avcCodecString, HEVC_PTL_BYTES, hevcCodecString, mp4aCodecString } from './codecStrings.ts';

/** Boxes looked at in one container before giving up (a real moov has a handful per level). */
const MAX_BOXES = 256;
/** Tracks read at most. */
const MAX_TRACKS = 16;

interface Box {
  type: string;
  /** the box's payload (after its header) */
  body: Uint8Array;
}

/** The boxes laid end to end in `data`; stops at the first header that does not fit. */
function boxes(data: Uint8Array): Box[] {
  const out: Box[] = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let off = 0;
  while (off + 8 <= data.length && out.length < MAX_BOXES) {
    let size = view.getUint32(off);
    let header = 8;
    if (size === 1) {
      if (off + 16 > data.length) break;
      const big = view.getBigUint64(off + 8);
      if (big > BigInt(data.length - off)) break;
      size = Number(big);
      header = 16;
    } else if (size === 0) size = data.length - off;
    if (size < header || off + size > data.length) break;
    const type = String.fromCharCode(data[off + 4]!, data[off + 5]!, data[off + 6]!, data[off + 7]!);
    out.push({ type, body: data.subarray(off + header, off + size) });
    off += size;
  }
  return out;
}

const child = (data: Uint8Array, type: string): Uint8Array | undefined => boxes(data).find((b) => b.type === type)?.body;

/** Follows a path of box types down from `data`. */
function path(data: Uint8Array, ...types: string[]): Uint8Array | undefined {
  let cur: Uint8Array | undefined = data;
  for (const t of types) {
    if (!cur) return undefined;
    cur = child(cur, t);
  }
  return cur;
}

/** Bytes of a visual sample entry before its child boxes (ISO 14496-12 VisualSampleEntry). */
const VISUAL_ENTRY_FIELDS = 78;
/** Bytes of an audio sample entry before its child boxes, by QuickTime sound description version. */
const AUDIO_ENTRY_FIELDS: Record<number, number> = { 0: 28, 1: 44, 2: 64 };

/** An expandable descriptor length (ISO 14496-1: 7 bits a byte, at most 4 bytes). */
function descriptor(data: Uint8Array, off: number): { tag: number; start: number; end: number } | undefined {
  if (off >= data.length) return undefined;
  const tag = data[off]!;
  let len = 0;
  let p = off + 1;
  for (let i = 0; i < 4; i++) {
    const b = data[p++];
    if (b === undefined) return undefined;
    len = (len << 7) | (b & 0x7f);
    if ((b & 0x80) === 0) break;
  }
  if (p + len > data.length) return undefined;
  return { tag, start: p, end: p + len };
}

/** `mp4a.…` from an esds payload (after its version and flags). */
function esdsCodec(esds: Uint8Array): string | undefined {
  const es = descriptor(esds, 4);
  if (es?.tag !== 0x03 || es.start + 3 > es.end) return undefined;
  const flags = esds[es.start + 2]!;
  let p = es.start + 3;
  if (flags & 0x80) p += 2;
  if (flags & 0x40) p += 1 + (esds[p] ?? 0);
  if (flags & 0x20) p += 2;
  const dc = descriptor(esds, p);
  if (dc?.tag !== 0x04 || dc.start + 13 > dc.end) return undefined;
  const oti = esds[dc.start]!;
  const dsi = descriptor(esds, dc.start + 13);
  if (dsi?.tag !== 0x05 || dsi.end <= dsi.start) return mp4aCodecString(oti);
  let aot = esds[dsi.start]! >> 3;
  if (aot === 31) {
    if (dsi.start + 1 >= dsi.end) return mp4aCodecString(oti);
    aot = 32 + (((esds[dsi.start]! & 0x07) << 3) | (esds[dsi.start + 1]! >> 5));
  }
  return mp4aCodecString(oti, aot);
}

type Track = { kind: 'video' | 'audio'; codec: string };

/** The codec of a sample entry, or undefined for one we cannot name. */
function sampleEntryCodec(entry: Box): Track | undefined {
  const { type, body } = entry;
  if (type === 'avc1' || type === 'avc3' || type === 'hvc1' || type === 'hev1') {
    const kids = body.subarray(VISUAL_ENTRY_FIELDS);
    if (type === 'avc1' || type === 'avc3') {
      const avcC = child(kids, 'avcC');
      if (!avcC || avcC.length < 4) return undefined;
      return { kind: 'video', codec: avcCodecString(avcC[1]!, avcC[2]!, avcC[3]!, type) };
    }
    const hvcC = child(kids, 'hvcC');
    const codec = hvcC && hevcCodecString(hvcC.subarray(1, 1 + HEVC_PTL_BYTES), type);
    return codec ? { kind: 'video', codec } : undefined;
  }
  if (type === 'ac-3' || type === 'ec-3') return { kind: 'audio', codec: type };
  if (type === 'Opus') return { kind: 'audio', codec: 'opus' };
  if (type === '.mp3') return { kind: 'audio', codec: mp4aCodecString(0x6b)! };
  if (type === 'mp4a') {
    if (body.length < 10) return undefined;
    const version = (body[8]! << 8) | body[9]!;
    const fields = AUDIO_ENTRY_FIELDS[version];
    if (fields === undefined) return undefined;
    const kids = body.subarray(fields);
    const esds = child(kids, 'esds') ?? path(kids, 'wave', 'esds');
    const codec = esds && esdsCodec(esds);
    return codec ? { kind: 'audio', codec } : undefined;
  }
  return undefined;
}

/** The codecs of an MP4 segment, video first, comma-separated; undefined when the video codec is unknown. */
export function mp4Codecs(data: Uint8Array): string | undefined {
  const moov = child(data, 'moov');
  if (!moov) return undefined;
  let video: string | undefined;
  const audio: string[] = [];
  for (const trak of boxes(moov)
    .filter((b) => b.type === 'trak')
    .slice(0, MAX_TRACKS)) {
    const stsd = path(trak.body, 'mdia', 'minf', 'stbl', 'stsd');
    // a full box (version, flags) and an entry count before the entries
    if (!stsd || stsd.length < 8) continue;
    const entry = boxes(stsd.subarray(8))[0];
    const track = entry && sampleEntryCodec(entry);
    if (track?.kind === 'video') video ??= track.codec;
    else if (track?.kind === 'audio') audio.push(track.codec);
  }
  if (!video) return undefined;
  return [video, ...new Set(audio)].join(',');
}
