import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flvKeyframeTimestamp, flvMediaTimestamp } from '../../src/media/flvTag.ts';
import { KeyframeClock } from '../../src/media/keyframeClock.ts';

/** An FLV tag as node-media-server builds it: 11-byte header, the data, the 4-byte previous tag size. */
function tag(type: number, ts: number, data: number[]): Buffer {
  const b = Buffer.alloc(11 + data.length + 4);
  b[0] = type;
  b.writeUIntBE(data.length, 1, 3);
  b[4] = (ts >> 16) & 0xff;
  b[5] = (ts >> 8) & 0xff;
  b[6] = ts & 0xff;
  b[7] = (ts >>> 24) & 0xff;
  Buffer.from(data).copy(b, 11);
  return b;
}
const avcKey = (ts: number) => tag(9, ts, [0x17, 1, 0, 0, 0, 0x65]);
const avcInter = (ts: number) => tag(9, ts, [0x27, 1, 0, 0, 0, 0x41]);
const avcHeader = (ts: number) => tag(9, ts, [0x17, 0, 0, 0, 0, 1]);
const aac = (ts: number) => tag(8, ts, [0xaf, 1, 0x21]);

describe('FLV tag timing', () => {
  it('keyframes with their timestamp (extended byte included); not inter frames, codec headers, audio or short input', () => {
    assert.equal(flvKeyframeTimestamp(avcKey(2000)), 2000);
    assert.equal(flvKeyframeTimestamp(avcKey(0x01_23_45_67)), 0x01_23_45_67);
    assert.equal(flvKeyframeTimestamp(avcInter(2033)), undefined);
    assert.equal(flvKeyframeTimestamp(avcHeader(0)), undefined);
    assert.equal(flvKeyframeTimestamp(aac(2000)), undefined);
    assert.equal(flvKeyframeTimestamp(Buffer.from('FLV\x01\x05\0\0\0\x09\0\0\0\0', 'latin1')), undefined, 'the FLV file header');
    assert.equal(flvKeyframeTimestamp(Buffer.alloc(5, 9)), undefined);
    // enhanced RTMP: a coded frame is a keyframe, its sequence start is not
    assert.equal(flvKeyframeTimestamp(tag(9, 40, [0x91, 0x68, 0x76, 0x63, 0x31])), 40);
    assert.equal(flvKeyframeTimestamp(tag(9, 0, [0x90, 0x68, 0x76, 0x63, 0x31])), undefined);
    assert.equal(flvMediaTimestamp(aac(23)), 23);
    assert.equal(flvMediaTimestamp(Buffer.from('FLV\x01\x05\0\0\0\x09\0\0\0\0', 'latin1')), undefined);
  });

  it("matches a segment's listed end to the keyframe that closed it, relative to the stream's first media tag", () => {
    const clock = new KeyframeClock();
    clock.onTag(Buffer.from('FLV\x01\x05\0\0\0\x09\0\0\0\0', 'latin1'), 0);
    clock.onTag(avcHeader(5000), 1);
    clock.onTag(aac(5000), 2); // the publisher's clock starts at 5 s; ffmpeg's timeline at 0
    clock.onTag(avcKey(5000), 3);
    clock.onWrite(4);
    clock.onTag(avcInter(5033), 10);
    clock.onTag(avcKey(7000), 2003);
    clock.onTag(avcKey(9000), 4003);
    clock.onWrite(4005);
    assert.equal(clock.closing(900), undefined, 'no keyframe near a bogus end');
    const first = clock.closing(2067); // B-frames: the listed end is the keyframe's pts, a little after its dts
    assert.deepEqual(first, { relMs: 2000, receivedAt: 2003, writtenAt: 4005 });
    assert.equal(clock.closing(2000), undefined, 'matched keyframes are forgotten');
    assert.equal(clock.closing(4000)?.receivedAt, 4003);
  });

  it('remembers a bounded number of keyframes', () => {
    const clock = new KeyframeClock();
    for (let i = 0; i < 1000; i++) clock.onTag(avcKey(i * 1000), i);
    assert.equal(clock.closing(0), undefined, 'the oldest were dropped');
    assert.equal(clock.closing(999_000)?.receivedAt, 999);
  });
});
