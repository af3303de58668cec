// Cheap transcoding for load tests: every rendition is pre-encoded once per profile and segment length
// from a test pattern, then served for every segment of that length. Pixel counts are those of the bytes
// served (so a verifying broadcaster finds them right), payments and signatures are real, and no ffmpeg
// runs per segment: the machine measures the broadcaster, not the transcoding.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ffmpegPath, mediaToolEnv } from '../../../src/media/ffmpegBinaries.ts';
import { keccak256 } from '../../../src/lib/keccak.ts';
import type { VideoProfileMsg } from '../../../src/wire/lpRpc.ts';
import { TranscodeError, transcodeSegment, type Rendition } from './transcode.ts';

/** Segment lengths are matched to the frame at this rate (the devnet's streams are 30 fps). */
const MATCH_FPS = 30;
/** Distinct (profile, length) renditions kept; past it the oldest is made again when asked. */
const MAX_ENTRIES = 64;
const MAX_DURATION_MS = 60_000;
/** How long chain reads are cached in the load mode (otherwise 500 ms; see chainView.ts). */
export const LOAD_MODE_CHAIN_TTL_MS = 5000;

function profileKey(p: VideoProfileMsg): string {
  return [p.name, p.width, p.height, p.bitrate, p.fps, p.fpsDen, p.profile, p.gop, p.encoder, p.format, p.colorDepth, p.chromaFormat].join('|');
}

/** A 1280×720 test-pattern MPEG-TS segment of `frames` frames at 30 fps (one ffmpeg run). */
function testPatternSegment(frames: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=${MATCH_FPS}`];
    args.push('-frames:v', String(frames), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(frames), '-pix_fmt', 'yuv420p', '-f', 'mpegts', 'pipe:1');
    const child = spawn(ffmpegPath(), args, { env: mediaToolEnv('ffmpeg'), stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    (child.stdout as Readable).on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', (e) => reject(new TranscodeError(`could not run ffmpeg: ${e.message}`)));
    child.once('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new TranscodeError(`test pattern failed: ${stderr.trim()}`))));
  });
}

export class PrerenderedTranscoder {
  readonly #sources = new Map<number, Promise<Buffer>>();
  readonly #renditions = new Map<string, Promise<Rendition>>();
  /** Renditions encoded so far (each once per profile and segment length). */
  encoded = 0;

  /** `cacheDir`: renditions are also kept there, so a restarted orchestrator serves its first segment at once. */
  constructor(private readonly cacheDir?: string) {}

  /** The renditions of a segment of `durationMs`, one per profile, from the cache or encoded once now. */
  async transcode(durationMs: number, profiles: readonly VideoProfileMsg[]): Promise<Rendition[]> {
    if (profiles.length === 0) throw new TranscodeError('ZeroSegments');
    if (!(durationMs > 0) || durationMs > MAX_DURATION_MS) throw new TranscodeError('segment duration out of range for the load mode');
    const frames = Math.max(1, Math.round((durationMs * MATCH_FPS) / 1000));
    return Promise.all(profiles.map((p) => this.#rendition(frames, p)));
  }

  #rendition(frames: number, p: VideoProfileMsg): Promise<Rendition> {
    const key = `${frames}|${profileKey(p)}`;
    let r = this.#renditions.get(key);
    if (!r) {
      r = this.#fromDisk(key)
        .then(
          async (cached) =>
            cached ??
            this.#source(frames).then(async (src) => {
              this.encoded++;
              const made = (await transcodeSegment(src, [p]))[0]!;
              await this.#toDisk(key, made);
              return made;
            }),
        )
        // served for every segment of this length: its hash (for the result's signature) is worked out once
        .then((made) => ({ ...made, hash: keccak256(made.data) }));
      r.catch(() => this.#renditions.delete(key));
      this.#renditions.set(key, r);
      if (this.#renditions.size > MAX_ENTRIES) this.#renditions.delete(this.#renditions.keys().next().value!);
    }
    return r;
  }

  #cacheFile(key: string): string | undefined {
    return this.cacheDir && join(this.cacheDir, createHash('sha256').update(key).digest('hex').slice(0, 32));
  }

  async #fromDisk(key: string): Promise<Rendition | undefined> {
    const file = this.#cacheFile(key);
    if (!file) return undefined;
    try {
      const meta = JSON.parse(await readFile(`${file}.json`, 'utf8')) as { frames: number; pixels: string };
      return { data: await readFile(`${file}.ts`), frames: meta.frames, pixels: BigInt(meta.pixels) };
    } catch {
      return undefined; // not made yet
    }
  }

  async #toDisk(key: string, r: Rendition): Promise<void> {
    const file = this.#cacheFile(key);
    if (!file) return;
    await mkdir(this.cacheDir!, { recursive: true });
    await writeCacheEntry(file, r);
  }

  #source(frames: number): Promise<Buffer> {
    let s = this.#sources.get(frames);
    if (!s) {
      s = testPatternSegment(frames);
      s.catch(() => this.#sources.delete(frames));
      this.#sources.set(frames, s);
      if (this.#sources.size > MAX_ENTRIES) this.#sources.delete(this.#sources.keys().next().value!);
    }
    return s;
  }
}

/**
 * Writes a cache entry: bytes first, then the meta file that makes them count, so a reader never sees half
 * an entry. Orchestrator processes sharing the directory miss the same entry at once (every stream's short
 * last segment), so each writes under names of its own and renames over the other's equal entry.
 */
export async function writeCacheEntry(file: string, r: Rendition): Promise<void> {
  const mine = `${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(`${file}.ts.${mine}`, r.data);
  await rename(`${file}.ts.${mine}`, `${file}.ts`);
  await writeFile(`${file}.json.${mine}`, JSON.stringify({ frames: r.frames, pixels: String(r.pixels) }));
  await rename(`${file}.json.${mine}`, `${file}.json`);
}

/** One cache per process: orchestrators started together (startLocalNetwork) encode each rendition once. */
export const sharedPrerenderedTranscoder = new PrerenderedTranscoder();
