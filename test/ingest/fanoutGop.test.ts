import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import AVPacket from 'node-media-server/src/core/avpacket.js';
import { StreamFanout } from '../../src/ingest/nodeMediaServer.ts';

/** A video packet as the RTMP parser hands it over: flags 2 header, 3 keyframe, 4 other frame. */
function video(flags: number, size: number, dts: number): AVPacket {
  const data = Buffer.alloc(size, 0x55);
  data[0] = flags === 4 ? 0x27 : 0x17; // frame type + AVC codec id
  data[1] = flags === 2 ? 0 : 1;
  return Object.assign(new AVPacket(), { codec_id: 7, codec_type: 9, flags, dts, pts: dts, size, data });
}

/** What an RTMP player joining now is sent, in bytes. */
function bytesToLateJoiner(fanout: StreamFanout): number {
  let bytes = 0;
  fanout.addPlayer({ ip: 'test:1', send: (b) => (bytes += b.length), close: () => {} });
  return bytes;
}

describe('RTMP fan-out GOP for late players (kept while nobody plays)', () => {
  it('replays the GOP from its keyframe to the first player', () => {
    const fanout = new StreamFanout(`/stream/gop${Date.now()}`, { ip: 'pub:1', send: () => {}, close: () => {} });
    fanout.send(video(2, 40, 0));
    fanout.send(video(4, 100_000, 0)); // before any keyframe: not kept
    fanout.send(video(3, 200_000, 33));
    for (let i = 0; i < 3; i++) fanout.send(video(4, 100_000, 66 + 33 * i));
    const bytes = bytesToLateJoiner(fanout);
    assert.ok(bytes >= 500_000 && bytes < 600_000, `the keyframe and three frames after it (${bytes} bytes)`);
  });

  it('drops a GOP that a publisher without keyframes grows past 32 MiB', () => {
    const fanout = new StreamFanout(`/stream/gop${Date.now()}x`, { ip: 'pub:1', send: () => {}, close: () => {} });
    fanout.send(video(2, 40, 0));
    fanout.send(video(3, 1 << 20, 33));
    for (let i = 0; i < 40; i++) fanout.send(video(4, 1 << 20, 66 + 33 * i));
    const bytes = bytesToLateJoiner(fanout);
    assert.ok(bytes < 1 << 20, `only the codec header is sent (${bytes} bytes)`);
  });
});
