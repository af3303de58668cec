// ffprobe helper: what a segment (file or bytes) contains.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayError } from '../lib/errors.ts';
import { type MediaTool, mediaTool, mediaToolEnv } from './ffmpegBinaries.ts';
import {
  countOnCounter,
  FIRST_PIPE,
  frameCounterPath,
  prepareCounter,
  prepareOnPipes,
  runOnPipes,
  runToolInLauncher,
  SpareFfmpegTimeoutError,
  SpareFfmpegUnavailableError,
} from './spareFfmpeg.ts';
import { runTool } from './runTool.ts';

export interface MediaInfo {
  /** ffprobe format name, e.g. "mpegts" or "mov,mp4,m4a,3gp,3g2,mj2". */
  readonly formatName: string;
  /** Container duration in ms, or 0 when ffprobe reports none. */
  readonly durationMs: number;
  /** ffprobe codec name of the first video stream ("h264", "hevc", …), or "" when there is no video. */
  readonly videoCodec: string;
  readonly width: number;
  readonly height: number;
  /** Pixel format of the first video stream ("yuv420p", …), or "". */
  readonly pixelFormat: string;
  /** Codec of the first audio stream, or "". */
  readonly audioCodec: string;
  /** Frames per second of the first video stream (its average, else its base rate), or 0 when unknown. */
  readonly frameRate: number;
}

/** ffprobe's "30000/1001" as a number; 0 for "0/0" or anything unusable. */
function parseFrameRate(s: string | undefined): number {
  const [n, d] = (s ?? '').split('/').map(Number);
  if (n === undefined || !Number.isFinite(n) || n <= 0) return 0;
  const den = d === undefined ? 1 : d;
  return Number.isFinite(den) && den > 0 ? n / den : 0;
}

export class ProbeError extends GatewayError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { code: 'PROBE_FAILED', cause: opts.cause });
  }
}

/** The tool ran out of time, or did not run (its launcher stopped or died): says nothing about the media. */
export class ProbeTimeoutError extends ProbeError {}

interface FfprobeJson {
  format?: { format_name?: string; duration?: string };
  streams?: Array<{
    codec_type?: string;
    codec_name?: string;
    width?: number;
    height?: number;
    pix_fmt?: string;
    avg_frame_rate?: string;
    r_frame_rate?: string;
  }>;
}

interface FfprobeFrames {
  streams?: Array<{ width?: number; height?: number; nb_read_frames?: string }>;
}

/** Runs ffprobe with a hard timeout and parses its JSON output. */
async function ffprobeJson<T>(args: readonly string[], timeoutMs: number): Promise<T> {
  const stdout = await runMediaTool('ffprobe', args, timeoutMs);
  try {
    return JSON.parse(stdout) as T;
  } catch {
    throw new ProbeError('ffprobe printed no usable JSON');
  }
}

/**
 * Runs ffprobe or ffmpeg over files with a hard timeout; resolves to its stdout. The ffmpeg launcher starts
 * it (spareFfmpeg.ts: a loaded gateway forks no child of its own); this process does only when no launcher
 * can run (none could start, or it went away).
 */
async function runMediaTool(name: 'ffprobe' | 'ffmpeg', args: readonly string[], timeoutMs: number): Promise<string> {
  let tool: MediaTool;
  try {
    tool = mediaTool(name);
  } catch (err) {
    throw new ProbeError((err as Error).message, { cause: err });
  }
  const outcome = await runToolInLauncher(name, tool.path, tool.env, args, timeoutMs).catch((err: Error) => {
    if (err instanceof SpareFfmpegTimeoutError) throw new ProbeTimeoutError(err.message, { cause: err });
    return runTool(name, tool.path, mediaToolEnv(name), args, timeoutMs);
  });
  if ('stdout' in outcome) return outcome.stdout;
  throw outcome.failed === 'timeout' ? new ProbeTimeoutError(outcome.message) : new ProbeError(outcome.message);
}

