// MPEG-TS packetisation (ISO/IEC 13818-1): PAT and PMT sections, PES packets cut into 188-byte transport
// packets with continuity counters, PCRs in adaptation fields and random_access_indicator on keyframes.
// Laid out as ffmpeg's mpegts muxer lays out the same streams (PMT on PID 0x1000, elementary streams from
// PID 0x100, program 1, stuffing in the adaptation field of a PES packet's last transport packet). Packets
// are written in place at the end of the caller's segment buffer: no buffer per packet, nothing zero-filled.
import type { GrowableBytes } from '../lib/growableBytes.ts';

export const TS_PACKET = 188;
const PAYLOAD = TS_PACKET - 4;
const SYNC = 0x47;
export const PAT_PID = 0;
export const PMT_PID = 0x1000;
/** ffmpeg's first elementary stream PID; the next streams follow it. */
export const FIRST_ES_PID = 0x100;

/** PMT stream_type values (ffmpeg's for these codecs). */
export const STREAM_TYPE_H264 = 0x1b;
export const STREAM_TYPE_AAC_ADTS = 0x0f;
export const STREAM_TYPE_MPEG1_AUDIO = 0x03;
export const STREAM_ID_VIDEO = 0xe0;
export const STREAM_ID_AUDIO = 0xc0;

/** 2^33: PTS, DTS and the PCR base count modulo this. */
export const TIMESTAMP_WRAP = 2 ** 33;

export interface TsElementaryStream {
  pid: number;
  streamType: number;
}

export interface PesOptions {
  pid: number;
  streamId: number;
  /** 90 kHz, any integer (taken modulo 2^33) */
  pts: number;
  /** 90 kHz; omitted (PTS only) when equal to the PTS */
  dts?: number;
  /** random_access_indicator in the first packet: a keyframe, or audio */
  randomAccess: boolean;
  /** PCR base (90 kHz) to carry in the first packet */
  pcr?: number;
  /** audio: the PES_packet_length is set when it fits; video leaves it 0 (unbounded), as ffmpeg */
  bounded: boolean;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32/MPEG-2 of a PSI section. */
function crc32(data: Uint8Array, end: number): number {
  let crc = 0xffffffff;
  for (let i = 0; i < end; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ data[i]!) & 0xff]!) >>> 0;
  return crc;
}

function wrap(ts: number): number {
  const m = ts % TIMESTAMP_WRAP;
  return m < 0 ? m + TIMESTAMP_WRAP : m;
}

/** A 5-byte PTS/DTS field with the given 4-bit prefix. */
function writeTimestamp(out: Buffer, at: number, prefix: number, ts: number): void {
  const t = wrap(ts);
  const hi = Math.floor(t / 2 ** 30);
  const lo = t % 2 ** 30;
  out[at] = (prefix << 4) | (hi << 1) | 1;
  out[at + 1] = (lo >> 22) & 0xff;
  out[at + 2] = ((lo >> 14) & 0xfe) | 1;
  out[at + 3] = (lo >> 7) & 0xff;
  out[at + 4] = ((lo << 1) & 0xfe) | 1;
}

/** A 6-byte PCR (base in 90 kHz, extension 0). */
function writePcr(out: Buffer, at: number, base: number): void {
  const b = wrap(base);
  const lo = b % 2 ** 25;
  out[at] = Math.floor(b / 2 ** 25);
  out[at + 1] = (lo >> 17) & 0xff;
  out[at + 2] = (lo >> 9) & 0xff;
  out[at + 3] = (lo >> 1) & 0xff;
  out[at + 4] = ((lo & 1) << 7) | 0x7e;
  out[at + 5] = 0;
}

/** Transport packets for one stream's program: continuity counters are kept here, per PID. */
export class TsWriter {
  readonly #cc = new Map<number, number>();
  #pmtVersion = 0;
  #pmtKey = '';

