// An RTMP stream's source segmenter, fed the stream's FLV tags in-process: H.264 with AAC or MP3 is muxed to
// MPEG-TS and cut at keyframes right here, on the tag that closes a segment (no process, no pipe, no file),
// so a segment is ready the moment its closing keyframe arrives. A stream in any other codec (enhanced-RTMP
// HEVC, other audio) goes to an ffmpeg segmenter instead, decided on its first tags: the tags held until then
// are replayed to ffmpeg, so no frame is lost. A codec change after the first segment ends the stream.
import { PassThrough } from 'node:stream';
import { errorMessage } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { type CutSegment, FlvTsSegmenter, UnsupportedCodecError } from './flvTsSegmenter.ts';
import { KeyframeClock } from './keyframeClock.ts';
import { type Segmenter, SegmenterError, SegmentQueue, stallError, startSegmenter } from './segmenter.ts';

export interface FlvSegmenterOptions {
  /** Names the stream in logs and errors (never its key). */
  name: string;
  /** Target segment length; cuts happen at the first keyframe after it. Default 2. */
  segmentSeconds?: number;
  /** No new segment for this long fails the segmenter with SegmenterStallError. Default 20 s (10 × the segment length, as go-livepeer). */
  stallTimeoutMs?: number;
  /** A segment without a keyframe past this size fails the stream. Default: the muxer's. */
  maxSegmentBytes?: number;
  /** FLV bytes the ffmpeg fallback may fall behind before the stream fails. Default 64 MiB. */
  maxBacklogBytes?: number;
  /** Parent folder of the ffmpeg fallback's temp folder. */
  workDir?: string;
  log?: Logger;
}

export interface FlvSegmenter extends Segmenter {
  /**
   * One FLV tag of the stream (the FLV file header may come first); `receivedAt` is performance.now() when
   * its RTMP message arrived. The tag's bytes may be reused once this returns: what is kept is copied.
   */
  write(tag: Buffer, receivedAt: number): void;
  /** The input ended: the last segment follows, then `segments` ends. */
  end(): void;
  /** 'ffmpeg' once the stream's codecs sent it to the ffmpeg segmenter. */
  readonly mode: 'in-process' | 'ffmpeg';
}

const DEFAULT_MAX_BACKLOG = 64 << 20;

