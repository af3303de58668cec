import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { videoElementaryStream } from '../../src/media/mpegts.ts';
import { GrowableBytes } from '../../src/lib/growableBytes.ts';
import { type PesOptions, STREAM_ID_VIDEO, STREAM_TYPE_H264, TS_PACKET, type TsElementaryStream, TsWriter } from '../../src/media/tsMux.ts';

/** What each writer call adds, as a buffer of its own. */
const written = (write: (into: GrowableBytes) => void): Buffer => {
  const into = new GrowableBytes(TS_PACKET);
  write(into);
  return into.copyOut();
};
const psiOf = (w: TsWriter, streams: TsElementaryStream[], pcrPid: number) => written((g) => w.writePsi(g, streams, pcrPid));
const pesOf = (w: TsWriter, o: PesOptions, payload: Buffer) => written((g) => w.writePes(g, o, payload));
const pcrOnlyOf = (w: TsWriter, pid: number, pcr: number) => written((g) => w.writePcrOnly(g, pid, pcr));

describe('TsWriter', () => {
  it('cuts PES packets of every size into whole transport packets that read back to the same payload and PTS', () => {
    const writer = new TsWriter();
    const psi = psiOf(writer, [{ pid: 0x100, streamType: STREAM_TYPE_H264 }], 0x100);
    // every stuffing length (0, 1, 2 … 183 bytes) in the last packet, with and without a PCR / keyframe flag
    for (let size = 0; size < 3 * TS_PACKET; size++) {
      for (const [pcr, randomAccess] of [
        [undefined, false],
        [undefined, true],
        [1234, true],
      ] as const) {
        const payload = Buffer.alloc(size, size & 0xff);
        const pts = 2 ** 33 + 1000 + size; // wraps to 1000 + size
        const pes = pesOf(
          writer,
          { pid: 0x100, streamId: STREAM_ID_VIDEO, pts, dts: pts - 3000, randomAccess, bounded: false, ...(pcr ? { pcr } : {}) },
          payload,
        );
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
    const a = pesOf(writer, { pid: 0x100, streamId: STREAM_ID_VIDEO, pts: 0, randomAccess: true, bounded: false }, Buffer.alloc(10));
    const p = pcrOnlyOf(writer, 0x100, 0);
    const b = pesOf(writer, { pid: 0x100, streamId: STREAM_ID_VIDEO, pts: 0, randomAccess: false, bounded: false }, Buffer.alloc(10));
    assert.deepEqual([cc(a), cc(p), cc(b)], [0, 0, 1]);
    assert.equal((p[3]! >> 4) & 3, 2, 'adaptation field only');
  });

  it('moves the PMT version when the streams change', () => {
    const writer = new TsWriter();
    const version = (psi: Buffer) => (psi[TS_PACKET + 10]! >> 1) & 0x1f;
    const v0 = version(psiOf(writer, [{ pid: 0x100, streamType: STREAM_TYPE_H264 }], 0x100));
    const same = version(psiOf(writer, [{ pid: 0x100, streamType: STREAM_TYPE_H264 }], 0x100));
    const more = version(
      psiOf(
        writer,
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
