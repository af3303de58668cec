// Software transcoding of one segment into every requested rendition with a single ffmpeg run
// (libx264 ultrafast), and the output pixel count (W × H × encoded frames) each rendition is billed by.
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { ffmpegPath, ffprobePath, mediaToolEnv } from '../../../src/media/ffmpegBinaries.ts';
import { BodyTooLargeError, readBody } from '../../../src/lib/body.ts';
import { errorMessage, GatewayError } from '../../../src/lib/errors.ts';
import type { VideoProfileMsg } from '../../../src/wire/lpRpc.ts';
import { codedPictures } from '../../../src/media/h264.ts';
import { STREAM_TYPE, videoElementaryStream } from '../../../src/media/mpegts.ts';

export interface Rendition {
  data: Buffer;
  frames: number;
  pixels: bigint;
  /** keccak256 of `data`, when it was worked out once for bytes served many times (the load mode) */
  hash?: Uint8Array;
}

/** A transcoding failure; the message is what goes into TranscodeResult.error. */
export class TranscodeError extends GatewayError {
  constructor(message: string) {
    super(message, { code: 'TRANSCODE_FAILED' });
  }
}

export interface TranscodeOptions {
  timeoutMs?: number;
  /** Kills ffmpeg early (orchestrator shutdown). */
  signal?: AbortSignal;
  /** Encode every rendition at this size whatever the profile asks (a fault). */
  sizeOverride?: { width: number; height: number };
}

const ENCODERS: Record<number, string> = { 0: 'libx264', 1: 'libx265', 2: 'libvpx', 3: 'libvpx-vp9' };
const H264_PROFILES: Record<number, string | undefined> = { 0: undefined, 1: 'baseline', 2: 'main', 3: 'high', 4: 'high' };

/**
 * go-livepeer's scaling: the profile's long side becomes the source's long side (the box turns for a
 * portrait source) and the short side keeps the source's aspect ratio, rounded to an even number.
 */
function scaleFilter(width: number, height: number): string {
  const long = Math.max(width, height);
  return `scale=w='if(gte(iw,ih),${long},-2)':h='if(lt(iw,ih),${long},-2)'`;
}

function outputArgs(p: VideoProfileMsg, fd: number, sizeOverride?: { width: number; height: number }): string[] {
  const encoder = ENCODERS[p.encoder ?? 0];
  if (!encoder) throw new TranscodeError('Encoder not found');
  const width = p.width ?? 0;
  const height = p.height ?? 0;
  if (width <= 0 || height <= 0 || width % 2 || height % 2 || width > 7680 || height > 4320) {
    throw new TranscodeError('TranscoderInvalidResolution');
  }
  const vf = sizeOverride ? `scale=${sizeOverride.width}:${sizeOverride.height}` : scaleFilter(width, height);
  const args = ['-map', '0:v:0', '-map', '0:a:0?', '-c:a', 'copy', '-vf', vf, '-c:v', encoder];
  if (encoder === 'libx264') args.push('-preset', 'ultrafast', '-tune', 'zerolatency');
  if ((p.bitrate ?? 0) > 0) args.push('-b:v', String(p.bitrate));
  const fps = p.fps ?? 0;
  if (fps > 0) args.push('-r', (p.fpsDen ?? 0) > 0 ? `${fps}/${p.fpsDen}` : String(fps));
  const profile = H264_PROFILES[p.profile ?? 0];
  if (encoder === 'libx264' && profile) args.push('-profile:v', profile);
  const gop = p.gop ?? 0;
  if (gop < 0) args.push('-g', '1');
  else if (gop > 0) args.push('-force_key_frames', `expr:gte(t,n_forced*${gop / 1000})`);
  if ((p.format ?? 0) === 1) args.push('-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof');
  else args.push('-f', 'mpegts');
  args.push(`pipe:${fd}`);
  return args;
}

/** The first `limit` bytes of a child's diagnostic output; the rest is drained so the child never blocks. */
function logHead(stream: Readable | null | undefined, limit: number): Promise<Buffer> {
  return new Promise((resolve) => {
    if (!stream) return resolve(Buffer.alloc(0));
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      if (size < limit) chunks.push(c.subarray(0, limit - size));
      size += c.length;
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', () => resolve(Buffer.concat(chunks)));
  });
}

/** A child's output we need whole, bounded; over `limit` it rejects and `onTooLarge` stops the child. */
function readOutput(stream: Readable | null | undefined, limit: number, onTooLarge: () => void): Promise<Buffer> {
  if (!stream) return Promise.resolve(Buffer.alloc(0));
  const data = readBody(stream, limit);
  data.catch(onTooLarge);
  return data;
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ');
}

/** Maps an ffmpeg failure to the error texts broadcasters know (lpms names where one fits). */
function ffmpegError(stderr: string): TranscodeError {
  if (/Invalid data found when processing input|could not find codec parameters|no streams?/i.test(stderr)) {
    return new TranscodeError('TranscoderInvalidVideo');
  }
  if (/matches no streams|does not contain any stream/i.test(stderr)) return new TranscodeError('TranscoderInvalidVideo');
  if (/Unknown encoder|Encoder not found/i.test(stderr)) return new TranscodeError('Encoder not found');
  return new TranscodeError(`ffmpeg failed: ${lastLines(stderr)}`);
}

