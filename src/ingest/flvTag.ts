// One FLV tag of an RTMP media packet, for the in-process segmenter input. The same bytes as
// node-media-server's Flv.createMessage, built without zero-filling a buffer that is overwritten at once:
// at 3 Mbit/s per stream that fill was one of the gateway's largest costs.
import type AVPacket from 'node-media-server/src/core/avpacket.js';

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

const SLAB = 256 << 10;
/** Tags larger than this (keyframes, mostly) get a buffer of their own, so slabs are not left mostly empty. */
const OWN_BUFFER_ABOVE = SLAB >> 2;

/**
 * One stream's tags, carved out of 256 KiB slabs: a buffer outside Node's small-buffer pool costs far more
 * to allocate than its bytes cost to copy, and a 3 Mbit/s stream sends about 40 packets a second. A slab
 * is freed when no tag carved from it is referenced any more (the GOP kept for late players holds ~2 s).
 */
export class FlvTagSlabs {
  #slab = Buffer.allocUnsafe(0);
  #used = 0;

  tag(packet: AVPacket): Buffer {
    const n = TAG_HEADER + packet.size + PREVIOUS_TAG_SIZE;
    if (n > OWN_BUFFER_ABOVE) return flvTag(packet);
    if (this.#used + n > this.#slab.length) {
      this.#slab = Buffer.allocUnsafe(SLAB);
      this.#used = 0;
    }
    const tag = this.#slab.subarray(this.#used, this.#used + n);
    this.#used += n;
    writeFlvTag(tag, packet);
    return tag;
  }
}
