// Video profiles (renditions) a broadcaster asks orchestrators for: the named
// presets, the JSON profile objects of -transcodingOptions files, auth webhook
// answers and the Livepeer-Transcode-Configuration push header.
import { unsafeNameReason } from './safeName.ts';
import { readFileSync, statSync } from 'node:fs';
import { GatewayError } from '../lib/errors.ts';

/** Container of a rendition. Presets follow the input: RTMP and `.ts` push give MPEG-TS, `.mp4` push gives MP4. */
export type VideoFormat = 'mpegts' | 'mp4';

/** H.264 encoder profile, numbered as the wire enum `VideoProfile.Profile`. */
export const H264Profile = {
  EncoderDefault: 0,
  H264Baseline: 1,
  H264Main: 2,
  H264High: 3,
  H264ConstrainedHigh: 4,
} as const;
export type H264ProfileId = (typeof H264Profile)[keyof typeof H264Profile];

/** Output codec, numbered as the wire enum `VideoProfile.VideoCodec`. */
export const VideoCodec = { H264: 0, H265: 1, VP8: 2, VP9: 3 } as const;
export type VideoCodecId = (typeof VideoCodec)[keyof typeof VideoCodec];

/** GOP value meaning "every frame is a keyframe". */
export const GOP_INTRA_ONLY = -1;

export interface VideoProfile {
  /** Rendition name; used in playlist and segment URLs. Never empty. */
  readonly name: string;
  readonly width: number;
  readonly height: number;
  /** Bits per second ("600k" in go-livepeer = 600000 here and on the wire). */
  readonly bitrate: number;
  /** Frame-rate numerator; 0 keeps the source rate. */
  readonly fps: number;
  /** Frame-rate denominator; 0 means an integer rate. */
  readonly fpsDen: number;
  readonly format: VideoFormat;
  readonly profile: H264ProfileId;
  /** GOP length in ms; 0 = encoder default, -1 = intra only. */
  readonly gopMs: number;
  readonly encoder: VideoCodecId;
  /** lpms values: 0 = 8-bit, 2 = 10-bit, 4 = 12-bit, 8 = 16-bit. */
  readonly colorDepth: number;
  /** 0 = 4:2:0, 1 = 4:2:2, 2 = 4:4:4. */
  readonly chromaFormat: number;
  /** CRF/CQ; 0 = constant bitrate. */
  readonly quality: number;
}

/** Thrown for any profile or -transcodingOptions input we cannot use. */
export class ProfileError extends GatewayError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { code: 'PROFILE_INVALID', cause: opts.cause });
  }
}

export const DEFAULT_TRANSCODING_OPTIONS = 'P240p30fps16x9,P360p30fps16x9';

function preset(name: string, width: number, height: number, kbps: number, fps: number): VideoProfile {
  return Object.freeze({
    name,
    width,
    height,
    bitrate: kbps * 1000,
    fps,
    fpsDen: 0,
    format: 'mpegts',
    profile: H264Profile.EncoderDefault,
    gopMs: 0,
    encoder: VideoCodec.H264,
    colorDepth: 0,
    chromaFormat: 0,
    quality: 0,
  } satisfies VideoProfile);
}

/** The 13 presets selectable by name (lpms `VideoProfileLookup`). */
export const PRESETS: Readonly<Record<string, VideoProfile>> = Object.freeze(
  Object.fromEntries(
    [
      preset('P720p60fps16x9', 1280, 720, 6000, 60),
      preset('P720p30fps16x9', 1280, 720, 4000, 30),
      preset('P720p25fps16x9', 1280, 720, 3500, 25),
      preset('P720p30fps4x3', 960, 720, 3500, 30),
      preset('P576p30fps16x9', 1024, 576, 1500, 30),
      preset('P576p25fps16x9', 1024, 576, 1500, 25),
      preset('P360p30fps16x9', 640, 360, 1200, 30),
      preset('P360p25fps16x9', 640, 360, 1000, 25),
      preset('P360p30fps4x3', 480, 360, 1000, 30),
      preset('P240p30fps16x9', 426, 240, 600, 30),
      preset('P240p25fps16x9', 426, 240, 600, 25),
      preset('P240p30fps4x3', 320, 240, 600, 30),
      preset('P144p30fps16x9', 256, 144, 400, 30),
    ].map((p) => [p.name, p]),
  ),
);

