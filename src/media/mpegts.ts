// MPEG-TS demuxing just far enough to reach the video elementary stream: PAT → PMT → the first video
// PID, and the payload bytes of its PES packets. Used to count frames without a decoder, so it checks
// what it reads: a malformed or foreign input is an error, never a guess.

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

/** The 33-bit PTS of a PES header (bytes 9–13), or undefined when the header carries none. */
function pesPts(payload: Uint8Array): number | undefined {
  if ((payload[7]! & 0x80) === 0 || payload.length < 14) return undefined;
  return ((payload[9]! >> 1) & 0x07) * 2 ** 30 + ((payload[10]! << 7) | (payload[11]! >> 1)) * 2 ** 15 + ((payload[12]! << 7) | (payload[13]! >> 1));
}

function payloadOf(pkt: Uint8Array): Uint8Array | undefined {
  const afc = (pkt[3]! >> 4) & 3;
  if (afc === 0 || afc === 2) return undefined; // no payload
  let start = 4;
  if (afc === 3) start += 1 + pkt[4]!;
  if (start > PACKET) throw new MpegTsError('adaptation field runs past the packet');
  return pkt.subarray(start, PACKET);
}

/** The section of a PSI payload (after the pointer field), or undefined when it does not start here. */
function section(payload: Uint8Array): Uint8Array {
  const pointer = payload[0] ?? 0;
  const s = payload.subarray(1 + pointer);
  if (s.length < 3) throw new MpegTsError('PSI section cut short');
  const len = ((s[1]! & 0x0f) << 8) | s[2]!;
  if (3 + len > s.length) throw new MpegTsError('PSI section spans packets (not supported)');
  return s.subarray(0, 3 + len - 4); // without the CRC
}

/** The video elementary stream of the first program of an MPEG-TS segment. */
export function videoElementaryStream(ts: Uint8Array): VideoElementaryStream {
  if (ts.length === 0 || ts.length % PACKET !== 0) throw new MpegTsError(`not MPEG-TS: ${ts.length} bytes is not a whole number of 188-byte packets`);
  let pmtPid = -1;
  let videoPid = -1;
  let streamType = 0;
  const chunks: Uint8Array[] = [];
  let size = 0;
  let pesPackets = 0;
  const pts: number[] = [];
  let inPes = false;
  for (let off = 0; off < ts.length; off += PACKET) {
    const pkt = ts.subarray(off, off + PACKET);
    if (pkt[0] !== SYNC) throw new MpegTsError(`lost sync at byte ${off}`);
    const pusi = (pkt[1]! & 0x40) !== 0;
    const pid = ((pkt[1]! & 0x1f) << 8) | pkt[2]!;
    const payload = payloadOf(pkt);
    if (!payload) continue;
    if (pid === 0 && pusi && pmtPid < 0) {
      const s = section(payload);
      if (s[0] !== 0x00) throw new MpegTsError('PID 0 is not a PAT');
      for (let i = 8; i + 4 <= s.length; i += 4) {
        const program = (s[i]! << 8) | s[i + 1]!;
        if (program !== 0) {
          pmtPid = ((s[i + 2]! & 0x1f) << 8) | s[i + 3]!;
          break;
        }
      }
    } else if (pid === pmtPid && pusi && videoPid < 0) {
      const s = section(payload);
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
    } else if (pid === videoPid && videoPid >= 0) {
      if (pusi) {
        if (payload.length < 9 || payload[0] !== 0 || payload[1] !== 0 || payload[2] !== 1) throw new MpegTsError('video PES packet without a start code');
        const headerEnd = 9 + payload[8]!;
        if (headerEnd > payload.length) throw new MpegTsError('PES header runs past the packet');
        pesPackets++;
        const t = pesPts(payload);
        if (t !== undefined) pts.push(t);
        inPes = true;
        chunks.push(payload.subarray(headerEnd));
        size += payload.length - headerEnd;
      } else if (inPes) {
        chunks.push(payload);
        size += payload.length;
      }
    }
  }
  if (videoPid < 0) throw new MpegTsError('no video stream in the program');
  const data = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  return { streamType, data, pesPackets, pts };
}