/** Probe a media file. Rejects with ProbeError when ffprobe cannot read it. */
export async function probeFile(path: string, timeoutMs = 15_000): Promise<MediaInfo> {
  const data = await ffprobeJson<FfprobeJson>(['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '--', path], timeoutMs);
  const streams = data.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video');
  const audio = streams.find((s) => s.codec_type === 'audio');
  const duration = Number(data.format?.duration);
  return {
    formatName: data.format?.format_name ?? '',
    durationMs: Number.isFinite(duration) ? Math.round(duration * 1000) : 0,
    videoCodec: video?.codec_name ?? '',
    width: video?.width ?? 0,
    height: video?.height ?? 0,
    pixelFormat: video?.pix_fmt ?? '',
    audioCodec: audio?.codec_name ?? '',
    frameRate: parseFrameRate(video?.avg_frame_rate) || parseFrameRate(video?.r_frame_rate),
  };
}

/**
 * Pixels a segment really holds: width × height × decoded video frames. Decodes the whole video stream,
 * so it costs CPU; used to check what an orchestrator bills.
 */
export async function decodedPixels(data: Uint8Array, timeoutMs = 15_000): Promise<bigint> {
  return withTempFile(data, async (file) => {
    const out = await ffprobeJson<FfprobeFrames>(
      ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,nb_read_frames', '-print_format', 'json', '--', file],
      timeoutMs,
    );
    const v = out.streams?.[0];
    if (!v?.width || !v.height || v.nb_read_frames === undefined) throw new ProbeError('ffprobe found no decodable video stream');
    return BigInt(v.width) * BigInt(v.height) * BigInt(v.nb_read_frames);
  });
}

/**
 * What decodes MPEG-TS renditions in full: the frame counter when it was built here (one process that stays
 * up: a dynamically linked ffmpeg spends about as much CPU starting as decoding), else an ffmpeg per decode.
 */
export type DecodeTool = 'frame-count' | 'ffmpeg';

const defaultDecodeTool = (): DecodeTool => (frameCounterPath() ? 'frame-count' : 'ffmpeg');

/** The launcher's failures as probe errors: a timeout or a launcher gone says nothing about the media. */
function asProbeError(err: Error): ProbeError {
  return err instanceof SpareFfmpegTimeoutError || err instanceof SpareFfmpegUnavailableError
    ? new ProbeTimeoutError(err.message, { cause: err })
    : new ProbeError(err.message, { cause: err });
}

/**
 * decodedPixels() of several segments (a segment's renditions) at once. Each input's first video stream is
 * decoded in full (every frame kept, none dropped or duplicated) and counted: MPEG-TS by the frame counter
 * or one ffmpeg for all (`tool`), anything else by ffmpeg from files, since MP4 may need to seek.
 */
export async function decodedPixelsEach(datas: readonly Uint8Array[], timeoutMs = 15_000, tool: DecodeTool = defaultDecodeTool()): Promise<bigint[]> {
  if (datas.length === 0) return [];
  if (datas.some((d) => d.length === 0)) throw new ProbeError('ffmpeg cannot read the media: empty input');
  if (!datas.every(isMpegTs))
    return ffmpegFrameLists(datas, await withTempFiles('ffmpeg', datas, (files) => runMediaTool('ffmpeg', frameListArgs(files), timeoutMs)));
  if (tool === 'ffmpeg')
    return ffmpegFrameLists(
      datas,
      await runOnPipes(frameListArgs(pipeInputs(datas.length)), datas, timeoutMs).catch((err: Error) => Promise.reject(asProbeError(err))),
    );
  const counts = await countOnCounter(datas, timeoutMs).catch((err: Error) => Promise.reject(asProbeError(err)));
  return counts.map((c, i) => {
    if ('error' in c) throw new ProbeError(`the frame counter cannot read input ${i}: ${c.error}`);
    return BigInt(c.width) * BigInt(c.height) * BigInt(c.frames);
  });
}

/** Pixels per input from ffmpeg's frame list (frameListArgs). */
function ffmpegFrameLists(datas: readonly Uint8Array[], out: string): bigint[] {
  const frames = datas.map(() => 0);
  const sizes: Array<{ width: number; height: number } | undefined> = datas.map(() => undefined);
  for (const line of out.split('\n')) {
    const dims = /^#dimensions (\d+): (\d+)x(\d+)$/.exec(line);
    if (dims) {
      const i = Number(dims[1]);
      if (i < datas.length) sizes[i] = { width: Number(dims[2]), height: Number(dims[3]) };
      continue;
    }
    const frame = /^(\d+),/.exec(line);
    if (frame && Number(frame[1]) < datas.length) frames[Number(frame[1])]! += 1;
  }
  return sizes.map((size, i) => {
    if (!size?.width || !size.height || frames[i] === 0) throw new ProbeError(`ffmpeg decoded no video frames from input ${i}`);
    return BigInt(size.width) * BigInt(size.height) * BigInt(frames[i]!);
  });
}

/**
 * Starts ahead what decodedPixelsEach() will use for `count` MPEG-TS segments (a segment's renditions), so
 * the first sampled decode does not wait for it either.
 */
export function prepareDecode(count: number, tool: DecodeTool = defaultDecodeTool()): void {
  if (count <= 0) return;
  if (tool === 'frame-count') prepareCounter();
  else prepareOnPipes(frameListArgs(pipeInputs(count)), count);
}

function isMpegTs(data: Uint8Array): boolean {
  return data.length >= 188 && data[0] === 0x47;
}

function pipeInputs(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `pipe:${FIRST_PIPE + i}`);
}

/** ffmpeg decoding each input's first video stream in full and listing the frames (framecrc) per input. */
function frameListArgs(inputs: readonly string[]): string[] {
  // a pipe is MPEG-TS (said, since a pipe cannot be probed twice); a file is probed. One decoding thread
  // each: the decode shares one core with the gateway anyway, and frame threads only add their
  // synchronisation (240p + 360p, 2 s each: 0.16 s of CPU against 0.20 s with ffmpeg's default threads).
  const args = ['-v', 'error', '-nostdin', ...inputs.flatMap((f) => [...(f.startsWith('pipe:') ? ['-f', 'mpegts'] : []), '-threads', '1', '-i', f])];
  args.push(...inputs.flatMap((_, i) => ['-map', `${i}:v:0`]));
  // frames as they decode, without encoding them (wrapped_avframe), one line each, none dropped
  args.push('-c:v', 'wrapped_avframe', '-vsync', 'passthrough', '-f', 'framecrc', '-');
  return args;
}

function withTempFile<T>(data: Uint8Array, fn: (file: string) => Promise<T>): Promise<T> {
  return withTempFiles('ffprobe', [data], ([file]) => fn(file!));
}

/** `datas` in files of a private temp folder for `tool` to read, removed afterwards. */
async function withTempFiles<T>(tool: 'ffprobe' | 'ffmpeg', datas: readonly Uint8Array[], fn: (files: string[]) => Promise<T>): Promise<T> {
  if (datas.some((d) => d.length === 0)) throw new ProbeError(`${tool} cannot read the media: empty input`);
  const dir = await mkdtemp(join(tmpdir(), 'lpgw-probe-'));
  try {
    const files = datas.map((_, i) => join(dir, `segment${i}`));
    await Promise.all(datas.map((d, i) => writeFile(files[i]!, d)));
    return await fn(files);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Probe segment bytes. They go through a private temp file rather than a pipe,
 * because MP4 needs seeking to find its index.
 */
export function probeBuffer(data: Uint8Array, timeoutMs?: number): Promise<MediaInfo> {
  return withTempFile(data, (file) => probeFile(file, timeoutMs));
}