/**
 * Defined by lpms but missing from its name lookup, so go-livepeer never selects it
 * by name. We keep that: it is exported for completeness, not accepted by name.
 */
export const P144p25fps16x9: VideoProfile = preset('P144p25fps16x9', 256, 144, 400, 25);

/** Preset by exact name (surrounding spaces ignored), or undefined. */
export function presetByName(name: string): VideoProfile | undefined {
  const key = name.trim();
  return Object.hasOwn(PRESETS, key) ? PRESETS[key] : undefined;
}

/** Presets for a list of names; unknown names are dropped silently, as go-livepeer does. */
export function parsePresets(names: readonly string[]): VideoProfile[] {
  const out: VideoProfile[] = [];
  for (const n of names) {
    const p = presetByName(n);
    if (p) out.push(p);
  }
  return out;
}

/** The same profiles with a container format, e.g. 'mp4' for an `.mp4` HTTP push. */
export function withFormat(profiles: readonly VideoProfile[], format: VideoFormat): VideoProfile[] {
  return profiles.map((p) => (p.format === format ? p : Object.freeze({ ...p, format })));
}

const ENCODER_PROFILES: Readonly<Record<string, H264ProfileId>> = {
  '': H264Profile.EncoderDefault,
  none: H264Profile.EncoderDefault,
  h264baseline: H264Profile.H264Baseline,
  h264main: H264Profile.H264Main,
  h264high: H264Profile.H264High,
  h264constrainedhigh: H264Profile.H264ConstrainedHigh,
};

const ENCODERS: Readonly<Record<string, VideoCodecId>> = {
  '': VideoCodec.H264,
  'H.264': VideoCodec.H264,
  HEVC: VideoCodec.H265,
  VP8: VideoCodec.VP8,
  VP9: VideoCodec.VP9,
};

const COLOR_DEPTHS = new Set([0, 2, 4, 8]);

