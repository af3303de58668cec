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

/** An AAC frame as the RTMP parser hands it over. */
function audio(size: number, dts: number): AVPacket {
  const data = Buffer.alloc(size, 0x21);
  data[0] = 0xaf; // AAC, 44.1 kHz, 16-bit, stereo
  data[1] = 1; // a raw frame, not the header
  return Object.assign(new AVPacket(), { codec_id: 10, codec_type: 8, flags: 1, dts, pts: dts, size, data });
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

  it('replays the same packets a player there from the start was sent: timestamps past 2^24 ms, composition times, audio', () => {
    const gop = [video(3, 5000, 2 ** 24 + 7), audio(300, 2 ** 24 + 20), video(4, 900, 2 ** 24 + 40), audio(300, 2 ** 24 + 43)];
    // a composition time (pts − dts, 3 bytes after the AVC packet type) on the frames: B-frames reordered
    for (const p of gop.filter((p) => p.codec_type === 9)) {
      p.data.writeUIntBE(66, 2, 3);
      p.pts = p.dts + 66;
    }
    const streamOf = (playerFirst: boolean): Buffer => {
      const fanout = new StreamFanout(`/stream/same${Date.now()}${playerFirst}`, { ip: 'pub:1', send: () => {}, close: () => {} });
      const sent: Buffer[] = [];
      const join = () => fanout.addPlayer({ ip: 'test:1', send: (b) => sent.push(Buffer.from(b)), close: () => {} });
      fanout.send(video(2, 40, 0));
      if (playerFirst) join();
      for (const p of gop) fanout.send(p);
      if (!playerFirst) join();
      return Buffer.concat(sent);
    };
    const live = streamOf(true);
    assert.ok(live.length > 6500, 'the player got the GOP');
    assert.deepEqual(streamOf(false), live);
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
