// The byte layout of one FLV tag, as RTMP ingest builds them and the segmenters read them: an 11-byte header
// (type, 24-bit body size, timestamp in 24 low bits then an 8-bit extension, a 24-bit stream id of 0), the
// body, then the 4-byte size of all that before it. One place for it, read and written.

export const FLV_TAG_HEADER_BYTES = 11;
export const FLV_PREVIOUS_TAG_SIZE_BYTES = 4;
/** Tag types (the header's low 5 bits). */
export const FLV_AUDIO = 8;
export const FLV_VIDEO = 9;

/** The tag's type: FLV_AUDIO, FLV_VIDEO, 18 for script data, or another (reserved) value. */
export const tagType = (tag: Uint8Array): number => tag[0]! & 0x1f;

/** The body's size as the header declares it (not checked against the bytes that follow). */
export const tagDataSize = (tag: Uint8Array): number => (tag[1]! << 16) | (tag[2]! << 8) | tag[3]!;

/** The 32-bit timestamp (ms) of a tag: 24 low bits, then the extension byte as the top 8. */
export function tagTimestamp(tag: Uint8Array): number {
  return ((tag[7]! << 24) >>> 0) + (tag[4]! << 16) + (tag[5]! << 8) + tag[6]!;
}

/**
 * Writes a tag's header at `at` of `out`: the first byte as given (type and flags), then the body's size
 * (under 2^24, as an RTMP message's length is), the timestamp and stream id 0.
 */
export function writeTagHeader(out: Uint8Array, at: number, typeByte: number, dataSize: number, timestamp: number): void {
  out[at] = typeByte;
  out[at + 1] = (dataSize >> 16) & 0xff;
  out[at + 2] = (dataSize >> 8) & 0xff;
  out[at + 3] = dataSize & 0xff;
  out[at + 4] = (timestamp >> 16) & 0xff;
  out[at + 5] = (timestamp >> 8) & 0xff;
  out[at + 6] = timestamp & 0xff;
  out[at + 7] = (timestamp >> 24) & 0xff;
  out[at + 8] = 0;
  out[at + 9] = 0;
  out[at + 10] = 0;
}
