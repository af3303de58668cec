// Job capabilities: the bitstring a video broadcaster advertises, the compatibility rule an
// orchestrator reply must pass, and our video profiles in their wire form (SegData fullProfiles*).
import type { Capabilities, SegData, VideoProfileMsg } from '../wire/lpRpc.ts';
import { GatewayError } from '../lib/errors.ts';

/** Capability ids (go-livepeer core/capabilities.go); never renumber. */
export const Capability = {
  H264: 0,
  MPEGTS: 1,
  MP4: 2,
  FractionalFramerates: 3,
  StorageDirect: 4,
  StorageS3: 5,
  StorageGCS: 6,
  ProfileH264Baseline: 7,
  ProfileH264Main: 8,
  ProfileH264High: 9,
  ProfileH264ConstrainedHigh: 10,
  GOP: 11,
  AuthToken: 12,
  SceneClassification: 13,
  MPEG7VideoSignature: 14,
  HEVCDecode: 15,
  HEVCEncode: 16,
  VP8Decode: 17,
  VP9Decode: 18,
  VP8Encode: 19,
  VP9Encode: 20,
  H264Decode444_8bit: 21,
  H264Decode422_8bit: 22,
  H264Decode444_10bit: 23,
  H264Decode422_10bit: 24,
  H264Decode420_10bit: 25,
  SegmentSlicing: 26,
} as const;

/** Capabilities every pre-discovery node had; a reply without capabilities is judged against these. */
export const LEGACY_CAPABILITIES: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

/** Everything video a software (ffmpeg/libx264) orchestrator can claim: ids 0..26 except the deprecated 13. */
export const ALL_VIDEO_CAPABILITIES: readonly number[] = Array.from({ length: 27 }, (_, i) => i).filter((id) => id !== Capability.SceneClassification);

/** The fields of a video profile that matter on the wire (the media module's VideoProfile has all of them). */
export interface WireVideoProfile {
  name: string;
  width: number;
  height: number;
  bitrate: number;
  fps: number;
  fpsDen: number;
  format: 'mpegts' | 'mp4';
  /** H.264 profile, wire enum: 0 default, 1 baseline, 2 main, 3 high, 4 constrained high */
  profile: number;
  /** GOP in ms; 0 = encoder default, negative = special (-1 intra only) */
  gopMs: number;
  /** output codec, wire enum: 0 H.264, 1 HEVC, 2 VP8, 3 VP9 */
  encoder: number;
  colorDepth: number;
  chromaFormat: number;
  quality: number;
}

export type InputCodec = 'h264' | 'hevc' | 'vp8' | 'vp9';

export interface StreamCapabilityOptions {
  profiles: readonly WireVideoProfile[];
  /** Source codec (default H.264). */
  inputCodec?: InputCodec;
  /** Source pixel format of H.264 input, when not 4:2:0 8-bit. */
  inputPixelFormat?: { chroma: '420' | '422' | '444'; bitDepth: 8 | 10 };
  /** True when the stream carries clip start/stop (go-livepeer's HTTP push path always does). */
  segmentSlicing?: boolean;
  /** True when fast verification is on (perceptual hashes). */
  verification?: boolean;
  /** The broadcaster's own external object store, if any. */
  storage?: 'direct' | 's3' | 'gcs';
  /** -orchMinLivepeerVersion */
  minVersion?: string;
}

export class CapabilityError extends GatewayError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { code: 'CAPABILITY_INVALID', cause: opts.cause });
  }
}

/** Bit k of word k/64 is capability k, least significant bit first. */
export function capabilityBitstring(ids: Iterable<number>): bigint[] {
  const words: bigint[] = [];
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0) throw new CapabilityError(`invalid capability id ${id}`);
    const w = Math.floor(id / 64);
    while (words.length <= w) words.push(0n);
    words[w] = words[w]! | (1n << BigInt(id % 64));
  }
  return words;
}

/** The ids set in a bitstring, ascending. */
export function capabilityIds(bitstring: readonly bigint[] | undefined): number[] {
  const ids: number[] = [];
  (bitstring ?? []).forEach((word, w) => {
    for (let bit = 0; bit < 64; bit++) if ((word >> BigInt(bit)) & 1n) ids.push(w * 64 + bit);
  });
  return ids;
}

