// What a rendition really holds, in pixels: counted from the bitstream (MPEG-TS → H.264 coded pictures
// and SPS frame sizes) in-process, and, when asked, also by a full decode (ffprobe) that must agree.
// The count reads what the decoder would show; the decode additionally proves the pictures decode.
import { codedPictures } from './h264.ts';
import { STREAM_TYPE, videoElementaryStream } from './mpegts.ts';
import { decodedPixels } from './probe.ts';

export class PixelCountError extends Error {
  override name = 'PixelCountError';
}

/** Pixels of an MPEG-TS H.264 segment from its bitstream; undefined for other formats (MP4, HEVC, …). */
export function bitstreamPixels(data: Uint8Array): bigint | undefined {
  if (data.length < 188 || data[0] !== 0x47) return undefined; // not MPEG-TS (fragmented MP4 starts with a box)
  const es = videoElementaryStream(data);
  if (es.streamType !== STREAM_TYPE.h264) return undefined;
  const pictures = codedPictures(es.data);
  if (pictures.frames === 0) throw new PixelCountError('no coded pictures in the video stream');
  return pictures.pixels;
}

/**
 * Pixels of a rendition: from the bitstream, with a full decode too when `decode` is set (or when the
 * format cannot be read in-process). Throws when the two disagree or when neither can read it.
 */
export async function renditionPixels(data: Uint8Array, opts: { decode: boolean }): Promise<bigint> {
  const counted = bitstreamPixels(data);
  if (counted !== undefined && !opts.decode) return counted;
  const decoded = await decodedPixels(data);
  if (counted !== undefined && counted !== decoded) {
    throw new PixelCountError(`the bitstream holds ${counted} pixels but decodes to ${decoded}`);
  }
  return decoded;
}
