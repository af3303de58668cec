// What a rendition of a profile should look like, computed the way go-livepeer's transcoder makes it:
// the profile's box is turned to the source's orientation (width and height swap for a portrait
// source), the long side of the box is kept and the other side follows the source's aspect ratio,
// rounded to an even number as ffmpeg's `scale=-2` does; fps 0 keeps the source's frame rate.
// The gateway uses it to bound what an orchestrator may bill and send (docs/payments.md, billing).

export interface ProfileShape {
  width: number;
  height: number;
  /** numerator; 0 = the source's rate */
  fps: number;
  /** 0 = integer fps */
  fpsDen: number;
  /** bits per second; 0 = quality-based (CRF) */
  bitrate?: number;
}

export interface SourceShape {
  width: number;
  height: number;
  /** frames per second of the source, when known */
  fps?: number;
}

/** round(n / d) with halves away from zero, for positive integers (ffmpeg's av_rescale rounding). */
function roundDiv(n: bigint, d: bigint): bigint {
  return (2n * n + d) / (2n * d);
}

/** The output size of `profile` for a `source` of the given size. */
export function expectedOutputSize(
  profile: Pick<ProfileShape, 'width' | 'height'>,
  source: Pick<SourceShape, 'width' | 'height'>,
): { width: number; height: number } {
  const long = BigInt(Math.max(profile.width, profile.height));
  const sw = BigInt(source.width);
  const sh = BigInt(source.height);
  if (sw <= 0n || sh <= 0n) return { width: profile.width, height: profile.height };
  if (sw >= sh) return { width: Number(long), height: Number(roundDiv(long * sh, sw * 2n) * 2n) };
  return { width: Number(roundDiv(long * sw, sh * 2n) * 2n), height: Number(long) };
}

/** A frame rate we assume when the profile keeps the source rate and the source's rate is unknown. */
export const ASSUMED_MAX_SOURCE_FPS = 60;

/** Output frames per second of `profile` (the source's rate for fps 0). */
export function outputFps(profile: Pick<ProfileShape, 'fps' | 'fpsDen'>, source?: Pick<SourceShape, 'fps'>): number {
  if (profile.fps > 0) return profile.fps / (profile.fpsDen > 0 ? profile.fpsDen : 1);
  return source?.fps && source.fps > 0 ? source.fps : ASSUMED_MAX_SOURCE_FPS;
}

/**
 * Billing tolerance: encoders and the fps filter may emit a frame or two more than duration × fps
 * (a segment's duration is measured on packet timestamps), so a rendition may bill 10 % and two frames
 * above the exact figure. More than that is refused as over-billing.
 */
export const BILLING_SLACK_PERCENT = 10n;
export const BILLING_SLACK_FRAMES = 2;

/** The most pixels a rendition of `profile` may bill for a segment of `durationMs` from `source`. */
export function maxBilledPixels(profile: ProfileShape, source: SourceShape, durationMs: number): bigint {
  const { width, height } = expectedOutputSize(profile, source);
  const frames = Math.ceil((Math.max(0, durationMs) / 1000) * outputFps(profile, source)) + BILLING_SLACK_FRAMES;
  const exact = BigInt(width) * BigInt(height) * BigInt(frames);
  return exact + (exact * BILLING_SLACK_PERCENT) / 100n;
}

/**
 * The largest rendition accepted, bytes: 4 × the profile's bitrate (encoder overshoot on short segments,
 * MPEG-TS overhead), plus 1 Mbit/s for audio copied from the source, plus 1 MiB of fixed overhead. A
 * quality-based profile (bitrate 0) is given 0.5 bit per output pixel at 60 fps.
 */
export function renditionByteCap(profile: ProfileShape, durationMs: number): number {
  const seconds = Math.max(1, durationMs / 1000);
  const bitrate = profile.bitrate && profile.bitrate > 0 ? profile.bitrate : profile.width * profile.height * 60 * 0.5;
  return Math.ceil((seconds * (bitrate * 4 + 1_000_000)) / 8) + 1024 * 1024;
}