const INPUT_CODEC_CAP: Record<InputCodec, number> = {
  h264: Capability.H264,
  hevc: Capability.HEVCDecode,
  vp8: Capability.VP8Decode,
  vp9: Capability.VP9Decode,
};

const ENCODER_CAP: Record<number, number> = {
  0: Capability.H264,
  1: Capability.HEVCEncode,
  2: Capability.VP8Encode,
  3: Capability.VP9Encode,
};

const H264_PROFILE_CAP: Record<number, number> = {
  1: Capability.ProfileH264Baseline,
  2: Capability.ProfileH264Main,
  3: Capability.ProfileH264High,
  4: Capability.ProfileH264ConstrainedHigh,
};

function pixelFormatCap(f: NonNullable<StreamCapabilityOptions['inputPixelFormat']>): number | undefined {
  const key = `${f.chroma}/${f.bitDepth}`;
  switch (key) {
    case '420/8':
      return undefined;
    case '444/8':
      return Capability.H264Decode444_8bit;
    case '422/8':
      return Capability.H264Decode422_8bit;
    case '444/10':
      return Capability.H264Decode444_10bit;
    case '422/10':
      return Capability.H264Decode422_10bit;
    case '420/10':
      return Capability.H264Decode420_10bit;
    default:
      throw new CapabilityError(`unsupported input pixel format ${key}`);
  }
}

/** The capability ids a stream needs (go-livepeer JobCapabilities). */
export function streamCapabilityIds(opts: StreamCapabilityOptions): number[] {
  const ids = new Set<number>([Capability.AuthToken]);
  if (opts.verification) ids.add(Capability.MPEG7VideoSignature);
  if (opts.segmentSlicing) ids.add(Capability.SegmentSlicing);
  const codec = opts.inputCodec ?? 'h264';
  ids.add(INPUT_CODEC_CAP[codec]);
  if (codec === 'h264' && opts.inputPixelFormat) {
    const cap = pixelFormatCap(opts.inputPixelFormat);
    if (cap !== undefined) ids.add(cap);
  }
  for (const p of opts.profiles) {
    ids.add(p.format === 'mp4' ? Capability.MP4 : Capability.MPEGTS);
    const enc = ENCODER_CAP[p.encoder];
    if (enc === undefined) throw new CapabilityError(`profile ${p.name}: unknown output codec ${p.encoder}`);
    ids.add(enc);
    if (p.fpsDen > 0) ids.add(Capability.FractionalFramerates);
    if (p.profile !== 0) {
      const prof = H264_PROFILE_CAP[p.profile];
      if (prof === undefined) throw new CapabilityError(`profile ${p.name}: unknown H.264 profile ${p.profile}`);
      ids.add(prof);
    }
    if (p.gopMs !== 0) ids.add(Capability.GOP);
  }
  if (opts.storage) {
    ids.add({ direct: Capability.StorageDirect, s3: Capability.StorageS3, gcs: Capability.StorageGCS }[opts.storage]);
  }
  return [...ids].sort((a, b) => a - b);
}

/**
 * What a broadcaster sends in OrchestratorRequest and SegData: the bitstring only (mandatories,
 * capacities and version empty), plus the minimum orchestrator version when one is configured.
 * RTMP H.264 in, MPEG-TS presets out ⇒ bitstring [4099].
 */
export function streamCapabilities(opts: StreamCapabilityOptions): Capabilities {
  const caps: Capabilities = { bitstring: capabilityBitstring(streamCapabilityIds(opts)) };
  caps.constraints = opts.minVersion ? { minVersion: opts.minVersion } : {};
  return caps;
}

/** Semver core (major.minor.patch), ignoring any pre-release or build suffix; undefined if unparseable. */
function semverCore(v: string): [number, number, number] | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+].*)?$/.exec(v.trim());
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

/** go-livepeer isVersionCompatible: empty minimum ⇒ ok; empty/"undefined"/bad version ⇒ not ok. */
export function versionCompatible(minVersion: string | undefined, version: string | undefined): boolean {
  if (!minVersion) return true;
  if (!version || version === 'undefined') return false;
  const min = semverCore(minVersion);
  if (!min) return true; // an unparseable minimum is ignored, as go-livepeer does
  const have = semverCore(version);
  if (!have) return false;
  for (let i = 0; i < 3; i++) {
    if (have[i]! !== min[i]!) return have[i]! > min[i]!;
  }
  return true;
}