  #nextCc(pid: number): number {
    const cc = this.#cc.get(pid) ?? 0;
    this.#cc.set(pid, (cc + 1) & 0x0f);
    return cc;
  }

  /** The PSI state (continuity counters of PAT and PMT, PMT version): a writePsi() after mark() can be undone with rewind(). */
  mark(): { pat: number; pmt: number; version: number; key: string } {
    return { pat: this.#cc.get(PAT_PID) ?? 0, pmt: this.#cc.get(PMT_PID) ?? 0, version: this.#pmtVersion, key: this.#pmtKey };
  }

  rewind(m: ReturnType<TsWriter['mark']>): void {
    this.#cc.set(PAT_PID, m.pat);
    this.#cc.set(PMT_PID, m.pmt);
    this.#pmtVersion = m.version;
    this.#pmtKey = m.key;
  }

  /** A PAT and a PMT (two packets) for program 1 with these streams, at the end of `into`; the PMT version moves when they change. */
  writePsi(into: GrowableBytes, streams: readonly TsElementaryStream[], pcrPid: number): void {
    this.writePsiAt(into.reserve(2 * TS_PACKET), into.length, streams, pcrPid);
    into.commit(2 * TS_PACKET);
  }

  /** writePsi() over the two packets at `at` of `out` (a segment's PAT and PMT, rebuilt at its end). */
  writePsiAt(out: Buffer, at: number, streams: readonly TsElementaryStream[], pcrPid: number): void {
    const key = programKey(streams, pcrPid);
    if (this.#pmtKey !== '' && key !== this.#pmtKey) this.#pmtVersion = (this.#pmtVersion + 1) & 0x1f;
    this.#pmtKey = key;
    // PAT: transport_stream_id 1, program 1 → PMT PID
    this.#section(out, at, PAT_PID, [0x00, 0xb0, 13, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xe0 | (PMT_PID >> 8), PMT_PID & 0xff]);
    const pmt = [0x02, 0, 0, 0x00, 0x01, 0xc1 | (this.#pmtVersion << 1), 0x00, 0x00, 0xe0 | (pcrPid >> 8), pcrPid & 0xff, 0xf0, 0x00];
    for (const s of streams) pmt.push(s.streamType, 0xe0 | (s.pid >> 8), s.pid & 0xff, 0xf0, 0x00);
    const sectionLength = pmt.length - 3 + 4;
    pmt[1] = 0xb0 | (sectionLength >> 8);
    pmt[2] = sectionLength & 0xff;
    this.#section(out, at + TS_PACKET, PMT_PID, pmt);
  }

  #section(out: Buffer, at: number, pid: number, section: number[]): void {
    out[at] = SYNC;
    out[at + 1] = 0x40 | (pid >> 8); // payload_unit_start_indicator
    out[at + 2] = pid & 0xff;
    out[at + 3] = 0x10 | this.#nextCc(pid);
    out[at + 4] = 0; // pointer field
    const start = at + 5;
    for (let i = 0; i < section.length; i++) out[start + i] = section[i]!;
    out.writeUInt32BE(crc32(out.subarray(start, start + section.length), section.length), start + section.length);
    out.fill(0xff, start + section.length + 4, at + TS_PACKET);
  }

  /** A packet that carries only a PCR (no payload, so the continuity counter does not move), at the end of `into`. */
  writePcrOnly(into: GrowableBytes, pid: number, pcr: number): void {
    const out = into.reserve(TS_PACKET);
    const at = into.length;
    const cc = ((this.#cc.get(pid) ?? 0) + 15) & 0x0f;
    out[at] = SYNC;
    out[at + 1] = pid >> 8;
    out[at + 2] = pid & 0xff;
    out[at + 3] = 0x20 | cc;
    out[at + 4] = TS_PACKET - 5;
    out[at + 5] = 0x10;
    writePcr(out, at + 6, pcr);
    out.fill(0xff, at + 12, at + TS_PACKET);
    into.commit(TS_PACKET);
  }

  /** One PES packet holding `payload`, cut into transport packets, at the end of `into`. */
  writePes(into: GrowableBytes, o: PesOptions, payload: Buffer): void {
    const withDts = o.dts !== undefined && wrap(o.dts) !== wrap(o.pts);
    const headerDataLength = withDts ? 10 : 5;
    const pesHeader = 9 + headerDataLength;
    const total = pesHeader + payload.length;
    const firstAf = o.pcr !== undefined ? 8 : o.randomAccess ? 2 : 0;
    const packets = pesPackets(o, payload.length);
    const out = into.reserve(packets * TS_PACKET);
    const base = into.length;
    // The payload goes in with one copy at the end of the packets' room, then each packet's share moves
    // forward into place: copyWithin makes no object, where Buffer#copy from an offset makes a view per
    // packet (~90 bytes of garbage every 188 bytes of video). No share overtakes one not yet moved: what
    // lies between a share and its place is the headers of the packets after it.
    const tail = base + packets * TS_PACKET - payload.length;
    out.set(payload, tail);
    let read = 0; // payload bytes moved
    for (let p = 0; p < packets; p++) {
      const at = base + p * TS_PACKET;
      const first = p === 0;
      const baseAf = first ? firstAf : 0;
      const want = first ? total : payload.length - read;
      const cap = PAYLOAD - baseAf;
      const take = want < cap ? want : cap;
      const stuffing = cap - take;
      const afBytes = baseAf + stuffing;
      out[at] = SYNC;
      out[at + 1] = (first ? 0x40 : 0) | (o.pid >> 8);
      out[at + 2] = o.pid & 0xff;
      out[at + 3] = (afBytes > 0 ? 0x30 : 0x10) | this.#nextCc(o.pid);
      let w = at + 4;
      if (afBytes > 0) {
        out[w] = afBytes - 1;
        if (afBytes > 1) {
          out[w + 1] = (o.randomAccess && first ? 0x40 : 0) | (o.pcr !== undefined && first ? 0x10 : 0);
          w += 2;
          if (first && o.pcr !== undefined) {
            writePcr(out, w, o.pcr);
            w += 6;
          }
          const end = at + 4 + afBytes;
          if (end > w) out.fill(0xff, w, end);
          w = end;
        } else {
          w += 1;
        }
      }
      if (first) {
        out[w] = 0;
        out[w + 1] = 0;
        out[w + 2] = 1;
        out[w + 3] = o.streamId;
        const length = o.bounded && total - 6 <= 0xffff ? total - 6 : 0;
        out[w + 4] = length >> 8;
        out[w + 5] = length & 0xff;
        out[w + 6] = 0x80;
        out[w + 7] = withDts ? 0xc0 : 0x80;
        out[w + 8] = headerDataLength;
        writeTimestamp(out, w + 9, withDts ? 3 : 2, o.pts);
        if (withDts) writeTimestamp(out, w + 14, 1, o.dts!);
        w += pesHeader;
        const n = take - pesHeader;
        out.copyWithin(w, tail, tail + n);
        read = n;
      } else {
        out.copyWithin(w, tail + read, tail + read + take);
        read += take;
      }
    }
    into.commit(packets * TS_PACKET);
  }
}

/** What identifies a program's PMT: its streams and PCR PID (the PMT version moves when it changes). */
export function programKey(streams: readonly TsElementaryStream[], pcrPid: number): string {
  return `${pcrPid}:${streams.map((s) => `${s.pid}/${s.streamType}`).join(',')}`;
}

/** How many transport packets writePes() makes of a payload of `bytes`. */
function pesPackets(o: Pick<PesOptions, 'pts' | 'dts' | 'pcr' | 'randomAccess'>, bytes: number): number {
  const withDts = o.dts !== undefined && wrap(o.dts) !== wrap(o.pts);
  const total = 9 + (withDts ? 10 : 5) + bytes;
  const firstCap = PAYLOAD - (o.pcr !== undefined ? 8 : o.randomAccess ? 2 : 0);
  return total <= firstCap ? 1 : 1 + Math.ceil((total - firstCap) / PAYLOAD);
}
