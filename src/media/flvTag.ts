// What the segmenter's input timing needs from one FLV tag: is it a video keyframe (the kind of frame that
// closes a segment), and its timestamp. Read from the tag header and the first byte of the video data.
import { FLV_AUDIO, FLV_TAG_HEADER_BYTES as TAG_HEADER, FLV_VIDEO as VIDEO, tagTimestamp, tagType } from './flvTagLayout.ts';

const KEYFRAME = 1;
const AVC = 7;
const AVC_SEQUENCE_HEADER = 0;
/** Enhanced RTMP (HEVC, AV1, VP9): the top bit of the first video byte; the low nibble is the packet type. */
const EX_HEADER = 0x80;
const EX_SEQUENCE_START = 0;

/** The timestamp (ms, as the publisher stamped it) of a video keyframe tag; undefined for any other tag or a codec header. */
export function flvKeyframeTimestamp(tag: Buffer): number | undefined {
  if (tag.length < TAG_HEADER + 2 || tagType(tag) !== VIDEO) return undefined;
  const first = tag[TAG_HEADER]!;
  if (((first >> 4) & 0x07) !== KEYFRAME) return undefined;
  if (first & EX_HEADER) {
    if ((first & 0x0f) === EX_SEQUENCE_START) return undefined;
  } else if ((first & 0x0f) === AVC && tag[TAG_HEADER + 1] === AVC_SEQUENCE_HEADER) {
    return undefined;
  }
  return tagTimestamp(tag);
}

/** The timestamp (ms) of any audio or video tag that carries media (not the FLV file header); undefined otherwise. */
export function flvMediaTimestamp(tag: Buffer): number | undefined {
  if (tag.length < TAG_HEADER + 1) return undefined;
  const type = tagType(tag);
  if (type !== VIDEO && type !== FLV_AUDIO) return undefined;
  return tagTimestamp(tag);
}