export function startFlvSegmenter(opts: FlvSegmenterOptions): FlvSegmenter {
  const segmentSeconds = opts.segmentSeconds ?? 2;
  const stallTimeoutMs = opts.stallTimeoutMs ?? 20_000;
  const log = opts.log;
  const queue = new SegmentQueue();
  const muxer = new FlvTsSegmenter({ segmentSeconds, ...(opts.maxSegmentBytes !== undefined ? { maxSegmentBytes: opts.maxSegmentBytes } : {}) });

  let mode: 'in-process' | 'ffmpeg' = 'in-process';
  let nextSeq = 0;
  let ended = false;
  let stopped = false;
  let failure: Error | undefined;
  /** Tags (with their arrival) until the first segment is cut: what an ffmpeg fallback is given first. */
  let held: Array<{ tag: Buffer; receivedAt: number }> | undefined = [];
  let stallTimer: NodeJS.Timeout | undefined;
  let fallback: { input: PassThrough; clock: KeyframeClock; segmenter: Segmenter; pending: Buffer[] } | undefined;

  let settle!: (err?: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    settle = (err) => (err ? reject(err) : resolve());
  });
  // Callers may only iterate `segments`; an unobserved `done` must not crash the process.
  done.catch(() => {});

  function finish(err?: Error): void {
    clearTimeout(stallTimer);
    held = undefined;
    queue.end(stopped ? undefined : err);
    settle(stopped ? undefined : err);
  }

  function fail(err: Error): void {
    if (failure || stopped) return;
    failure = err;
    log?.warn({ stream: opts.name, err: err.message }, 'segmenter failed');
    if (fallback) void fallback.segmenter.stop();
    finish(err);
  }

  function armStall(): void {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => fail(stallError(stallTimeoutMs)), stallTimeoutMs);
    stallTimer.unref();
  }

  function emit(seg: CutSegment, closedAt: number | undefined): void {
    held = undefined;
    armStall();
    queue.push({
      seq: nextSeq++,
      data: seg.data,
      durationMs: seg.durationMs,
      endMs: seg.endMs,
      listedAt: performance.now(),
      ...(closedAt !== undefined ? { closedAt } : {}),
      ...(seg.shape ? { shape: seg.shape } : {}),
      ...(seg.hash ? { hash: seg.hash } : {}),
    });
  }

  /** Hands the stream to an ffmpeg segmenter, replaying what was held. */
  function toFfmpeg(reason: string): void {
    const replay = held ?? [];
    held = undefined;
    clearTimeout(stallTimer);
    mode = 'ffmpeg';
    log?.info({ stream: opts.name, reason }, 'segmenting with ffmpeg');
    const input = new PassThrough();
    const clock = new KeyframeClock();
    const segmenter = startSegmenter({
      inputUrl: opts.name,
      input,
      segmentSeconds,
      stallTimeoutMs,
      ...(opts.workDir !== undefined ? { workDir: opts.workDir } : {}),
      ...(log ? { log } : {}),
    });
    fallback = { input, clock, segmenter, pending: [] };
    for (const { tag, receivedAt } of replay) writeToFfmpeg(tag, receivedAt);
    void (async () => {
      try {
        for await (const seg of segmenter.segments) {
          const closing = clock.closing(seg.endMs);
          queue.push({ ...seg, seq: nextSeq++, ...(closing ? { closedAt: closing.receivedAt } : {}) });
        }
        if (!failure) finish();
      } catch (err) {
        fail(err instanceof Error ? err : new SegmenterError(errorMessage(err)));
      }
    })();
  }

  /**
   * The tags of one read from the publisher's socket go to ffmpeg in one write, at the end of that read's
   * processing (process.nextTick), not a turn of the event loop later.
   */
  function writeToFfmpeg(tag: Buffer, receivedAt: number): void {
    const f = fallback!;
    if (f.input.writableEnded) return;
    if (f.input.writableLength > (opts.maxBacklogBytes ?? DEFAULT_MAX_BACKLOG)) {
      fail(new SegmenterError(`the segmenter fell ${(opts.maxBacklogBytes ?? DEFAULT_MAX_BACKLOG) >> 20} MiB behind the stream`));
      return;
    }
    f.clock.onTag(tag, receivedAt);
    if (f.pending.push(Buffer.from(tag)) === 1) process.nextTick(() => flushToFfmpeg(f));
  }

  function flushToFfmpeg(f: NonNullable<typeof fallback>): void {
    if (f.pending.length === 0) return;
    const chunk = f.pending.length === 1 ? f.pending[0]! : Buffer.concat(f.pending);
    f.pending = [];
    if (!f.input.writableEnded) f.input.write(chunk);
    f.clock.onWrite(performance.now());
  }

  armStall();
  return {
    segments: queue,
    done,
    get mode() {
      return mode;
    },
    write(tag, receivedAt) {
      if (ended || stopped || failure) return;
      if (fallback) return writeToFfmpeg(tag, receivedAt);
      held?.push({ tag: Buffer.from(tag), receivedAt });
      let cut: ReturnType<FlvTsSegmenter['push']>;
      try {
        cut = muxer.push(tag);
      } catch (err) {
        if (err instanceof UnsupportedCodecError && held) return toFfmpeg(err.message);
        const message = err instanceof UnsupportedCodecError ? `the stream changed codec mid-stream: ${err.message}` : errorMessage(err);
        return fail(new SegmenterError(message));
      }
      if (cut) emit(cut, receivedAt);
    },
    end() {
      if (ended || stopped || failure) return;
      ended = true;
      if (fallback) {
        flushToFfmpeg(fallback);
        fallback.input.end();
        return;
      }
      try {
        const last = muxer.end();
        if (last) emit(last, undefined);
        finish();
      } catch (err) {
        fail(new SegmenterError(errorMessage(err)));
      }
    },
    async stop() {
      if (stopped || failure) return done.catch(() => {});
      stopped = true;
      if (fallback) await fallback.segmenter.stop();
      finish();
      await done.catch(() => {});
    },
  };
}
