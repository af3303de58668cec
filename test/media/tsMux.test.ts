import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { videoElementaryStream } from '../../src/media/mpegts.ts';
import { STREAM_ID_VIDEO, STREAM_TYPE_H264, TS_PACKET, TsWriter } from '../../src/media/tsMux.ts';

describe('TsWriter', () => {
  it('cuts PES packets of every size into whole transport packets that read back to the same payload and PTS', () => {
    const writer = new TsWriter();
    const psi = writer.psi([{ pid: 0x100, streamType: STREAM_TYPE_H264 }], 0x100);
    // every stuffing length (0, 1, 2 … 183 bytes) in the last packet, with and without a PCR / keyframe flag
    for (let size = 0; size < 3 * TS_PACKET; size++) {
      for (const [pcr, randomAccess] of [
        [undefined, false],
        [undefined, true],
        [1234, true],
      ] as const) {
        const payload = Buffer.alloc(size, size & 0xff);
        const pts = 2 ** 33 + 1000 + size; // wraps to 1000 + size
        const pes = writer.pes({ pid: 0x100, streamId: STREAM_ID_VIDEO, pts, dts: pts - 3000, randomAccess, bounded: false, ...(pcr ? { pcr } : {}) }, payload);
        assert.equal(pes.length % TS_PACKET, 0);
        const es = videoElementaryStream(Buffer.concat([psi, pes]));
        assert.equal(es.pesPackets, 1);
        assert.deepEqual(es.pts, [1000 + size]);
        assert.ok(Buffer.from(es.data).equals(payload), `payload of ${size} bytes (pcr ${pcr}, key ${randomAccess})`);
      }
    }
  });

  it('keeps continuity counters per PID, and a PCR-only packet does not move them', () => {
    const writer = new TsWriter();
    const cc = (b: Buffer, at = 0) => b[at + 3]! & 0x0f;
    const a = writer.pes({ pid: 0x100, streamId: STREAM_ID_VIDEO, pts: 0, randomAccess: true, bounded: false }, Buffer.alloc(10));
    const p = writer.pcrOnly(0x100, 0);
    const b = writer.pes({ pid: 0x100, streamId: STREAM_ID_VIDEO, pts: 0, randomAccess: false, bounded: false }, Buffer.alloc(10));
    assert.deepEqual([cc(a), cc(p), cc(b)], [0, 0, 1]);
    assert.equal((p[3]! >> 4) & 3, 2, 'adaptation field only');
  });

  it('moves the PMT version when the streams change', () => {
    const writer = new TsWriter();
    const version = (psi: Buffer) => (psi[TS_PACKET + 10]! >> 1) & 0x1f;
    const v0 = version(writer.psi([{ pid: 0x100, streamType: STREAM_TYPE_H264 }], 0x100));
    const same = version(writer.psi([{ pid: 0x100, streamType: STREAM_TYPE_H264 }], 0x100));
    const more = version(
      writer.psi(
        [
          { pid: 0x100, streamType: STREAM_TYPE_H264 },
          { pid: 0x101, streamType: 0x0f },
        ],
        0x100,
      ),
    );
    assert.deepEqual([v0, same, more], [0, 0, 1]);
  });
});