/** (a AND b) == a, word by word; a longer than b fails. */
export function bitstringSubset(a: readonly bigint[] | undefined, b: readonly bigint[] | undefined): boolean {
  const aa = a ?? [];
  const bb = b ?? [];
  if (aa.length > bb.length) return false;
  return aa.every((word, i) => (word & bb[i]!) === word);
}

interface ModelConstraintLike {
  warm?: boolean;
  runnerVersion?: string;
}

function modelsOf(c: unknown): Record<string, ModelConstraintLike> {
  if (!c || typeof c !== 'object') return {};
  const models = (c as { models?: unknown }).models;
  return models && typeof models === 'object' ? (models as Record<string, ModelConstraintLike>) : {};
}

/** Per-capability model constraints (AI only; always true for video broadcasters). */
function constraintsCompatible(b: Capabilities, o: Capabilities): boolean {
  const bPer = b.constraints?.PerCapability ?? {};
  const oPer = o.constraints?.PerCapability ?? {};
  for (const [cap, bc] of Object.entries(bPer)) {
    const oc = (oPer as Record<string, unknown>)[cap];
    if (oc === undefined) continue;
    const oModels = modelsOf(oc);
    for (const [model, bm] of Object.entries(modelsOf(bc))) {
      const om = oModels[model];
      if (!om) return false;
      if (bm?.warm && !om.warm) return false;
      if (!versionCompatible(bm?.runnerVersion, om.runnerVersion)) return false;
    }
  }
  return true;
}

/**
 * docs/wire.md §6.4: may a job with broadcaster capabilities `b` go to an orchestrator advertising `o`?
 * An orchestrator that sends no capabilities is judged by the legacy set (which never includes
 * the auth-token bit, so in practice it is refused).
 */
export function capabilitiesCompatible(b: Capabilities, o: Capabilities | undefined): boolean {
  if (!o) return bitstringSubset(b.bitstring, capabilityBitstring(LEGACY_CAPABILITIES));
  if (!versionCompatible(b.constraints?.minVersion, o.version)) return false;
  if (!bitstringSubset(o.mandatories, b.bitstring)) return false;
  if (!constraintsCompatible(b, o)) return false;
  return bitstringSubset(b.bitstring, o.bitstring);
}

const FORMAT_WIRE = { mpegts: 0, mp4: 1 } as const;

/** One profile in its wire form (VideoProfile message, fields 16–28). */
export function profileToWire(p: WireVideoProfile): VideoProfileMsg {
  if (!p.name) throw new CapabilityError('a video profile sent to orchestrators needs a non-empty name');
  return {
    name: p.name,
    width: p.width,
    height: p.height,
    bitrate: p.bitrate,
    fps: p.fps,
    format: FORMAT_WIRE[p.format],
    fpsDen: p.fpsDen,
    profile: p.profile,
    gop: p.gopMs,
    encoder: p.encoder,
    colorDepth: p.colorDepth,
    chromaFormat: p.chromaFormat,
    quality: p.quality,
  };
}

export type ProfilesField = 'fullProfiles' | 'fullProfiles2' | 'fullProfiles3';

/**
 * go-livepeer NetSegData: exactly one of the three lists is filled. fullProfiles3 as soon as any
 * profile uses a fractional rate, an H.264 profile or a GOP; else fullProfiles2 if any output is MP4;
 * else fullProfiles.
 */
export function profilesToWire(profiles: readonly WireVideoProfile[]): { field: ProfilesField; profiles: VideoProfileMsg[] } {
  const wire = profiles.map(profileToWire);
  return { field: profilesField(wire), profiles: wire };
}

/** Which of the three SegData lists carries these wire profiles (the rule of profilesToWire). */
export function profilesField(profiles: readonly VideoProfileMsg[]): ProfilesField {
  const needs3 = profiles.some((p) => (p.fpsDen ?? 0) !== 0 || (p.profile ?? 0) !== 0 || (p.gop ?? 0) !== 0);
  return needs3 ? 'fullProfiles3' : profiles.some((p) => p.format === 1) ? 'fullProfiles2' : 'fullProfiles';
}

/** The profile list an orchestrator reads: fullProfiles3 if non-empty, else 2, else 1. */
export function profilesFromSegData(seg: SegData): VideoProfileMsg[] {
  if (seg.fullProfiles3?.length) return seg.fullProfiles3;
  if (seg.fullProfiles2?.length) return seg.fullProfiles2;
  return seg.fullProfiles ?? [];
}
