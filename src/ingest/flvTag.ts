// One FLV tag of an RTMP media packet, for the in-process segmenter input. The same bytes as
// node-media-server's Flv.createMessage, built without zero-filling a buffer that is overwritten at once:
// at 3 Mbit/s per stream that fill was one of the gateway's largest costs.
import type AVPacket from 'node-media-server/src/core/avpacket.js';
import type { GrowableBytes } from '../lib/growableBytes.ts';
import { FLV_PREVIOUS_TAG_SIZE_BYTES as PREVIOUS_TAG_SIZE, FLV_TAG_HEADER_BYTES as TAG_HEADER, writeTagHeader } from '../media/flvTagLayout.ts';

/** The packet's tag in a buffer of its own. */
export function flvTag(packet: AVPacket): Buffer {
  const tag = Buffer.allocUnsafe(TAG_HEADER + packet.size + PREVIOUS_TAG_SIZE);
  writeFlvTag(tag, 0, packet);
  return tag;
}

/** The packet's tag at `at` of `out` (TAG_HEADER + size + PREVIOUS_TAG_SIZE bytes). */
function writeFlvTag(out: Buffer, at: number, packet: AVPacket): void {
  const size = packet.size;
  writeTagHeader(out, at, packet.codec_type, size, packet.dts);
  packet.data.copy(out, at + TAG_HEADER, 0, size);
  out.writeUInt32BE(TAG_HEADER + size, at + TAG_HEADER + size);
}

/**
 * The packet's tag written at the end of `into`, returned as a view of it (valid until `into` is cleared or
 * grown). A stream's tags go one after another into space that is reused: allocating a buffer per packet
 * (about 40 a second at 3 Mbit/s) costs far more than copying its bytes.
 */
export function appendFlvTag(into: GrowableBytes, packet: AVPacket): Buffer {
  const n = TAG_HEADER + packet.size + PREVIOUS_TAG_SIZE;
  const start = into.length;
  writeFlvTag(into.reserve(n), start, packet);
  into.commit(n);
  return into.view(start, start + n);
}