const MAX_OUTPUT_BYTES = 300_000_000;
const MAX_PROBE_OUTPUT_BYTES = 1_000_000;
const MAX_STDERR_BYTES = 200_000;

/** Counts video packets (= encoded frames) of a rendition with ffprobe, without decoding. */
export function countFrames(data: Buffer, timeoutMs = 15_000): Promise<{ frames: number; width: number; height: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      ffprobePath(),
      ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=nb_read_packets,width,height', '-of', 'json', 'pipe:0'],
      { stdio: ['pipe', 'pipe', 'pipe'], env: mediaToolEnv('ffprobe') },
    );
    const kill = (): void => {
      child.kill('SIGKILL');
    };
    const timer = setTimeout(kill, timeoutMs);
    const out = readOutput(child.stdout, MAX_PROBE_OUTPUT_BYTES, kill);
    const err = logHead(child.stderr, 100_000);
    child.stdin.on('error', () => {});
    child.stdin.end(data);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new TranscodeError(`could not run ffprobe: ${e.message}`));
    });
    child.once('close', async (code) => {
      clearTimeout(timer);
      const text = await out.then(
        (b) => b.toString('utf8'),
        () => undefined,
      );
      if (text === undefined) return reject(new TranscodeError('ffprobe printed more than expected'));
      if (code !== 0) return reject(new TranscodeError(`ffprobe failed: ${lastLines((await err).toString('utf8'))}`));
      try {
        const s = (JSON.parse(text) as { streams?: { nb_read_packets?: string; width?: number; height?: number }[] }).streams?.[0];
        resolve({ frames: Number(s?.nb_read_packets ?? 0), width: s?.width ?? 0, height: s?.height ?? 0 });
      } catch {
        reject(new TranscodeError('ffprobe printed no stream information'));
      }
    });
  });
}

/** Frames and size of an MPEG-TS H.264 rendition read in-process (as ffprobe's packet count); undefined for other formats. */
function bitstreamFrames(data: Buffer): { frames: number; width: number; height: number } | undefined {
  if (data[0] !== 0x47) return undefined;
  try {
    const es = videoElementaryStream(data);
    return es.streamType === STREAM_TYPE.h264 ? codedPictures(es.data) : undefined;
  } catch {
    return undefined;
  }
}

/** One ffmpeg run producing all renditions, each on its own pipe (fd 3, 4, …). */
export async function transcodeSegment(input: Buffer, profiles: readonly VideoProfileMsg[], opts: TranscodeOptions = {}): Promise<Rendition[]> {
  if (profiles.length === 0) throw new TranscodeError('ZeroSegments');
  if (profiles.length > 16) throw new TranscodeError('Too many outputs');
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-copyts', '-i', 'pipe:0'];
  profiles.forEach((p, i) => {
    args.push(...outputArgs(p, 3 + i, opts.sizeOverride));
  });

  const child = spawn(ffmpegPath(), args, { env: mediaToolEnv('ffmpeg'), stdio: ['pipe', 'ignore', 'pipe', ...profiles.map(() => 'pipe' as const)] });
  const kill = (): void => {
    child.kill('SIGKILL');
  };
  const outputs = profiles.map((_, i) => readOutput(child.stdio[3 + i] as Readable, MAX_OUTPUT_BYTES, kill));
  const stderr = logHead(child.stderr, MAX_STDERR_BYTES);
  child.stdin!.on('error', () => {}); // ffmpeg may exit before reading everything
  child.stdin!.end(input);

  const timer = setTimeout(kill, opts.timeoutMs ?? 60_000);
  opts.signal?.addEventListener('abort', kill, { once: true });
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(-1));
    child.once('close', (c) => resolve(c));
  });
  clearTimeout(timer);
  opts.signal?.removeEventListener('abort', kill);
  if (opts.signal?.aborted) throw new TranscodeError('Unrecoverable state, restart process');
  const read = await Promise.all(outputs).then(
    (datas) => ({ datas }),
    (err: unknown) => ({ err }),
  );
  if ('err' in read && read.err instanceof BodyTooLargeError) throw new TranscodeError(`a rendition is larger than ${MAX_OUTPUT_BYTES} bytes`);
  if (code !== 0) throw ffmpegError((await stderr).toString('utf8'));
  if ('err' in read) throw new TranscodeError(`could not read a rendition: ${errorMessage(read.err)}`);
  const { datas } = read;

  const renditions: Rendition[] = [];
  for (const [i, data] of datas.entries()) {
    const { frames, width, height } = bitstreamFrames(data) ?? (await countFrames(data));
    if (frames === 0) throw new TranscodeError('ZeroSegments');
    const p = profiles[i]!;
    const w = BigInt(width || p.width || 0);
    const h = BigInt(height || p.height || 0);
    renditions.push({ data, frames, pixels: w * h * BigInt(frames) });
  }
  return renditions;
}
