// H.264 as FLV carries it (an AVCDecoderConfigurationRecord, then access units of length-prefixed NAL
// units) turned into the Annex B byte stream MPEG-TS carries: start codes, an access unit delimiter first,
// and the SPS/PPS again before every IDR picture so that each segment decodes on its own (what ffmpeg's
// h264_mp4toannexb filter and its MPEG-TS muxer do on the same input).
import type { GrowableBytes } from '../lib/growableBytes.ts';
import { FlvMediaError } from './flvMedia.ts';
import { spsFrameSize } from './h264.ts';

export interface AvcConfig {
  /** Bytes of each NAL unit's length prefix: 1, 2 or 4. */
  lengthSize: number;
  /** Every SPS and PPS of the record, each after a 4-byte start code. */
  parameterSets: Buffer;
  /** The picture size of the record's first SPS; undefined when it cannot be read. */
  frameSize?: { width: number; height: number };
}

const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_PPS = 8;
const NAL_AUD = 9;
/** Access unit delimiter, primary_pic_type 7 (any slice type), as ffmpeg's muxer writes it. */
const AUD = Buffer.from([0, 0, 0, 1, NAL_AUD, 0xf0]);

/** Read an AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1). */
export function readAvcConfig(rec: Buffer): AvcConfig {
  if (rec.length < 7) throw new FlvMediaError(`H.264 sequence header of ${rec.length} bytes is too short to be an AVCDecoderConfigurationRecord`);
  if (rec[0] !== 1) throw new FlvMediaError(`H.264 sequence header has configurationVersion ${rec[0]}, not 1`);
  const lengthSize = (rec[4]! & 0x03) + 1;
  if (lengthSize === 3) throw new FlvMediaError('H.264 sequence header declares 3-byte NAL unit lengths (only 1, 2 or 4 are valid)');
  const sets: Buffer[] = [];
  let size = 0;
  let at = 5;
  let spsCount = 0;
  for (let group = 0; group < 2; group++) {
    if (at >= rec.length) {
      if (group === 1) break; // a record without its PPS list: the PPS may come in band
      throw new FlvMediaError('H.264 sequence header ends before its SPS list');
    }
    const count = group === 0 ? rec[at]! & 0x1f : rec[at]!;
    at += 1;
    for (let i = 0; i < count; i++) {
      if (at + 2 > rec.length) throw new FlvMediaError('H.264 sequence header ends inside a parameter set length');
      const len = rec.readUInt16BE(at);
      at += 2;
      if (len === 0 || at + len > rec.length) throw new FlvMediaError(`H.264 sequence header: a ${len}-byte parameter set runs past the record`);
      const nal = rec.subarray(at, at + len);
      const expected = group === 0 ? NAL_SPS : NAL_PPS;
      if ((nal[0]! & 0x1f) !== expected)
        throw new FlvMediaError(`H.264 sequence header: NAL unit type ${nal[0]! & 0x1f} in the ${group === 0 ? 'SPS' : 'PPS'} list`);
      sets.push(nal);
      size += 4 + len;
      at += len;
      if (group === 0) spsCount++;
    }
  }
  if (spsCount === 0) throw new FlvMediaError('H.264 sequence header holds no SPS');
  const parameterSets = Buffer.allocUnsafe(size);
  let w = 0;
  for (const nal of sets) {
    parameterSets.writeUInt32BE(1, w);
    nal.copy(parameterSets, w + 4);
    w += 4 + nal.length;
  }
  let frameSize: AvcConfig['frameSize'];
  try {
    frameSize = spsFrameSize(sets[0]!);
  } catch {
    // an SPS we cannot read: the segments are still muxed; their size is read from the bytes later
  }
  return { lengthSize, parameterSets, ...(frameSize ? { frameSize } : {}) };
}

function nalLength(au: Buffer, at: number, lengthSize: number): number {
  if (lengthSize === 4) return au.readUInt32BE(at);
  if (lengthSize === 2) return au.readUInt16BE(at);
  return au[at]!;
}

/**
 * One FLV access unit in Annex B, ready for a PES packet; undefined when it holds no NAL unit. `key` is
 * the FLV keyframe flag: such a frame gets the parameter sets too, even when it is not an IDR picture.
 * With `into`, it is written at the end of that (scratch space reused frame after frame) and the result is
 * a view of it, valid until `into` is written again; otherwise it gets a buffer of its own.
 */
export function annexBAccessUnit(au: Buffer, config: AvcConfig, key: boolean, seen?: { sps: boolean }, into?: GrowableBytes): Buffer | undefined {
  const { lengthSize } = config;
  // Pass 1: check every length against the bytes there, and see which NAL unit types are present.
  let nals = 0;
  let payload = 0;
  let hasAud = false;
  let hasSps = false;
  let hasIdr = false;
  for (let at = 0; at < au.length; ) {
    if (at + lengthSize > au.length) throw new FlvMediaError('H.264 access unit ends inside a NAL unit length');
    const len = nalLength(au, at, lengthSize);
    at += lengthSize;
    if (len > au.length - at) throw new FlvMediaError(`H.264 NAL unit length ${len} runs past the end of its access unit`);
    if (len === 0) continue;
    const type = au[at]! & 0x1f;
    if (type === NAL_AUD) hasAud = true;
    else if (type === NAL_SPS) hasSps = true;
    else if (type === NAL_IDR) hasIdr = true;
    nals++;
    payload += len;
    at += len;
  }
  if (nals === 0) return undefined;
  if (seen) seen.sps = hasSps;
  const withSets = (hasIdr || key) && !hasSps;
  // Start codes: 4 bytes before the first NAL unit and the parameter sets, 3 before the others (as ffmpeg).
  const size = (hasAud ? 0 : AUD.length) + (withSets ? config.parameterSets.length : 0) + payload + 4 + (nals - 1) * 3;
  const out = into ? into.reserve(size) : Buffer.allocUnsafe(size);
  const start = into ? into.length : 0;
  let w = start;
  if (!hasAud) w += AUD.copy(out, w);
  let first = true;
  let setsWritten = !withSets;
  for (let at = 0; at < au.length; ) {
    const len = nalLength(au, at, lengthSize);
    at += lengthSize;
    if (len === 0) continue;
    const type = au[at]! & 0x1f;
    // the parameter sets go before the first picture (after a delimiter or SEI the access unit starts with)
    if (!setsWritten && type >= 1 && type <= NAL_IDR) {
      w += config.parameterSets.copy(out, w);
      setsWritten = true;
      first = false;
    }
    if (first) {
      out.writeUInt32BE(1, w);
      w += 4;
      first = false;
    } else {
      out[w] = 0;
      out[w + 1] = 0;
      out[w + 2] = 1;
      w += 3;
    }
    w += au.copy(out, w, at, at + len);
    at += len;
  }
  // An access unit without a picture (SEI only) got no parameter sets: it still has the room for them.
  if (!setsWritten) w += config.parameterSets.copy(out, w);
  if (into) {
    into.commit(w - start);
    return into.view(start, w);
  }
  return w === size ? out : out.subarray(0, w);
}
