// The RFC 6381 codec string of a segment (`avc1.64001f,mp4a.40.2`, `hvc1.1.6.L93.B0,mp4a.40.2`), read from
// its own bytes. MPEG-TS: the PMT says which elementary streams there are; the H.264 or HEVC sequence
// parameter set gives profile, constraint flags and level; the AAC ADTS header gives the audio object
// type. MP4 (HTTP push): the sample entries of the moov box (mp4Codecs.ts). For the master playlist's
// CODECS attribute, so players need not guess. Pure and bounded: only the first MAX_SCAN_BYTES are looked at.
import { avcCodecString, HEVC_PTL_BYTES, hevcCodecString, mp4aCodecString } from './codecStrings.ts';
import { rbsp } from './h264.ts';
import { mp4Codecs } from './mp4Codecs.ts';
import type { VideoFormat } from './profiles.ts';

const TS_PACKET = 188;
const MAX_SCAN_BYTES = 2 * 1024 * 1024;
/** Payload bytes of one elementary stream collected before giving up on finding its header. */
const MAX_ES_BYTES = 256 * 1024;

const STREAM_TYPE_H264 = 0x1b;
const STREAM_TYPE_HEVC = 0x24;
const HEVC_NAL_SPS = 33;
const STREAM_TYPE_AAC_ADTS = 0x0f;
const STREAM_TYPE_MP3 = [0x03, 0x04];
const STREAM_TYPE_AC3 = 0x81;

/** `avc1.PPCCLL` from an H.264 elementary stream (Annex B), or undefined when no SPS is in it. */
export function h264Codec(es: Uint8Array): string | undefined {
  for (let i = 0; i + 6 < es.length; i++) {
    if (es[i] !== 0 || es[i + 1] !== 0 || es[i + 2] !== 1) continue;
    const nal = es[i + 3]!;
    if ((nal & 0x80) === 0 && (nal & 0x1f) === 7) return avcCodecString(es[i + 4]!, es[i + 5]!, es[i + 6]!);
  }
  return undefined;
}

/**
 * `hvc1.…` from an HEVC elementary stream (Annex B), or undefined when no SPS is in it. The SPS starts with
 * a 2-byte NAL header and one byte of ids before the general profile_tier_level; its emulation-prevention
 * bytes are removed first (flag bytes of zero are common there).
 */
export function hevcCodec(es: Uint8Array): string | undefined {
  const need = 2 + 1 + HEVC_PTL_BYTES;
  for (let i = 0; i + 3 + need <= es.length; i++) {
    if (es[i] !== 0 || es[i + 1] !== 0 || es[i + 2] !== 1) continue;
    const header = es[i + 3]!;
    if ((header & 0x80) !== 0 || ((header >> 1) & 0x3f) !== HEVC_NAL_SPS) continue;
    // enough raw bytes for the unescaped ones even if every third byte were an escape
    const body = rbsp(es.subarray(i + 5, Math.min(es.length, i + 5 + 2 * need)));
    return hevcCodecString(body.subarray(1, 1 + HEVC_PTL_BYTES));
  }
  return undefined;
}

/** `mp4a.40.<object type>` from an AAC ADTS stream, or undefined when no ADTS header is in it. */
export function adtsCodec(es: Uint8Array): string | undefined {
  for (let i = 0; i + 3 < es.length; i++) {
    // syncword 0xFFF, layer 00
    if (es[i] !== 0xff || (es[i + 1]! & 0xf6) !== 0xf0) continue;
    const profile = (es[i + 2]! >> 6) & 0x03;
    return mp4aCodecString(0x40, profile + 1);
  }
  return undefined;
}