function field<T>(obj: Record<string, unknown>, key: string, where: string, check: (v: unknown) => v is T, expected: string, dflt: T): T {
  const v = obj[key];
  if (v === undefined || v === null) return dflt;
  if (!check(v)) throw new ProfileError(`${where}: "${key}" must be ${expected}, got ${JSON.stringify(v)}`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isUint = (v: unknown): v is number => isInt(v) && v >= 0;

function parseGop(gop: string, where: string): number {
  if (gop === '') return 0;
  if (gop === 'intra') return GOP_INTRA_ONLY;
  // Seconds as decimal text, e.g. "2" or "0.5".
  const secs = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(gop) ? Number(gop) : Number.NaN;
  if (!Number.isFinite(secs)) {
    throw new ProfileError(`${where}: "gop" must be seconds as text (e.g. "2", "0.5") or "intra", got "${gop}"`);
  }
  if (secs < 0) throw new ProfileError(`${where}: "gop" ${gop} is negative; use a positive number of seconds`);
  return Math.round(secs * 1000);
}

/**
 * One JSON profile object (the shape of -transcodingOptions files, webhook
 * `profiles` and the Livepeer-Transcode-Configuration header) to a VideoProfile.
 */
export function parseProfileObject(value: unknown, index = 0, format: VideoFormat = 'mpegts'): VideoProfile {
  const where = `profile #${index}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProfileError(`${where}: expected a JSON object, got ${JSON.stringify(value)}`);
  }
  const o = value as Record<string, unknown>;
  const width = field(o, 'width', where, isInt, 'an integer', 0);
  const height = field(o, 'height', where, isInt, 'an integer', 0);
  const bitrate = field(o, 'bitrate', where, isInt, 'an integer (bits/s)', 0);
  let name = field(o, 'name', where, isString, 'a string', '');
  if (name === '') name = `custom_${width}x${height}_${bitrate}`;
  // The name becomes a path element of playlist and segment URLs and a line of the master playlist.
  const unsafe = unsafeNameReason('profile name', name);
  if (unsafe) throw new ProfileError(unsafe);
  const named = `profile "${name}"`;
  if (width <= 0 || height <= 0) throw new ProfileError(`${named}: width and height must be positive integers`);
  if (bitrate < 0) throw new ProfileError(`${named}: bitrate must not be negative`);
  const fps = field(o, 'fps', where, isUint, 'a non-negative integer', 0);
  const fpsDen = field(o, 'fpsDen', where, isUint, 'a non-negative integer', 0);
  const profName = field(o, 'profile', where, isString, 'a string', '');
  const profile = ENCODER_PROFILES[profName.toLowerCase()];
  if (profile === undefined) {
    throw new ProfileError(`${named}: unknown H.264 profile "${profName}"; use H264Baseline, H264Main, H264High, H264ConstrainedHigh or none`);
  }
  // A JSON number for gop is an error in go-livepeer too: it must be a string.
  const gopText = field(o, 'gop', where, isString, 'a string such as "2" or "intra"', '');
  const gopMs = parseGop(gopText, named);
  const encName = field(o, 'encoder', where, isString, 'a string', '');
  const encoder = Object.hasOwn(ENCODERS, encName) ? ENCODERS[encName] : undefined;
  if (encoder === undefined) {
    throw new ProfileError(`${named}: unknown encoder "${encName}"; use H.264, HEVC, VP8 or VP9`);
  }
  const colorDepth = field(o, 'colorDepth', where, isInt, 'an integer', 0);
  if (!COLOR_DEPTHS.has(colorDepth)) throw new ProfileError(`${named}: colorDepth must be 0, 2, 4 or 8`);
  const chromaFormat = field(o, 'chromaFormat', where, isInt, 'an integer', 0);
  if (chromaFormat < 0 || chromaFormat > 2) throw new ProfileError(`${named}: chromaFormat must be 0, 1 or 2`);
  const quality = field(o, 'quality', where, isUint, 'a non-negative integer', 0);
  return Object.freeze({
    name,
    width,
    height,
    bitrate,
    fps,
    fpsDen,
    format,
    profile,
    gopMs,
    encoder,
    colorDepth,
    chromaFormat,
    quality,
  } satisfies VideoProfile);
}

/** A JSON array of profile objects (already parsed) to VideoProfiles; throws ProfileError on the first bad one. */
export function parseProfileObjects(json: unknown, format: VideoFormat = 'mpegts'): VideoProfile[] {
  if (!Array.isArray(json)) {
    throw new ProfileError(`expected a JSON array of profile objects, got ${json === null ? 'null' : typeof json}`);
  }
  const profiles = json.map((v, i) => parseProfileObject(v, i, format));
  const seen = new Set<string>();
  for (const p of profiles) {
    // Names key playlists and segment URLs, so two profiles cannot share one.
    if (seen.has(p.name)) throw new ProfileError(`profile name "${p.name}" is used twice; names must be unique`);
    seen.add(p.name);
  }
  return profiles;
}

function readNonEmptyFile(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return undefined;
    const text = readFileSync(path, 'utf8');
    return text.length > 0 ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The -transcodingOptions flag: a readable non-empty file is a JSON array of
 * profile objects; anything else is a comma-separated preset list (unknown names
 * dropped). Zero usable profiles is an error, as at go-livepeer start-up.
 */
export function parseTranscodingOptions(value: string): VideoProfile[] {
  const file = readNonEmptyFile(value);
  let profiles: VideoProfile[];
  if (file !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(file);
    } catch (err) {
      throw new ProfileError(`-transcodingOptions file ${value} is not valid JSON (${(err as Error).message}); it must hold a JSON array of profile objects`);
    }
    try {
      profiles = parseProfileObjects(json);
    } catch (err) {
      throw new ProfileError(`-transcodingOptions file ${value}: ${(err as Error).message}`);
    }
  } else {
    profiles = parsePresets(value.split(','));
  }
  if (profiles.length === 0) {
    throw new ProfileError(
      `No transcoding profiles found in -transcodingOptions "${value}": give preset names such as ` +
        `${DEFAULT_TRANSCODING_OPTIONS} (valid: ${Object.keys(PRESETS).join(', ')}) or the path of a JSON profile file`,
    );
  }
  return profiles;
}
