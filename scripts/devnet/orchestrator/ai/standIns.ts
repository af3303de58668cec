// Deterministic stand-ins for AI models: no GPU, no weights, real media. Images are drawn from the
// prompt (PNG via pngjs), video is a short H.264 MP4 from ffmpeg, speech a WAV tone, text is echoed.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';

/** A width×height PNG whose colours and stripes follow from the prompt (and the seed). */
export function drawImage(prompt: string, width: number, height: number, seed = 0): Buffer {
  const h = createHash('sha256').update(`${seed}:${prompt}`).digest();
  const png = new PNG({ width, height });
  const stripe = 8 + (h[6]! % 32);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const band = Math.floor((x + y) / stripe) % 2;
      png.data[i] = (h[0]! + (x * 255) / width) & 0xff;
      png.data[i + 1] = (h[1]! + (y * 255) / height) & 0xff;
      png.data[i + 2] = band ? h[2]! : 255 - h[2]!;
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

/** A short H.264 MP4 (frames at fps) of a test pattern, width×height. */
export async function makeVideo(width: number, height: number, frames: number, fps: number, signal?: AbortSignal): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'devnet-i2v-'));
  const out = join(dir, 'out.mp4');
  try {
    await new Promise<void>((resolve, reject) => {
      const p = spawn(
        process.env.FFMPEG_PATH || 'ffmpeg',
        [
          '-hide_banner',
          '-loglevel',
          'error',
          '-nostdin',
          '-f',
          'lavfi',
          '-i',
          `testsrc2=size=${width}x${height}:rate=${fps}`,
          '-frames:v',
          String(frames),
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-pix_fmt',
          'yuv420p',
          '-movflags',
          '+faststart',
          out,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'], ...(signal ? { signal } : {}) },
      );
      let err = '';
      p.stderr.on('data', (c: Buffer) => {
        err = (err + c.toString()).slice(-2000);
      });
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${err.trim()}`))));
    });
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** 16-bit mono PCM WAV: a tone whose pitch follows the text, 60 ms per character (at most 20 s). */
export function speak(text: string, sampleRate = 16_000): Buffer {
  const chars = [...text];
  const seconds = Math.min(20, Math.max(0.2, chars.length * 0.06));
  const n = Math.floor(seconds * sampleRate);
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const ch = chars[Math.floor((i / n) * chars.length)] ?? ' ';
    const freq = 200 + (ch.codePointAt(0)! % 50) * 10;
    data.writeInt16LE(Math.round(Math.sin((2 * Math.PI * freq * i) / sampleRate) * 8000), i * 2);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** The LLM stand-in's answer, as tokens: an echo of the last user message, cut at maxTokens. */
export function llmTokens(messages: readonly { role: string; content: string }[], maxTokens: number): string[] {
  const last = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const words = `You said: ${last}`.split(/\s+/).filter(Boolean);
  return words.slice(0, Math.max(1, maxTokens)).map((w, i) => (i === 0 ? w : ` ${w}`));
}