/** The codecs of an MPEG-TS segment, video first, comma-separated; undefined when the video codec is unknown. */
export function mpegTsCodecs(data: Uint8Array): string | undefined {
  const end = Math.min(data.length, MAX_SCAN_BYTES);
  let pmtPid: number | undefined;
  const streams = new Map<number, number>(); // PID → stream type
  const payloads = new Map<number, Uint8Array[]>();
  const sizes = new Map<number, number>();
  for (let off = 0; off + TS_PACKET <= end; off += TS_PACKET) {
    if (data[off] !== 0x47) return undefined;
    const pusi = (data[off + 1]! & 0x40) !== 0;
    const pid = ((data[off + 1]! & 0x1f) << 8) | data[off + 2]!;
    const afc = (data[off + 3]! >> 4) & 0x03;
    let p = off + 4;
    if (afc === 2 || afc === 0) continue; // no payload
    if (afc === 3) p += 1 + data[p]!;
    if (p >= off + TS_PACKET) continue;
    const payload = data.subarray(p, off + TS_PACKET);
    if (pid === 0 && pusi && pmtPid === undefined) pmtPid = patPmtPid(payload);
    else if (pid === pmtPid && pusi && streams.size === 0) for (const [esPid, type] of pmtStreams(payload)) streams.set(esPid, type);
    else if (streams.has(pid)) {
      const size = sizes.get(pid) ?? 0;
      if (size >= MAX_ES_BYTES) continue;
      const list = payloads.get(pid) ?? [];
      if (list.length === 0) payloads.set(pid, list);
      list.push(payload);
      sizes.set(pid, size + payload.length);
    }
  }
  const es = (pid: number) => Buffer.concat(payloads.get(pid) ?? []);
  let video: string | undefined;
  const audio: string[] = [];
  for (const [pid, type] of streams) {
    if (type === STREAM_TYPE_H264) video ??= h264Codec(es(pid));
    else if (type === STREAM_TYPE_HEVC) video ??= hevcCodec(es(pid));
    else if (type === STREAM_TYPE_AAC_ADTS) {
      const a = adtsCodec(es(pid));
      if (a) audio.push(a);
    } else if (STREAM_TYPE_MP3.includes(type)) audio.push('mp4a.40.34');
    else if (type === STREAM_TYPE_AC3) audio.push('ac-3');
  }
  if (!video) return undefined;
  return [video, ...new Set(audio)].join(',');
}

/** The codecs of a segment in the given container; undefined when its video codec cannot be named. */
export function segmentCodecs(data: Uint8Array, format: VideoFormat): string | undefined {
  return format === 'mp4' ? mp4Codecs(data) : mpegTsCodecs(data);
}

/** The PMT PID of the first program in a PAT section. */
function patPmtPid(payload: Uint8Array): number | undefined {
  const p = 1 + payload[0]!; // pointer field
  if (payload[p] !== 0x00) return undefined;
  const sectionLength = ((payload[p + 1]! & 0x0f) << 8) | payload[p + 2]!;
  const last = Math.min(payload.length, p + 3 + sectionLength - 4);
  for (let i = p + 8; i + 4 <= last; i += 4) {
    const program = (payload[i]! << 8) | payload[i + 1]!;
    if (program !== 0) return ((payload[i + 2]! & 0x1f) << 8) | payload[i + 3]!;
  }
  return undefined;
}

/** (PID, stream type) of each elementary stream in a PMT section. */
function pmtStreams(payload: Uint8Array): [number, number][] {
  const p = 1 + payload[0]!;
  if (payload[p] !== 0x02) return [];
  const sectionLength = ((payload[p + 1]! & 0x0f) << 8) | payload[p + 2]!;
  const last = Math.min(payload.length, p + 3 + sectionLength - 4);
  const programInfoLength = ((payload[p + 10]! & 0x0f) << 8) | payload[p + 11]!;
  const out: [number, number][] = [];
  for (let i = p + 12 + programInfoLength; i + 5 <= last; ) {
    const type = payload[i]!;
    const pid = ((payload[i + 1]! & 0x1f) << 8) | payload[i + 2]!;
    const infoLength = ((payload[i + 3]! & 0x0f) << 8) | payload[i + 4]!;
    out.push([pid, type]);
    i += 5 + infoLength;
  }
  return out;
}
