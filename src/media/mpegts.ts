// MPEG-TS demuxing just far enough to reach the video elementary stream: PAT → PMT → the first video
// PID, and the payload bytes of its PES packets. Used to count frames without a decoder, so it checks
// what it reads: a malformed or foreign input is an error, never a guess.
import { GrowableBytes } from '../lib/growableBytes.ts';

export class MpegTsError extends Error {
  override name = 'MpegTsError';
}

const PACKET = 188;
const SYNC = 0x47;

/** stream_type values of the PMT. */
export const STREAM_TYPE = { h264: 0x1b, hevc: 0x24 } as const;

export interface VideoElementaryStream {
  streamType: number;
  /** The concatenated payloads of the video PES packets (headers removed), in order. */
  data: Uint8Array;
  pesPackets: number;
  /** presentation timestamps (90 kHz) of the PES packets that carry one, in stream order */
  pts: number[];
}

/** The 33-bit PTS of the PES header at `at`, or undefined when the header carries none. */
function pesPts(ts: Uint8Array, at: number, end: number): number | undefined {
  if ((ts[at + 7]! & 0x80) === 0 || end - at < 14) return undefined;
  return ((ts[at + 9]! >> 1) & 0x07) * 2 ** 30 + ((ts[at + 10]! << 7) | (ts[at + 11]! >> 1)) * 2 ** 15 + ((ts[at + 12]! << 7) | (ts[at + 13]! >> 1));
}

/** Where the payload of the packet at `off` starts, or -1 when it has none. */
function payloadStart(ts: Uint8Array, off: number): number {
  const afc = (ts[off + 3]! >> 4) & 3;
  if (afc === 0 || afc === 2) return -1; // no payload
  if (afc === 1) return off + 4;
  const start = off + 5 + ts[off + 4]!;
  if (start > off + PACKET) throw new MpegTsError('adaptation field runs past the packet');
  return start;
}

/** The section of a PSI payload (after the pointer field), without its CRC. */
function section(ts: Uint8Array, payload: number, packetEnd: number): Uint8Array {
  const s = ts.subarray(payload + 1 + ts[payload]!, packetEnd);
  if (s.length < 3) throw new MpegTsError('PSI section cut short');
  const len = ((s[1]! & 0x0f) << 8) | s[2]!;
  if (3 + len > s.length) throw new MpegTsError('PSI section spans packets (not supported)');
  return s.subarray(0, 3 + len - 4);
}

/**
 * The video elementary stream of the first program of an MPEG-TS segment. Runs on every source segment and
 * rendition, so it works with offsets into the one array (no view per packet), copies the segment once and
 * moves the payloads into place: in `scratch` when given (then `data` is valid until the scratch's next
 * use), else in a new buffer the size of the segment.
 */
export function videoElementaryStream(ts: Uint8Array, scratch?: GrowableBytes): VideoElementaryStream {
  if (ts.length === 0 || ts.length % PACKET !== 0) throw new MpegTsError(`not MPEG-TS: ${ts.length} bytes is not a whole number of 188-byte packets`);
  let pmtPid = -1;
  let videoPid = -1;
  let streamType = 0;
  // [start, end) of each payload piece of the video PES packets, in order
  const pieces = new Int32Array((ts.length / PACKET) * 2);
  let nPieces = 0;
  let size = 0;
  let pesPackets = 0;
  const pts: number[] = [];
  let inPes = false;
  for (let off = 0; off < ts.length; off += PACKET) {
    if (ts[off] !== SYNC) throw new MpegTsError(`lost sync at byte ${off}`);
    const b1 = ts[off + 1]!;
    const pusi = (b1 & 0x40) !== 0;
    const pid = ((b1 & 0x1f) << 8) | ts[off + 2]!;
    const end = off + PACKET;
    if (pid === videoPid) {
      const payload = payloadStart(ts, off);
      if (payload < 0) continue;
      let from = payload;
      if (pusi) {
        if (end - payload < 9 || ts[payload] !== 0 || ts[payload + 1] !== 0 || ts[payload + 2] !== 1)
          throw new MpegTsError('video PES packet without a start code');
        from = payload + 9 + ts[payload + 8]!;
        if (from > end) throw new MpegTsError('PES header runs past the packet');
        pesPackets++;
        const t = pesPts(ts, payload, end);
        if (t !== undefined) pts.push(t);
        inPes = true;
      } else if (!inPes) {
        continue;
      }
      pieces[nPieces * 2] = from;
      pieces[nPieces * 2 + 1] = end;
      nPieces++;
      size += end - from;
    } else if (pid === 0 && pusi && pmtPid < 0) {
      const payload = payloadStart(ts, off);
      if (payload < 0) continue;
      const s = section(ts, payload, end);
      if (s[0] !== 0x00) throw new MpegTsError('PID 0 is not a PAT');
      for (let i = 8; i + 4 <= s.length; i += 4) {
        const program = (s[i]! << 8) | s[i + 1]!;
        if (program !== 0) {
          pmtPid = ((s[i + 2]! & 0x1f) << 8) | s[i + 3]!;
          break;
        }
      }
    } else if (pid === pmtPid && pusi && videoPid < 0) {
      const payload = payloadStart(ts, off);
      if (payload < 0) continue;
      const s = section(ts, payload, end);
      if (s[0] !== 0x02) throw new MpegTsError('PMT PID does not carry a PMT');
      const infoLen = ((s[10]! & 0x0f) << 8) | s[11]!;
      for (let i = 12 + infoLen; i + 5 <= s.length; ) {
        const type = s[i]!;
        const esPid = ((s[i + 1]! & 0x1f) << 8) | s[i + 2]!;
        const esInfo = ((s[i + 3]! & 0x0f) << 8) | s[i + 4]!;
        if (type === STREAM_TYPE.h264 || type === STREAM_TYPE.hevc || type === 0x01 || type === 0x02 || type === 0x10) {
          videoPid = esPid;
          streamType = type;
          break;
        }
        i += 5 + esInfo;
      }
    }
  }
  if (videoPid < 0) throw new MpegTsError('no video stream in the program');
  // The segment goes in with one copy, then each piece moves forward to its place: copyWithin makes no
  // object, where a view per piece to copy from would be ~90 bytes of garbage every 188 bytes.
  const into = scratch ?? new GrowableBytes(ts.length);
  into.clear();
  const out = into.reserve(ts.length);
  out.set(ts);
  let at = 0;
  for (let i = 0; i < nPieces; i++) {
    const from = pieces[i * 2]!;
    const to = pieces[i * 2 + 1]!;
    out.copyWithin(at, from, to);
    at += to - from;
  }
  into.commit(size);
  return { streamType, data: out.subarray(0, size), pesPackets, pts };
}
