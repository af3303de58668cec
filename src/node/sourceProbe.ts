// What the gateway knows of a source segment before paying for it: its size and frame rate (for the
// billing check) and whether it holds decodable-looking video at all. An orchestrator that answers
// "Invalid argument" for a segment this probe finds valid is blamed, not the publisher.
import type { SourceShape } from '../media/expectedOutput.ts';
import { bitstreamShape } from '../media/pixels.ts';
import { probeBuffer } from '../media/probe.ts';

export interface SourceProbe {
  /** the segment has a video stream with a size */
  valid: boolean;
  shape?: SourceShape;
  /** why it is not valid */
  reason?: string;
}

/** Header-level ffprobe of the segment bytes (no decoding), 5 s at most. */
export async function probeSourceSegment(data: Buffer): Promise<SourceProbe> {
  try {
    const m = await probeBuffer(data, 5000);
    if (!m.videoCodec || m.width <= 0 || m.height <= 0) return { valid: false, reason: 'no video stream with a size' };
    return { valid: true, shape: { width: m.width, height: m.height, ...(m.frameRate > 0 ? { fps: m.frameRate } : {}) } };
  } catch (err) {
    return { valid: false, reason: (err as Error).message };
  }
}

/**
 * The source's shape for the billing check without a process when the segment is MPEG-TS H.264 (read
 * from the SPS and PES timestamps); undefined otherwise, and the caller probes with ffprobe.
 */
export function quickSourceShape(data: Buffer): SourceShape | undefined {
  const s = bitstreamShape(data);
  return s && { width: s.width, height: s.height, ...(s.fps ? { fps: s.fps } : {}) };
}
