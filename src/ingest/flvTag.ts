// One FLV tag of an RTMP media packet, for the in-process segmenter input. The same bytes as
// node-media-server's Flv.createMessage, built without zero-filling a buffer that is overwritten at once:
// at 3 Mbit/s per stream that fill was one of the gateway's largest costs.
import type AVPacket from 'node-media-server/src/core/avpacket.js';
import type { GrowableBytes } from '../lib/growableBytes.ts';

const TAG_HEADER = 11;
const PREVIOUS_TAG_SIZE = 4;

/** The packet's tag in a buffer of its own. */
export function flvTag(packet: AVPacket): Buffer {
  const tag = Buffer.allocUnsafe(TAG_HEADER + packet.size + PREVIOUS_TAG_SIZE);
  writeFlvTag(tag, packet);
  return tag;
}

/** The packet's tag over the whole of `tag` (TAG_HEADER + size + PREVIOUS_TAG_SIZE bytes). */
function writeFlvTag(tag: Buffer, packet: AVPacket): void {
  const size = packet.size;
  tag[0] = packet.codec_type;
  tag.writeUIntBE(size, 1, 3);
  // timestamp: lower 24 bits, then the extended upper 8 bits; then a 24-bit stream id, always 0
  tag[4] = (packet.dts >> 16) & 0xff;
  tag[5] = (packet.dts >> 8) & 0xff;
  tag[6] = packet.dts & 0xff;
  tag[7] = (packet.dts >> 24) & 0xff;
  tag[8] = 0;
  tag[9] = 0;
  tag[10] = 0;
  packet.data.copy(tag, TAG_HEADER, 0, size);
  tag.writeUInt32BE(TAG_HEADER + size, TAG_HEADER + size);
}

/**
 * The packet's tag written at the end of `into`, returned as a view of it (valid until `into` is cleared or
 * grown). A stream's tags go one after another into space that is reused: allocating a buffer per packet
 * (about 40 a second at 3 Mbit/s) costs far more than copying its bytes.
 */
export function appendFlvTag(into: GrowableBytes, packet: AVPacket): Buffer {
  const n = TAG_HEADER + packet.size + PREVIOUS_TAG_SIZE;
  const start = into.length;
  writeFlvTag(into.reserve(n).subarray(start, start + n), packet);
  into.commit(n);
  return into.view(start, start + n);
}
