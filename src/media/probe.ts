// ffprobe helper: what a segment (file or bytes) contains.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
}

export class ProbeError extends Error {
  override name = 'ProbeError';
}

interface FfprobeJson {
  format?: { format_name?: string; duration?: string };
  streams?: Array<{ codec_type?: string; codec_name?: string; width?: number; height?: number; pix_fmt?: string }>;
}

/**
 * Probe a media file. Rejects with ProbeError when ffprobe cannot read it.
 * ffprobe runs with a hard timeout and is killed past it, so it never lingers.
 */
export function probeFile(path: string, timeoutMs = 15_000): Promise<MediaInfo> {
  const bin = process.env.FFPROBE_PATH || 'ffprobe';
  const args = ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '--', path];
  return new Promise<MediaInfo>((resolve, reject) => {
    execFile(bin, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const e = err as NodeJS.ErrnoException & { killed?: boolean };
        if (e.code === 'ENOENT') {
          reject(new ProbeError('ffprobe is not installed or not on PATH (set FFPROBE_PATH)'));
        } else if (e.killed) {
          reject(new ProbeError(`ffprobe took longer than ${timeoutMs} ms`));
        } else {
          const msg = String(stderr).trim().split('\n').slice(-2).join(' ') || e.message;
          reject(new ProbeError(`ffprobe cannot read the media: ${msg}`));
        }
        return;
      }
      let data: FfprobeJson;
      try {
        data = JSON.parse(stdout) as FfprobeJson;
      } catch {
        reject(new ProbeError('ffprobe printed no usable JSON'));
        return;
      }
      const streams = data.streams ?? [];
      const video = streams.find((s) => s.codec_type === 'video');
      const audio = streams.find((s) => s.codec_type === 'audio');
      const duration = Number(data.format?.duration);
      resolve({
        formatName: data.format?.format_name ?? '',
        durationMs: Number.isFinite(duration) ? Math.round(duration * 1000) : 0,
        videoCodec: video?.codec_name ?? '',
        width: video?.width ?? 0,
        height: video?.height ?? 0,
        pixelFormat: video?.pix_fmt ?? '',
        audioCodec: audio?.codec_name ?? '',
      });
    });
  });
}

/**
 * Probe segment bytes. They go through a private temp file rather than a pipe,
 * because MP4 needs seeking to find its index.
 */
export async function probeBuffer(data: Uint8Array, timeoutMs?: number): Promise<MediaInfo> {
  if (data.length === 0) throw new ProbeError('ffprobe cannot read the media: empty input');
  const dir = await mkdtemp(join(tmpdir(), 'lpgw-probe-'));
  try {
    const file = join(dir, 'segment');
    await writeFile(file, data);
    return await probeFile(file, timeoutMs);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
