// Shared by the wire-client and devnet orchestrator tests: a short test clip, presets, ffprobe.
import { PRESETS } from '../../src/media/profiles.ts';
import { ffmpegPath, ffprobePath, mediaToolEnv } from '../../src/media/ffmpegBinaries.ts';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { WireVideoProfile } from '../../src/net/capabilities.ts';

const run = promisify(execFile);

/** 2 s of testsrc, 640×360 at 30 fps, one keyframe every 2 s, MPEG-TS (≈ 64 kB). */
export async function makeTestClip(seconds = 2): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'lp-clip-'));
  const file = join(dir, 'clip.ts');
  try {
    await run(
      ffmpegPath(),
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        `testsrc=size=640x360:rate=30:duration=${seconds}`,
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-g',
        '60',
        '-pix_fmt',
        'yuv420p',
        '-f',
        'mpegts',
        file,
      ],
      { env: mediaToolEnv('ffmpeg') },
    );
    return await readFile(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const P240p30fps16x9: WireVideoProfile = PRESETS.P240p30fps16x9!;
export const P144p30fps16x9: WireVideoProfile = PRESETS.P144p30fps16x9!;

export interface ProbeResult {
  width: number;
  height: number;
  codec: string;
  frames: number;
}

/** Decodes nothing: stream parameters and packet count of the first video stream. */
export async function probe(data: Buffer): Promise<ProbeResult> {
  const dir = await mkdtemp(join(tmpdir(), 'lp-probe-'));
  const file = join(dir, 'r.ts');
  try {
    await writeFile(file, data);
    const { stdout } = await run(
      ffprobePath(),
      ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=width,height,codec_name,nb_read_packets', '-of', 'json', file],
      { env: mediaToolEnv('ffprobe') },
    );
    const s = (JSON.parse(stdout) as { streams: { width: number; height: number; codec_name: string; nb_read_packets: string }[] }).streams[0]!;
    return { width: s.width, height: s.height, codec: s.codec_name, frames: Number(s.nb_read_packets) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
