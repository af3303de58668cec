import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FLV_TAG_HEADER_BYTES, FLV_VIDEO, tagDataSize, tagTimestamp, tagType, writeTagHeader } from '../../src/media/flvTagLayout.ts';

describe('FLV tag layout', () => {
  it('writes the header byte for byte as the FLV specification lays it out', () => {
    const out = Buffer.alloc(2 + FLV_TAG_HEADER_BYTES, 0xee);
    // a video tag of 0x012345 bytes at 0x89abcdef ms: the timestamp's top byte goes last
    writeTagHeader(out, 2, FLV_VIDEO, 0x012345, 0x89abcdef);
    assert.equal(out.toString('hex'), 'eeee' + '09' + '012345' + 'abcdef' + '89' + '000000');
  });

  it('reads back type, body size and timestamp, past 2^24 and 2^31 ms too', () => {
    for (const [size, ts] of [
      [0, 0],
      [0xffffff, 0xffffff],
      [1, 0x01000000],
      [750_000, 0xfffffffe],
    ] as const) {
      const tag = Buffer.alloc(FLV_TAG_HEADER_BYTES);
      writeTagHeader(tag, 0, 8 | 0x20, size, ts);
      assert.deepEqual([tagType(tag), tagDataSize(tag), tagTimestamp(tag)], [8, size, ts], `${size} bytes at ${ts} ms`);
    }
  });
});
