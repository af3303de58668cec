// What a pushed segment holds: ffprobe on its bytes before it costs anything, and whether its format
// changed since the stream's previous segment (the orchestrator must then re-initialise its session).
import { HttpError } from '../lib/errors.ts';
import { probeBuffer, type MediaInfo } from '../media/probe.ts';

/** Video codecs an orchestrator can decode (ffprobe names). */
const KNOWN_VIDEO_CODECS = new Set(['h264', 'hevc', 'vp8', 'vp9']);

/**
 * Probes a pushed segment. Throws HttpError 422 when ffprobe cannot read it or its video codec is one no
 * orchestrator decodes; a segment without video passes (videoCodec ''), as in go-livepeer.
 */
export async function probePushSegment(body: Buffer, url: string): Promise<MediaInfo> {
  let media: MediaInfo;
  try {
    media = await probeBuffer(body);
  } catch (err) {
    throw new HttpError(422, `Error getting codec info url=${url}`, { cause: err });
  }
  if (media.videoCodec !== '' && !KNOWN_VIDEO_CODECS.has(media.videoCodec)) throw new HttpError(422, `Unknown input stream codec=${media.videoCodec}`);
  return media;
}

/** Same codec, pixel format and size: the orchestrator's session can go on as it is. */
export function sameMediaFormat(a: MediaInfo, b: MediaInfo): boolean {
  return a.videoCodec === b.videoCodec && a.pixelFormat === b.pixelFormat && a.width === b.width && a.height === b.height;
}
