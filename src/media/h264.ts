// H.264 Annex B bitstream reading without a decoder: the coded pictures in it and the frame size of
// each (from the sequence parameter set, cropping applied), so a rendition's pixels can be counted in
// a few milliseconds instead of a decode.

export class H264Error extends Error {
  override name = 'H264Error';
}

const START = Buffer.from([0, 0, 1]);
/** An SPS is a few dozen bytes; more than this is not one we should parse. */
const MAX_SPS_BYTES = 1024;

/** RBSP of a NAL unit: the emulation-prevention bytes (00 00 03) removed. */
export function rbsp(nal: Uint8Array): Uint8Array {
  const out = new Uint8Array(nal.length);
  let n = 0;
  let zeros = 0;
  for (const b of nal) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

class BitReader {
  #pos = 0;
  constructor(private readonly bytes: Uint8Array) {}
  bit(): number {
    const byte = this.bytes[this.#pos >> 3];
    if (byte === undefined) throw new H264Error('SPS ends too early');
    const b = (byte >> (7 - (this.#pos & 7))) & 1;
    this.#pos++;
    return b;
  }
  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) if (++zeros > 31) throw new H264Error('Exp-Golomb code too long');
    return 2 ** zeros - 1 + this.bits(zeros);
  }
  se(): number {
    const k = this.ue();
    return k % 2 ? (k + 1) / 2 : -k / 2;
  }
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** Display width and height of a sequence parameter set (NAL header byte included). */
export function spsFrameSize(nal: Uint8Array): { width: number; height: number } {
  if (nal.length > MAX_SPS_BYTES) throw new H264Error('SPS too large');
  const r = new BitReader(rbsp(nal.subarray(1)));
  const profile = r.bits(8);
  r.bits(16); // constraint flags, level
  r.ue(); // seq_parameter_set_id
  let chromaFormat = 1;
  let separatePlanes = 0;
  if (HIGH_PROFILES.has(profile)) {
    chromaFormat = r.ue();
    if (chromaFormat > 3) throw new H264Error('bad chroma_format_idc');
    if (chromaFormat === 3) separatePlanes = r.bit();
    r.ue(); // bit depth luma
    r.ue(); // bit depth chroma
    r.bit(); // qpprime_y_zero_transform_bypass
    if (r.bit()) {
      for (let i = 0; i < (chromaFormat === 3 ? 12 : 8); i++) if (r.bit()) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }
  r.ue(); // log2_max_frame_num_minus4
  const pocType = r.ue();
  if (pocType === 0) r.ue();
  else if (pocType === 1) {
    r.bit();
    r.se();
    r.se();
    const cycle = r.ue();
    if (cycle > 255) throw new H264Error('bad num_ref_frames_in_pic_order_cnt_cycle');
    for (let i = 0; i < cycle; i++) r.se();
  } else if (pocType !== 2) throw new H264Error('bad pic_order_cnt_type');
  r.ue(); // max_num_ref_frames
  r.bit(); // gaps_in_frame_num_value_allowed
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.bit();
  if (!frameMbsOnly) r.bit(); // mb_adaptive_frame_field
  r.bit(); // direct_8x8_inference
  let width = widthMbs * 16;
  let height = (2 - frameMbsOnly) * heightMapUnits * 16;
  if (r.bit()) {
    const [left, right, top, bottom] = [r.ue(), r.ue(), r.ue(), r.ue()];
    const mono = chromaFormat === 0 || separatePlanes === 1;
    const cropX = mono ? 1 : chromaFormat === 3 ? 1 : 2;
    const cropY = (mono ? 1 : chromaFormat === 1 ? 2 : 1) * (2 - frameMbsOnly);
    width -= cropX * (left + right);
    height -= cropY * (top + bottom);
  }
  if (width <= 0 || height <= 0 || width > 16_384 || height > 16_384) throw new H264Error(`implausible frame size ${width}x${height}`);
  return { width, height };
}

export interface CodedPictures {
  frames: number;
  /** Σ width × height over the frames, each at the size of the SPS in force */
  pixels: bigint;
  width: number;
  height: number;
}

/**
 * Coded pictures of an H.264 Annex B stream: one per slice that starts a picture (first_mb_in_slice 0).
 * Progressive streams only count right; interlaced field pairs count twice (renditions are progressive).
 */
export function codedPictures(es: Uint8Array): CodedPictures {
  const buf = Buffer.from(es.buffer, es.byteOffset, es.length);
  let frames = 0;
  let pixels = 0n;
  let size: { width: number; height: number } | undefined;
  let framePixels = 0n;
  let at = buf.indexOf(START);
  while (at >= 0) {
    const start = at + 3;
    const next = buf.indexOf(START, start);
    // trailing zero bytes before the next start code belong to it (4-byte start codes, zero stuffing)
    let end = next < 0 ? buf.length : next;
    while (end > start && buf[end - 1] === 0) end--;
    if (end > start) {
      const type = buf[start]! & 0x1f;
      if (type === 7) {
        size = spsFrameSize(buf.subarray(start, end));
        framePixels = BigInt(size.width) * BigInt(size.height);
      } else if ((type === 1 || type === 5) && end > start + 1 && (buf[start + 1]! & 0x80) !== 0) {
        if (!size) throw new H264Error('a picture comes before any sequence parameter set');
        frames++;
        pixels += framePixels;
      }
    }
    at = next;
  }
  if (!size) throw new H264Error('no sequence parameter set');
  return { frames, pixels, width: size.width, height: size.height };
}
