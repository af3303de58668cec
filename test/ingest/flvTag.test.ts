// The segmenter's FLV tags are byte for byte node-media-server's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import AVPacket from 'node-media-server/src/core/avpacket.js';
import Flv from 'node-media-server/src/protocol/flv.js';
import { appendFlvTag, flvTag } from '../../src/ingest/flvTag.ts';
import { GrowableBytes } from '../../src/lib/growableBytes.ts';

function packet(codecType: number, dts: number, data: Buffer): AVPacket {
  const p = new AVPacket();
  p.codec_type = codecType;
  p.dts = dts;
  p.pts = dts;
  p.data = data;
  p.size = data.length;
  return p;
}

describe('flvTag', () => {
  it('matches Flv.createMessage for audio, video and data packets, small and large, any timestamp', () => {
    const cases = [
      packet(8, 0, Buffer.from([0xaf, 0x01, 0x21])),
      packet(9, 33, Buffer.alloc(12_000, 0x5a)),
      packet(9, 0x01_23_45_67, Buffer.alloc(300_000, 0xa5)),
      packet(18, 0xff_ff_ff, Buffer.from('onMetaData')),
      packet(9, 40, Buffer.alloc(0)),
    ];
    for (const p of cases) {
      assert.deepEqual(flvTag(p), Flv.createMessage(p), `codec ${p.codec_type} dts ${p.dts} size ${p.size}`);
    }
  });

  it('copies the packet: later changes to the packet do not reach a tag already sent', () => {
    const data = Buffer.from([1, 2, 3]);
    const tag = flvTag(packet(9, 1, data));
    data.fill(0);
    assert.deepEqual([...tag.subarray(11, 14)], [1, 2, 3]);
  });

  it('appends tags one after another into shared space, none overwriting another, byte for byte as Flv.createMessage', () => {
    const space = new GrowableBytes(4096);
    const sent: Array<{ tag: Buffer; expected: Buffer }> = [];
    // enough packets to grow the space several times, of sizes that leave every kind of remainder
    for (let i = 0; i < 400; i++) {
      const data = Buffer.alloc(i === 200 ? 150_000 : 1 + ((i * 7919) % 9000), i & 0xff);
      const p = packet(i % 3 === 0 ? 8 : 9, i * 33, data);
      sent.push({ tag: appendFlvTag(space, p), expected: Flv.createMessage(p) });
      data.fill(0xee); // the parser reuses its buffer for the next packet
    }
    for (const [i, { tag, expected }] of sent.entries()) assert.ok(tag.equals(expected), `tag ${i} changed after it was sent`);
    assert.equal(
      space.length,
      sent.reduce((n, s) => n + s.tag.length, 0),
    );
    assert.ok(space.view().equals(Buffer.concat(sent.map((s) => s.expected))), 'the space holds the tags in order');
  });
});
