// Shared by the wire-client and devnet orchestrator tests: a short test clip, presets, ffprobe, a stand-in orchestrator server.
import { PRESETS } from '../../src/media/profiles.ts';
import { ffmpegPath, ffprobePath, mediaToolEnv } from '../../src/media/ffmpegBinaries.ts';
import { execFile } from 'node:child_process';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { generateSelfSignedCert } from '../../scripts/devnet/orchestrator/cert.ts';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { WireVideoProfile } from '../../src/net/capabilities.ts';

const run = promisify(execFile);

export interface TlsH2Server {
  server: Http2SecureServer;
  /** https://127.0.0.1:port */
  uri: string;
  /** Drops every connection still open and stops the server. */
  close(): Promise<void>;
}

/** An HTTP/2 server over TLS on 127.0.0.1 (a fresh self-signed certificate, Node's default windows) standing in for an orchestrator. */
export async function startTlsH2Server(onRequest: (req: Http2ServerRequest, res: Http2ServerResponse) => void): Promise<TlsH2Server> {
  const { cert, key } = await generateSelfSignedCert('127.0.0.1');
  const server = createSecureServer({ cert, key }, onRequest);
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    server,
    uri: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

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
