// One FLV tag of an RTMP media packet, for the in-process segmenter input. The same bytes as
// node-media-server's Flv.createMessage, built without zero-filling a buffer that is overwritten at once:
// at 3 Mbit/s per stream that fill was one of the gateway's largest costs.
import type AVPacket from 'node-media-server/src/core/avpacket.js';

const TAG_HEADER = 11;
const PREVIOUS_TAG_SIZE = 4;

export function flvTag(packet: AVPacket): Buffer {
  const size = packet.size;
  const tag = Buffer.allocUnsafe(TAG_HEADER + size + PREVIOUS_TAG_SIZE);
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
  return tag;
}
