// Source segmenter: ffmpeg reads a live stream (the RTMP server playing the
// publish back) and cuts it into ~2 s MPEG-TS segments at keyframes, copying
// the packets without re-encoding.
import type { ChildProcess } from 'node:child_process';
import { readFileSync, unlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import type { Logger } from 'pino';
import { GatewayError } from '../lib/errors.ts';
import type { SourceShape } from './expectedOutput.ts';
import { ffmpegPath } from './ffmpegBinaries.ts';

export interface SourceSegment {
  /** 0 for the first segment of the stream, then +1. */
  readonly seq: number;
  readonly data: Buffer;
  /** From ffmpeg's segment list (end − start), rounded to whole ms. */
  readonly durationMs: number;
  /** The segment's end on ffmpeg's output timeline (ms from the input's start): the time of the keyframe that closed it. */
  readonly endMs: number;
  /** performance.now() when the segment was complete (ffmpeg listed its file, or the in-process muxer cut it). */
  readonly listedAt: number;
  /** performance.now() when the RTMP message of the keyframe that closed the segment arrived, when known. */
  readonly closedAt?: number;
  /** The video's size and frame rate, when the segmenter read them while cutting. */
  readonly shape?: SourceShape;
  /** keccak-256 of `data`, when the segmenter hashed it while writing it. */
  readonly hash?: Uint8Array;
}

export interface SegmenterOptions {
  /** What ffmpeg reads, e.g. the RtmpStream's playbackUrl. */
  inputUrl: string;
  /**
   * The stream as FLV bytes, piped to ffmpeg's stdin instead of reading `inputUrl` (no local RTMP hop: no
   * RTMP chunking, loopback socket or RTMP client in ffmpeg). `inputUrl` then only names it in logs.
   */
  input?: Readable;
  /** Parent folder for the segmenter's private temp folder (removed at the end). Default: the OS temp folder. */
  workDir?: string;
  /** Target segment length; cuts happen at the first keyframe after it. Default 2. */
  segmentSeconds?: number;
  /**
   * No new segment for this long closes the stream with SegmenterStallError.
   * Default 20 s (10 × the segment length, as go-livepeer).
   */
  stallTimeoutMs?: number;
  log?: Logger;
}

export interface Segmenter {
  /** Complete segments in order. Ends when the input ends or stop() is called; throws the segmenter's error otherwise. Single consumer. */
  readonly segments: AsyncIterable<SourceSegment>;
  /** Kill ffmpeg, end `segments`, remove temp files. Safe to call more than once. */
  stop(): Promise<void>;
  /** Settles once ffmpeg is gone and temp files are removed: resolves on end of input or stop(), rejects on failure. */
  readonly done: Promise<void>;
}

export class SegmenterError extends GatewayError {
  constructor(message: string, code = 'SEGMENTER_FAILED') {
    super(message, { code });
  }
}

/** The input produced no segment within stallTimeoutMs. */
export class SegmenterStallError extends SegmenterError {
  constructor(message: string) {
    super(message, 'SEGMENTER_STALLED');
  }
}

/** The stall error of a segmenter that cut nothing for `stallTimeoutMs`, with what the publisher should change. */
export function stallError(stallTimeoutMs: number): SegmenterStallError {
  return new SegmenterStallError(
    `no new segment for ${Math.round(stallTimeoutMs / 1000)} s: the stream stalled or its keyframe interval is too long ` +
      `(set the encoder's keyframe interval below 8 s)`,
  );
}

// ffmpeg children still running, killed if this process exits first.
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(proc: ChildProcess): void {
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', killAllSegmenters);
  }
}

