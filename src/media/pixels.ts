// What a rendition really holds, in pixels: counted from the bitstream (MPEG-TS → H.264 coded pictures
// and SPS frame sizes) in-process, and, when asked, also by a full decode (ffprobe) that must agree.
// The count reads what the decoder would show; the decode additionally proves the pictures decode.
import { GrowableBytes } from '../lib/growableBytes.ts';
import { type CodedPictures, codedPictures } from './h264.ts';
import { STREAM_TYPE, videoElementaryStream } from './mpegts.ts';
import { decodedPixelsEach } from './probe.ts';

export class PixelCountError extends Error {
  override name = 'PixelCountError';
}

type H264Read = { pictures: CodedPictures; pts: number[] } | { error: unknown } | undefined;

// A rendition is read twice (its size for -localVerify, its pixels for billing) and both reads are the
// same walk over the bitstream: keep the result for as long as the bytes live.
const reads = new WeakMap<Uint8Array, H264Read>();

// The elementary stream is only walked (codedPictures keeps numbers, no bytes), so one buffer serves every
// read: a new one per segment and rendition was ~5 MB/s of array buffers at 20 streams, and V8 runs its full
// collections by the array-buffer bytes allocated. It grows to the largest stream read (segments and
// renditions are size-capped before they are read).
const esScratch = new GrowableBytes(0);

/** The H.264 pictures and PES timestamps of an MPEG-TS segment; undefined for other formats; the parse error as a value. */
function readH264(data: Uint8Array): H264Read {
  if (data.length < 188 || data[0] !== 0x47) return undefined; // not MPEG-TS (fragmented MP4 starts with a box)
  if (reads.has(data)) return reads.get(data);
  let read: H264Read;
  try {
    const es = videoElementaryStream(data, esScratch);
    read = es.streamType === STREAM_TYPE.h264 ? { pictures: codedPictures(es.data), pts: es.pts } : undefined;
  } catch (error) {
    read = { error };
  }
  reads.set(data, read);
  return read;
}

/** Pixels of an MPEG-TS H.264 segment from its bitstream; undefined for other formats (MP4, HEVC, …). */
export function bitstreamPixels(data: Uint8Array): bigint | undefined {
  const read = readH264(data);
  if (!read) return undefined;
  if ('error' in read) throw read.error;
  if (read.pictures.frames === 0) throw new PixelCountError('no coded pictures in the video stream');
  return read.pictures.pixels;
}

/** Frame size, coded pictures and frame rate of an MPEG-TS H.264 segment from its bitstream. */
export interface BitstreamShape {
  width: number;
  height: number;
  frames: number;
  /** from the PES timestamps; undefined with fewer than two of them */
  fps?: number;
}

/**
 * The shape of an MPEG-TS H.264 segment read in-process (no process spawned); undefined for other
 * formats or a stream whose headers cannot be read, which the caller then hands to ffprobe.
 */
export function bitstreamShape(data: Uint8Array): BitstreamShape | undefined {
  const read = readH264(data);
  if (!read || 'error' in read) return undefined;
  const { pictures, pts } = read;
  if (pictures.frames === 0 || pictures.width <= 0 || pictures.height <= 0) return undefined;
  const shape: BitstreamShape = { width: pictures.width, height: pictures.height, frames: pictures.frames };
  if (pts.length >= 2) {
    // one picture per PES packet (as ffmpeg muxes): n timestamps span n − 1 frame intervals
    let lo = pts[0]!;
    let hi = lo;
    for (const t of pts) {
      if (t < lo) lo = t;
      if (t > hi) hi = t;
    }
    const span = hi - lo;
    if (span > 0) shape.fps = Math.round(((pts.length - 1) * 90_000 * 1000) / span) / 1000;
  }
  return shape;
}

/**
 * Pixels of a segment's renditions (named for errors): from the bitstream, with a full decode too when
 * `decode` is set (or when the format cannot be read in-process), one process for all that need it. Throws
 * PixelCountError when the two disagree or the bitstream is broken, naming the rendition, or ProbeError
 * when the decode fails.
 */
export async function renditionsPixels(datas: readonly Uint8Array[], opts: { decode: boolean; names: readonly string[] }): Promise<bigint[]> {
  const name = (i: number) => opts.names[i] ?? String(i);
  const counted = datas.map((d, i) => {
    try {
      return bitstreamPixels(d);
    } catch (err) {
      throw new PixelCountError(`rendition ${name(i)} cannot be read: ${(err as Error).message}`, { cause: err });
    }
  });
  const pixels: Array<bigint | undefined> = [...counted];
  const toDecode = datas.flatMap((_, i) => (opts.decode || counted[i] === undefined ? [i] : []));
  const decoded = await decodedPixelsEach(toDecode.map((i) => datas[i]!));
  for (const [k, i] of toDecode.entries()) {
    const d = decoded[k]!;
    if (counted[i] !== undefined && counted[i] !== d) {
      throw new PixelCountError(`rendition ${name(i)}: the bitstream holds ${counted[i]} pixels but decodes to ${d}`);
    }
    pixels[i] = d;
  }
  return pixels as bigint[];
}
