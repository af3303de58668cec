// When each keyframe of an RTMP stream reached the gateway and when it went on to an ffmpeg segmenter's
// stdin, so that a segment ffmpeg cuts can be traced back to the frame that closed it (the source latency
// histogram and the debug log's timings). The in-process segmenter knows the closing tag without this.
import { flvKeyframeTimestamp, flvMediaTimestamp } from './flvTag.ts';

export interface KeyframeTiming {
  /** ms from the stream's first media tag (ffmpeg's output timeline starts there) */
  relMs: number;
  /** performance.now() when the RTMP message arrived */
  receivedAt: number;
  /** performance.now() when its bytes were written to the segmenter's stdin */
  writtenAt?: number;
}

/** Keyframes remembered: a segmenter more than this many keyframes behind gets no timing (it is failing anyway). */
const MAX_KEYFRAMES = 64;
/** How far a segment's listed end may be from the keyframe's own timestamp (B-frame delay, start offset). */
const MATCH_TOLERANCE_MS = 400;

export class KeyframeClock {
  #base: number | undefined;
  #frames: KeyframeTiming[] = [];
  #unwritten: KeyframeTiming[] = [];

  /** An FLV tag arrived from the publisher. */
  onTag(tag: Buffer, now: number): void {
    const ts = flvKeyframeTimestamp(tag);
    if (this.#base === undefined) this.#base = ts ?? flvMediaTimestamp(tag);
    if (ts === undefined || this.#base === undefined) return;
    const frame: KeyframeTiming = { relMs: ts - this.#base, receivedAt: now };
    this.#frames.push(frame);
    this.#unwritten.push(frame);
    if (this.#frames.length > MAX_KEYFRAMES) this.#frames.shift();
    if (this.#unwritten.length > MAX_KEYFRAMES) this.#unwritten.shift();
  }

  /** Every tag so far was written to the segmenter. */
  onWrite(now: number): void {
    for (const f of this.#unwritten) f.writtenAt = now;
    this.#unwritten = [];
  }

  /** The keyframe that closed a segment ending at `endMs` on ffmpeg's timeline; forgets the ones before it. */
  closing(endMs: number): KeyframeTiming | undefined {
    let best = -1;
    for (let i = 0; i < this.#frames.length; i++) {
      const d = Math.abs(this.#frames[i]!.relMs - endMs);
      if (d <= MATCH_TOLERANCE_MS && (best < 0 || d < Math.abs(this.#frames[best]!.relMs - endMs))) best = i;
    }
    if (best < 0) return undefined;
    const frame = this.#frames[best]!;
    this.#frames.splice(0, best + 1);
    return frame;
  }
}