/** SIGKILL every segmenter ffmpeg still running (also done automatically when the process exits). */
export function killAllSegmenters(): void {
  for (const p of running) {
    try {
      p.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Number of segmenter ffmpeg processes alive, for metrics and tests. */
export function runningSegmenters(): number {
  return running.size;
}

/** Simple single-consumer async queue of segments. */
export class SegmentQueue implements AsyncIterable<SourceSegment> {
  #items: SourceSegment[] = [];
  #waiter: ((r: IteratorResult<SourceSegment>) => void) | undefined;
  #failWaiter: ((e: Error) => void) | undefined;
  #ended = false;
  #error: Error | undefined;

  push(seg: SourceSegment): void {
    if (this.#ended) return;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = this.#failWaiter = undefined;
      w({ value: seg, done: false });
    } else {
      this.#items.push(seg);
    }
  }

  end(error?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    if (this.#waiter) {
      const w = this.#waiter;
      const f = this.#failWaiter!;
      this.#waiter = this.#failWaiter = undefined;
      if (error) f(error);
      else w({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<SourceSegment> {
    return {
      next: () => {
        const item = this.#items.shift();
        if (item) return Promise.resolve({ value: item, done: false });
        if (this.#ended) {
          return this.#error ? Promise.reject(this.#error) : Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve, reject) => {
          this.#waiter = resolve;
          this.#failWaiter = reject;
        });
      },
      return: () => {
        this.#items = [];
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

/** Parse one CSV line of ffmpeg's segment list: `name,start,end` (name may be quoted). */
export function parseSegmentListLine(line: string): { file: string; startS: number; endS: number } | undefined {
  const m = /^(?:"((?:[^"]|"")*)"|([^,]*)),([^,]+),([^,]+)$/.exec(line.trim());
  if (!m) return undefined;
  const file = m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]!;
  const startS = Number(m[3]);
  const endS = Number(m[4]);
  if (!Number.isFinite(startS) || !Number.isFinite(endS)) return undefined;
  return { file, startS, endS };
}

export function startSegmenter(opts: SegmenterOptions): Segmenter {
  const segmentSeconds = opts.segmentSeconds ?? 2;
  const stallTimeoutMs = opts.stallTimeoutMs ?? 20_000;
  const log = opts.log;
  const queue = new SegmentQueue();

  let dir: string | undefined;
  let proc: ChildProcess | undefined;
  let stopped = false;
  let failure: Error | undefined;
  let exited = false;
  let stallTimer: NodeJS.Timeout | undefined;
  let nextSeq = 0;
  const stderrTail: string[] = [];

  /** FLV bytes given to ffmpeg's stdin (or waiting for it) that ffmpeg has not read yet. */
  function inputBacklog(): number {
    const input = opts.input as (Readable & { writableLength?: number }) | undefined;
    if (!input || exited) return 0;
    return (proc?.stdin?.writableLength ?? 0) + input.readableLength + (input.writableLength ?? 0);
  }

  function armStall(ms = stallTimeoutMs): void {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => {
      // ffmpeg behind its input is slow (a loaded machine), not stalled: its segments are still coming, and
      // the caller bounds how far behind it may fall. Look again soon; a stall is no segment with nothing
      // left unread.
      if (inputBacklog() > 0) {
        armStall(Math.min(stallTimeoutMs, 5_000));
        return;
      }
      fail(stallError(stallTimeoutMs));
    }, ms);
    stallTimer.unref();
  }

  function kill(): void {
    // Before ffmpeg is spawned there is nothing to kill; the 'start' handler checks again.
    if (proc && !exited) {
      try {
        proc.kill('SIGKILL');
      } catch {
        // gone
      }
    }
  }

  function fail(err: Error): void {
    if (failure || stopped) return;
    failure = err;
    log?.warn({ err: err.message, input: redactStreamKey(opts.inputUrl) }, 'segmenter failed');
    kill();
  }

  function emitSegment(line: string, listedAt: number): void {
    const entry = parseSegmentListLine(line);
    if (!entry || !dir) return;
    const path = join(dir, entry.file);
    const seq = nextSeq;
    // ffmpeg's segment muxer writes the segment's trailer and flushes its file before it lists the segment
    // (the close comes after): the file is complete when its line arrives, nothing to wait for.
    if (stopped || failure) return;
    // Read at once, not through the thread pool: the file was just written (page cache, ~1 ms for a
    // 3 Mbit/s segment), while each thread-pool round trip of an async read (open, stat, reads, close)
    // costs a turn of the event loop, which on a loaded machine is what held segments back.
    let data: Buffer;
    try {
      data = readFileSync(path);
      unlinkSafely(path);
    } catch (err) {
      fail(new SegmenterError(`segment file ${entry.file} vanished: ${(err as Error).message}`));
      return;
    }
    if (stopped || failure) return;
    nextSeq += 1;
    armStall();
    queue.push({
      seq,
      data,
      durationMs: Math.max(0, Math.round((entry.endS - entry.startS) * 1000)),
      endMs: Math.round(entry.endS * 1000),
      listedAt,
    });
  }

  const done = (async () => {
    try {
      dir = await mkdtemp(join(opts.workDir ?? tmpdir(), 'lpgw-seg-'));
      if (stopped) return;
      armStall();
      const exitInfo = await new Promise<Error | undefined>((resolve) => {
        // fluent-ffmpeg spawns with this process's environment, without the extra variables a static build
        // may want (ffmpegBinaries.ts): reading FLV and writing MPEG-TS needs no charset conversion.
        const cmd = ffmpeg(opts.input ?? opts.inputUrl)
          .setFfmpegPath(ffmpegPath())
          .inputOptions(['-hide_banner', '-loglevel', 'error', ...(opts.input ? ['-f', 'flv'] : ['-nostdin'])])
          .outputOptions([
            '-map',
            '0:v?',
            '-map',
            '0:a?',
            '-c',
            'copy',
            '-f',
            'segment',
            '-segment_time',
            String(segmentSeconds),
            '-segment_format',
            'mpegts',
            '-segment_list',
            'pipe:1',
            '-segment_list_type',
            'csv',
            '-reset_timestamps',
            '0',
          ])
          .output(join(dir!, '%d.ts'));
        cmd.on('start', () => {
          const p = (cmd as unknown as { ffmpegProc: ChildProcess }).ffmpegProc;
          proc = p;
          track(p);
          p.once('exit', () => {
            exited = true;
          });
          let pending = '';
          p.stdout?.on('data', (chunk: Buffer) => {
            const listedAt = performance.now();
            pending += chunk.toString('utf8');
            for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
              const line = pending.slice(0, nl);
              pending = pending.slice(nl + 1);
              emitSegment(line, listedAt);
            }
          });
          p.stderr?.on('data', (chunk: Buffer | string) => {
            for (const l of chunk.toString().split('\n')) {
              if (l.trim()) stderrTail.push(l.trim());
            }
            if (stderrTail.length > 20) stderrTail.splice(0, stderrTail.length - 20);
          });
          if (stopped || failure) kill();
        });
        cmd.on('end', () => resolve(undefined));
        cmd.on('error', (err: Error) => resolve(err));
        cmd.run();
      });
      exited = true;
      clearTimeout(stallTimer);
      if (exitInfo && !stopped && !failure) {
        const detail = stderrTail.slice(-3).join(' | ') || exitInfo.message;
        failure = new SegmenterError(`ffmpeg segmenter stopped: ${detail}`);
      }
      if (failure) throw failure;
    } catch (err) {
      const e = err instanceof SegmenterError ? err : new SegmenterError(`segmenter could not run: ${(err as Error).message}`);
      if (!failure) failure = e;
      throw e;
    } finally {
      clearTimeout(stallTimer);
      if (dir) await rm(dir, { recursive: true, force: true }).catch(() => {});
      queue.end(stopped ? undefined : failure);
    }
  })();
  // Callers may only iterate `segments`; an unobserved `done` must not crash the process.
  done.catch(() => {});

  return {
    segments: queue,
    done,
    async stop() {
      if (!stopped && !failure) {
        stopped = true;
        queue.end();
        kill();
      }
      await done.catch(() => {});
    },
  };
}

function unlinkSafely(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already; the folder is removed at the end anyway
  }
}

/** Playback URLs carry the stream key; keep it out of logs. */
export function redactStreamKey(url: string): string {
  return url.replace(/(\/stream\/[^/]+\/).+$/, '$1***');
}
