// One FLV tag (as RTMP ingest hands them over: 11-byte tag header, body, 4-byte previous-tag size) read
// into a typed media frame for the in-process MPEG-TS muxer. Only what we mux is recognised: H.264 video
// and AAC or MP3 audio; any other codec is an UnsupportedCodecError (the caller falls back to ffmpeg),
// and bytes that contradict the FLV layout are an FlvMediaError. The publisher controls every byte here.
import { GatewayError } from '../lib/errors.ts';
import { FLV_AUDIO as AUDIO, FLV_TAG_HEADER_BYTES as TAG_HEADER, FLV_VIDEO as VIDEO, tagDataSize, tagTimestamp, tagType } from './flvTagLayout.ts';

/** The stream's bytes break the FLV/RTMP layout: the stream cannot be segmented. */
export class FlvMediaError extends GatewayError {}

/** A codec the in-process muxer does not handle: segment the stream with ffmpeg instead. */
export class UnsupportedCodecError extends GatewayError {}

/** The tag header's "filter" bit: the body is encrypted (FLV 10.1 DRM). */
const FILTERED = 0x20;
const AVC = 7;
/** Enhanced RTMP: the top bit of the first video byte announces a FourCC codec (HEVC, AV1, VP9). */
const EX_HEADER = 0x80;
/** Video "info/command frame": carries no picture. */
const COMMAND_FRAME = 5;
const SOUND_MP3 = 2;
const SOUND_AAC = 10;

export type FlvFrame =
  | { kind: 'avcConfig'; timestamp: number; data: Buffer }
  | { kind: 'avc'; timestamp: number; key: boolean; cts: number; data: Buffer }
  | { kind: 'aacConfig'; timestamp: number; data: Buffer }
  | { kind: 'aac'; timestamp: number; data: Buffer }
  | { kind: 'mp3'; timestamp: number; data: Buffer };

/** Does this buffer start with the 'FLV' file header (which carries no media)? */
export function isFlvFileHeader(buf: Buffer): boolean {
  return buf.length >= 3 && buf[0] === 0x46 && buf[1] === 0x4c && buf[2] === 0x56;
}

/**
 * The media frame of one FLV tag; undefined for tags that carry nothing to mux (script data, empty
 * bodies, video command frames, end-of-sequence markers). The frame's data is a view into `tag`.
 */
export function readFlvTag(tag: Buffer): FlvFrame | undefined {
  if (tag.length < TAG_HEADER) throw new FlvMediaError(`FLV tag cut short: ${tag.length} bytes, less than its 11-byte header`);
  const size = tagDataSize(tag);
  if (TAG_HEADER + size > tag.length)
    throw new FlvMediaError(`FLV tag declares a ${size}-byte body but only ${tag.length - TAG_HEADER} bytes follow its header`);
  const type = tagType(tag);
  if (type !== AUDIO && type !== VIDEO) return undefined; // script data (metadata) and reserved types
  if (tag[0]! & FILTERED) throw new UnsupportedCodecError('encrypted FLV tags are not muxed in-process');
  if (size === 0) return undefined;
  const body = tag.subarray(TAG_HEADER, TAG_HEADER + size);
  const timestamp = tagTimestamp(tag);
  return type === VIDEO ? videoFrame(body, timestamp) : audioFrame(body, timestamp);
}

function videoFrame(body: Buffer, timestamp: number): FlvFrame | undefined {
  const first = body[0]!;
  if (first & EX_HEADER) throw new UnsupportedCodecError('enhanced-RTMP video (HEVC, AV1, VP9) is not muxed in-process');
  const frameType = (first >> 4) & 0x07;
  const codec = first & 0x0f;
  if (frameType === COMMAND_FRAME) return undefined;
  if (codec !== AVC) throw new UnsupportedCodecError(`FLV video codec id ${codec} is not muxed in-process (only H.264, id 7)`);
  if (body.length < 5) throw new FlvMediaError(`H.264 video tag of ${body.length} bytes is shorter than its 5-byte AVC header`);
  const packetType = body[1]!;
  const data = body.subarray(5);
  if (packetType === 0) return { kind: 'avcConfig', timestamp, data };
  if (packetType === 2) return undefined; // end of sequence
  if (packetType !== 1) throw new FlvMediaError(`unknown AVC packet type ${packetType}`);
  // composition time offset: signed 24-bit
  const cts = (((body[2]! << 16) | (body[3]! << 8) | body[4]!) << 8) >> 8;
  return { kind: 'avc', timestamp, key: frameType === 1, cts, data };
}

function audioFrame(body: Buffer, timestamp: number): FlvFrame | undefined {
  const format = body[0]! >> 4;
  if (format === SOUND_MP3) return body.length > 1 ? { kind: 'mp3', timestamp, data: body.subarray(1) } : undefined;
  if (format !== SOUND_AAC) throw new UnsupportedCodecError(`FLV sound format ${format} is not muxed in-process (only AAC, 10, and MP3, 2)`);
  if (body.length < 2) throw new FlvMediaError('AAC audio tag without its packet type byte');
  const data = body.subarray(2);
  if (body[1] === 0) return { kind: 'aacConfig', timestamp, data };
  if (body[1] !== 1) throw new FlvMediaError(`unknown AAC packet type ${body[1]}`);
  return data.length > 0 ? { kind: 'aac', timestamp, data } : undefined;
}
