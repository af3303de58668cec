// FLV tags in, ~2 s MPEG-TS segments out, in-process: what `ffmpeg -f flv -i - -c copy -f segment
// -segment_time 2 -segment_format mpegts -reset_timestamps 0` does, without a process per stream.
//
// It follows ffmpeg's choices so that everything downstream sees the same segments:
// - the timeline starts at the first media frame; a segment is cut at the first video keyframe (audio-only:
//   any audio frame) whose PTS is at or after (segments cut so far + 1) × segment length;
// - a segment's listed end is the largest PTS + duration of its video (audio-only: audio) frames, its start
//   the PTS of the frame that opened it (0 for the first);
// - PTS/DTS carry ffmpeg's MPEG-TS start offset (1.4 s: twice the default -muxdelay of 0.7 s), the PCR
//   runs 0.7 s behind the DTS; audio timestamps follow the sample clock where the FLV milliseconds
//   allow it (ffmpeg's stream copy does the same), and up to 2930 bytes or 0.35 s of audio go in one PES;
// - one video access unit per PES, AUD first, SPS/PPS before keyframes (Annex B), AAC behind ADTS headers.
// Where ffmpeg's output would be broken we do better: a new sequence header is used from then on (ffmpeg
// keeps the first), a stream that appears later is added to the PMT, a clock that runs back by seconds
// goes on from where it was, and PCR-only packets keep the PCR within 90 ms (ffmpeg leaves gaps of a
// frame interval or an audio PES). Continuity counters run on across segments; there is no SDT.
import { GatewayError } from '../lib/errors.ts';
import { GrowableBytes } from '../lib/growableBytes.ts';
import { AAC_FRAME_SAMPLES, ADTS_HEADER, type AacConfig, mp3FrameInfo, readAacConfig, writeAdtsHeader } from './aacAdts.ts';
import { type AvcConfig, annexBAccessUnit, readAvcConfig } from './avcAnnexB.ts';
import { DeferredKeccak256Stream } from '../lib/keccakLanes.ts';
import type { SourceShape } from './expectedOutput.ts';
import { FlvMediaError, type FlvFrame, isFlvFileHeader, readFlvTag, UnsupportedCodecError } from './flvMedia.ts';
import {
  FIRST_ES_PID,
  STREAM_ID_AUDIO,
  STREAM_ID_VIDEO,
  STREAM_TYPE_AAC_ADTS,
  STREAM_TYPE_H264,
  STREAM_TYPE_MPEG1_AUDIO,
  TS_PACKET,
  type PesOptions,
  programKey,
  type TsElementaryStream,
  TsWriter,
} from './tsMux.ts';

export { FlvMediaError, UnsupportedCodecError } from './flvMedia.ts';

/** No keyframe came before the segment grew past maxSegmentBytes. */
export class SegmentTooLargeError extends FlvMediaError {}

export interface CutSegment {
  /** keccak-256 of `data`, hashed while the segment was written (absent when a stream joined the program mid-segment). */
  hash?: Uint8Array;
  /**
   * The video's size (from the sequence header in force) and frame rate (from the pictures' PTS, as
   * bitstreamShape reads them), when every picture of the segment is under one known sequence header.
   */
  shape?: SourceShape;
  /** A complete MPEG-TS segment: PAT + PMT first, whole 188-byte packets. */
  data: Buffer;
  /** As ffmpeg's segment list says it (end − start), whole ms. */
  durationMs: number;
  /** Where the segment ends (the closing keyframe's time), ms from the stream's first media frame. */
  endMs: number;
}

export interface FlvTsSegmenterOptions {
  /** Target segment length, s (default 2). */
  segmentSeconds?: number;
  /** A segment larger than this without a keyframe to cut at fails the stream (default 64 MiB). */
  maxSegmentBytes?: number;
}

/** 90 kHz ticks per ms. */
const TICKS_PER_MS = 90;
/** ffmpeg's MPEG-TS muxer adds 2 × max_delay (0.7 s by default) to every PTS/DTS … */
const TS_OFFSET = 126_000;
/** … and sends each PCR 0.7 s before the DTS of its packet. */
const PCR_OFFSET = 63_000;
/** ffmpeg's default pes_payload_size: audio frames are gathered into PES packets up to this many bytes … */
const AUDIO_PES_BYTES = 2930;
/** … or until a frame's DTS is this far (max_delay / 2, 90 kHz) from the first one gathered. */
const AUDIO_PES_SPAN = 31_500;
/** A PCR at least this often (90 kHz: 90 ms), with PCR-only packets when the PCR stream's PES are further apart. */
const PCR_INTERVAL = 8_100;
/** A PCR gap larger than this is a timestamp jump, not something to fill. */
const PCR_GAP_FILL_LIMIT = 90_000;
const TWO_32 = 2 ** 32;
/** The clock running back further than this is a restarted encoder, not audio and video interleaved loosely. */
const CLOCK_RESTART_MS = 5_000;
/** The first segment's buffer; a stream without one to reuse starts at the size of its last segment, plus an eighth. */
const FIRST_SEGMENT_CAPACITY = 1 << 20;
/**
 * Segments are written into one buffer per stream, reused (fresh memory costs a page fault per 4 KiB on
 * first write), and each is copied out at its own size, as the HLS window keeps it. A buffer grown to more
 * than this many times the segment just written (and FIRST_SEGMENT_CAPACITY) is let go, not kept at that size.
 */
const KEEP_BUFFER_UP_TO = 2;
/** The running hash takes the segment's new bytes in pieces of at least this many. */
const HASH_PIECE = 64 << 10;
const PSI_BYTES = 2 * TS_PACKET;

/** a × b / c rounded to nearest, halves away from zero (av_rescale's rounding). */
function rescale(a: number, b: number, c: number): number {
  const q = (a * b) / c;
  return q < 0 ? -Math.round(-q) : Math.round(q);
}

export class FlvTsSegmenter {
  readonly #segmentUs: number;
  readonly #maxBytes: number;
  readonly #ts = new TsWriter();
  #failed: Error | undefined;
  #ended = false;

  // codecs, as the latest sequence headers say
  #avc: AvcConfig | undefined;
  #aac: AacConfig | undefined;
  #audioType: number | undefined;
  #videoPid: number | undefined;
  #audioPid: number | undefined;

  // timeline: FLV ms (32-bit, unwrapped) → ms from the first media frame → 90 kHz
  #lastRaw: number | undefined;
  #epoch = 0;
  #origin: number | undefined;
  /** ms added after the clock ran back (see #relMs) */
  #rebase = 0;
  #latestMs = 0;
  #lastVideoDts = Number.NEGATIVE_INFINITY;
  #lastAudioDts = Number.NEGATIVE_INFINITY;
  /** ffmpeg's av_rescale_delta state: where the next audio frame starts on the sample clock */
  #audioNextSample: number | undefined;

  // the segment being filled
  #cuts = 0;
  #startTicks = 0;
  #endTicks = 0;
  /** its transport packets, PAT and PMT first, written in place (undefined until its first packet) */
  #seg: GrowableBytes | undefined;
  /** the buffer the last segment was written in, emptied, for the next one */
  #spare: GrowableBytes | undefined;
  #lastSegmentBytes = 0;
  #frames = 0;
  #pcrPid: number | undefined;
  #lastPcr: number | undefined;
  #videoFirstDts: number | undefined;
  #videoFramesInSegment = 0;
  #videoFrameTicks = 33 * TICKS_PER_MS;
  // the segment's shape: the sequence header its pictures are under (null: more than one, or one in band)
  #shapeConfig: AvcConfig | null | undefined;
  #shapePtsMin = 0;
  #shapePtsMax = 0;
  #shapePictures = 0;
  readonly #seen = { sps: false };

  // the segment's PAT/PMT, written (and hashed) before its first packet; rebuilt at the end if its streams changed
  #psi: { key: string; mark: ReturnType<TsWriter['mark']> } | undefined;
  #hash: DeferredKeccak256Stream | undefined;
  /** bytes of #seg the hash has taken */
  #hashed = 0;
  /** scratch space for one access unit in Annex B */
  readonly #annexB = new GrowableBytes(64 << 10);

  // audio frames gathered for the next audio PES
  readonly #audioPes = Buffer.allocUnsafe(AUDIO_PES_BYTES);
  #audioPesBytes = 0;
  #audioPesPts = 0;

  constructor(opts: FlvTsSegmenterOptions = {}) {
    const seconds = opts.segmentSeconds ?? 2;
    if (!(seconds > 0 && seconds <= 3600)) throw new GatewayError(`segmentSeconds ${seconds} is not in (0, 3600]`);
    this.#segmentUs = Math.round(seconds * 1e6);
    this.#maxBytes = opts.maxSegmentBytes ?? 64 * 1024 * 1024;
    if (!(this.#maxBytes >= 1024)) throw new GatewayError(`maxSegmentBytes ${this.#maxBytes} is below 1 KiB`);
  }

  /**
   * One FLV tag (11-byte header, body, 4-byte previous-tag size); the FLV file header may come first and
   * is skipped, script tags too. Returns the segment this tag closed (the tag then opens the next one).
   */
  push(tag: Buffer): CutSegment | undefined {
    this.#usable();
    try {
      let t = tag;
      if (isFlvFileHeader(t)) {
        if (t.length < 9) return undefined;
        const headerSize = t.readUInt32BE(5) + 4; // DataOffset, then PreviousTagSize0
        if (headerSize >= t.length) return undefined;
        t = t.subarray(headerSize);
      }
      const frame = readFlvTag(t);
      return frame ? this.#frame(frame) : undefined;
    } catch (err) {
      throw this.#fail(err);
    }
  }

  /** End of input: the last segment, if it holds any frame. */
  end(): CutSegment | undefined {
    this.#usable();
    this.#ended = true;
    try {
      this.#flushAudio();
      return this.#frames > 0 ? this.#finish() : undefined;
    } catch (err) {
      throw this.#fail(err);
    }
  }

  #usable(): void {
    if (this.#failed) throw new FlvMediaError(`the segmenter already failed: ${this.#failed.message}`, { cause: this.#failed });
    if (this.#ended) throw new FlvMediaError('the segmenter was already ended');
  }

  /** Only the typed errors leave: anything else is a malformed input we did not name. */
  #fail(err: unknown): Error {
    const e =
      err instanceof FlvMediaError || err instanceof UnsupportedCodecError ? err : new FlvMediaError(`malformed FLV input: ${String(err)}`, { cause: err });
    this.#failed = e;
    return e;
  }

  #frame(f: FlvFrame): CutSegment | undefined {
    switch (f.kind) {
      case 'avcConfig':
        this.#avc = readAvcConfig(f.data);
        this.#videoPid ??= this.#nextPid();
        return undefined;
      case 'aacConfig':
        this.#setAudio(STREAM_TYPE_AAC_ADTS);
        this.#aac = readAacConfig(f.data);
        return undefined;
      case 'avc':
        return this.#avc ? this.#video(f.timestamp, f.key, f.cts, f.data) : undefined; // nothing decodes before the sequence header
      case 'aac':
        return this.#aac && this.#audioType === STREAM_TYPE_AAC_ADTS ? this.#audio(f.timestamp, f.data) : undefined;
      case 'mp3':
        this.#setAudio(STREAM_TYPE_MPEG1_AUDIO);
        return this.#audio(f.timestamp, f.data);
    }
  }

  #nextPid(): number {
    return FIRST_ES_PID + (this.#videoPid !== undefined ? 1 : 0) + (this.#audioPid !== undefined ? 1 : 0);
  }

  #setAudio(streamType: number): void {
    if (this.#audioType !== streamType) {
      this.#flushAudio();
      this.#audioNextSample = undefined;
    }
    this.#audioType = streamType;
    this.#audioPid ??= this.#nextPid();
  }

  /**
   * ms from the first media frame, FLV's 32-bit millisecond clock unwrapped. A clock that runs back by
   * more than a few seconds (the publisher's encoder restarted) is moved to go on from where it was: ffmpeg
   * would put every later frame 1 tick after the last DTS and never cut again.
   */
  #relMs(raw: number): number {
    let ext: number;
    if (this.#lastRaw !== undefined && raw < this.#lastRaw - 2 ** 31) {
      this.#epoch += TWO_32;
      this.#lastRaw = raw;
      ext = raw + this.#epoch;
    } else if (this.#lastRaw !== undefined && raw > this.#lastRaw + 2 ** 31 && this.#epoch > 0) {
      ext = raw + this.#epoch - TWO_32; // a late frame from before the wrap
    } else {
      this.#lastRaw = raw;
      ext = raw + this.#epoch;
    }
    this.#origin ??= ext;
    let rel = ext - this.#origin + this.#rebase;
    if (rel < this.#latestMs - CLOCK_RESTART_MS) {
      this.#rebase += this.#latestMs - rel;
      rel = this.#latestMs;
    }
    if (rel > this.#latestMs) this.#latestMs = rel;
    return rel;
  }

  #video(timestamp: number, key: boolean, cts: number, au: Buffer): CutSegment | undefined {
    this.#annexB.clear();
    const es = annexBAccessUnit(au, this.#avc!, key, this.#seen, this.#annexB);
    if (!es) return undefined;
    const inBandSps = this.#seen.sps;
    const rel = this.#relMs(timestamp);
    let dts = rel * TICKS_PER_MS;
    if (dts <= this.#lastVideoDts) dts = this.#lastVideoDts + 1; // as ffmpeg makes DTS strictly increasing
    this.#lastVideoDts = dts;
    let pts = dts + cts * TICKS_PER_MS;
    if (pts < dts) pts = dts;
    const cut = key && this.#frames > 0 && this.#isCutPoint(pts) ? this.#cut(pts) : undefined;
    this.#trackShape(pts, inBandSps);
    this.#trackVideoDuration(dts);
    this.#endTicks = Math.max(this.#endTicks, pts + this.#videoFrameTicks);
    this.#frames++;
    this.#write(this.#videoPid!, { pid: this.#videoPid!, streamId: STREAM_ID_VIDEO, pts, dts, randomAccess: key, bounded: false }, es);
    return cut;
  }

  #trackShape(pts: number, inBandSps: boolean): void {
    if (this.#shapePictures === 0) {
      this.#shapeConfig = this.#avc;
      this.#shapePtsMin = pts;
      this.#shapePtsMax = pts;
    }
    if (inBandSps || this.#shapeConfig !== this.#avc) this.#shapeConfig = null;
    if (pts < this.#shapePtsMin) this.#shapePtsMin = pts;
    if (pts > this.#shapePtsMax) this.#shapePtsMax = pts;
    this.#shapePictures++;
  }

  #shape(): SourceShape | undefined {
    const size = this.#shapeConfig?.frameSize;
    if (!size || this.#shapePictures === 0) return undefined;
    const span = this.#shapePtsMax - this.#shapePtsMin;
    // n timestamps span n − 1 frame intervals (the same reckoning as bitstreamShape)
    const fps = this.#shapePictures >= 2 && span > 0 ? Math.round(((this.#shapePictures - 1) * 90_000 * 1000) / span) / 1000 : undefined;
    return { width: size.width, height: size.height, ...(fps !== undefined ? { fps } : {}) };
  }

  /** A frame's duration as ffmpeg reckons it from the frame rate: the mean DTS step of this segment's frames, in whole ms. */
  #trackVideoDuration(dts: number): void {
    if (this.#videoFirstDts === undefined) {
      this.#videoFirstDts = dts;
    } else {
      this.#videoFramesInSegment++;
      const step = (dts - this.#videoFirstDts) / this.#videoFramesInSegment;
      if (step > 0 && step < 10_000 * TICKS_PER_MS) this.#videoFrameTicks = Math.round(step / TICKS_PER_MS) * TICKS_PER_MS;
    }
  }

  #audio(timestamp: number, raw: Buffer): CutSegment | undefined {
    const aac = this.#audioType === STREAM_TYPE_AAC_ADTS ? this.#aac! : undefined;
    let samples: number;
    let sampleRate: number;
    if (aac) {
      samples = AAC_FRAME_SAMPLES;
      sampleRate = aac.sampleRate;
    } else {
      const info = mp3FrameInfo(raw);
      samples = info?.samples ?? 1152;
      sampleRate = info?.sampleRate ?? 44_100;
    }
    const rel = this.#relMs(timestamp);
    let dts = this.#audioTicks(rel, samples, sampleRate);
    if (dts <= this.#lastAudioDts) dts = this.#lastAudioDts + 1;
    this.#lastAudioDts = dts;
    const size = raw.length + (aac ? ADTS_HEADER : 0);
    const audioOnly = this.#videoPid === undefined;
    const cut = audioOnly && this.#frames > 0 && this.#isCutPoint(dts) ? this.#cut(dts) : undefined;
    if (audioOnly) this.#endTicks = Math.max(this.#endTicks, dts + rescale(samples, 1000, sampleRate) * TICKS_PER_MS);
    this.#frames++;
    if (this.#audioPesBytes > 0 && (this.#audioPesBytes + size > AUDIO_PES_BYTES || dts - this.#audioPesPts >= AUDIO_PES_SPAN)) this.#flushAudio();
    if (size > AUDIO_PES_BYTES) {
      const own = Buffer.allocUnsafe(size);
      if (aac) writeAdtsHeader(own, 0, aac, raw.length);
      raw.copy(own, aac ? ADTS_HEADER : 0);
      this.#writeAudioPes(dts, own);
      return cut;
    }
    if (this.#audioPesBytes === 0) this.#audioPesPts = dts;
    if (aac) {
      writeAdtsHeader(this.#audioPes, this.#audioPesBytes, aac, raw.length);
      this.#audioPesBytes += ADTS_HEADER;
    }
    this.#audioPesBytes += raw.copy(this.#audioPes, this.#audioPesBytes);
    this.#checkSize(0);
    return cut;
  }

  /**
   * An audio frame's time on the 90 kHz clock: ffmpeg's stream copy keeps audio on the sample clock
   * (av_rescale_delta), moving it only when the FLV milliseconds fall more than half a millisecond away.
   * (At 44.1 kHz ffmpeg's values differ from this by a tick, 11 µs, now and then.)
   */
  #audioTicks(relMs: number, samples: number, sampleRate: number): number {
    const next = this.#audioNextSample;
    const a = Math.floor(Math.floor(((2 * relMs - 1) * sampleRate) / 1000) / 2);
    const b = Math.floor((Math.ceil(((2 * relMs + 1) * sampleRate) / 1000) + 1) / 2);
    if (next === undefined || next < 2 * a - b || next > 2 * b - a) {
      this.#audioNextSample = rescale(relMs, sampleRate, 1000) + samples;
      return relMs * TICKS_PER_MS;
    }
    const at = next < a ? a : next > b ? b : next;
    this.#audioNextSample = at + samples;
    return rescale(at, 90_000, sampleRate);
  }

  #flushAudio(): void {
    if (this.#audioPesBytes === 0) return;
    // written into the segment at once, so the gathering buffer is free again when this returns
    const data = this.#audioPes.subarray(0, this.#audioPesBytes);
    this.#audioPesBytes = 0;
    this.#writeAudioPes(this.#audioPesPts, data);
  }

  #writeAudioPes(pts: number, data: Buffer): void {
    this.#write(this.#audioPid!, { pid: this.#audioPid!, streamId: STREAM_ID_AUDIO, pts, randomAccess: true, bounded: true }, data);
  }

  /** The reference frame at `pts` (90 kHz) is at or after the next cut time. */
  #isCutPoint(pts: number): boolean {
    return pts * 100 >= (this.#cuts + 1) * this.#segmentUs * 9;
  }

  /** Write one PES into the current segment, with the PCR it needs. */
  #write(pid: number, opts: PesOptions, payload: Buffer): void {
    const dts = opts.dts ?? opts.pts;
    this.#pcrPid ??= this.#videoPid ?? pid;
    const pcrPid = this.#pcrPid;
    let last = this.#lastPcr;
    // PCR-only packets where the PCR stream's own packets are too far apart (slow video, gathered audio)
    if (last !== undefined && dts - last > PCR_INTERVAL && dts - last <= PCR_GAP_FILL_LIMIT) {
      for (let t = last + PCR_INTERVAL; t < dts; t += PCR_INTERVAL) {
        this.#ts.writePcrOnly(this.#out(), pcrPid, t + PCR_OFFSET);
        last = t;
      }
    }
    if (pid === pcrPid) {
      // never back: a PCR-only packet for audio running ahead of a slow video stream may have moved it on
      const pcr = last !== undefined && dts < last && last - dts <= PCR_GAP_FILL_LIMIT ? last : dts;
      opts.pcr = pcr + PCR_OFFSET;
      last = pcr;
    } else if (last === undefined || dts - last > PCR_GAP_FILL_LIMIT) {
      this.#ts.writePcrOnly(this.#out(), pcrPid, dts + PCR_OFFSET);
      last = dts;
    }
    this.#lastPcr = last;
    opts.pts += TS_OFFSET;
    if (opts.dts !== undefined) opts.dts += TS_OFFSET;
    this.#checkSize(Math.ceil(payload.length / 176) * TS_PACKET + 2 * TS_PACKET);
    this.#ts.writePes(this.#out(), opts, payload);
    this.#hashWritten(HASH_PIECE);
  }

  /** The segment's buffer, opened with its PAT and PMT on its first packet. */
  #out(): GrowableBytes {
    if (!this.#seg) {
      const seg =
        this.#spare ?? new GrowableBytes(this.#lastSegmentBytes > 0 ? this.#lastSegmentBytes + (this.#lastSegmentBytes >> 3) : FIRST_SEGMENT_CAPACITY);
      this.#spare = undefined;
      const mark = this.#ts.mark();
      const { streams, pcrPid, key } = this.#program();
      this.#ts.writePsi(seg, streams, pcrPid);
      this.#seg = seg;
      this.#psi = { key, mark };
      this.#hash = new DeferredKeccak256Stream();
      this.#hashed = 0;
    }
    return this.#seg;
  }

  /**
   * Feeds the running hash what was written since, once that is at least `least` bytes. The hash may read
   * them later (beside other streams'): written bytes stay as they are until the digest in #finish, and a
   * buffer outgrown keeps its bytes for the views taken of it.
   */
  #hashWritten(least: number): void {
    const seg = this.#seg!;
    if (seg.length - this.#hashed < least || seg.length === this.#hashed) return;
    this.#hash!.update(seg.view(this.#hashed));
    this.#hashed = seg.length;
  }

  /** The program as the PMT lists it now: its streams by PID and its PCR PID. */
  #program(): { streams: TsElementaryStream[]; pcrPid: number; key: string } {
    const streams: TsElementaryStream[] = [];
    if (this.#videoPid !== undefined) streams.push({ pid: this.#videoPid, streamType: STREAM_TYPE_H264 });
    if (this.#audioPid !== undefined && this.#audioType !== undefined) streams.push({ pid: this.#audioPid, streamType: this.#audioType });
    streams.sort((x, y) => x.pid - y.pid);
    const pcrPid = this.#pcrPid ?? streams[0]?.pid ?? FIRST_ES_PID;
    return { streams, pcrPid, key: programKey(streams, pcrPid) };
  }

  #checkSize(adding: number): void {
    const written = this.#seg ? this.#seg.length - PSI_BYTES : 0;
    if (written + this.#audioPesBytes + adding > this.#maxBytes) {
      throw new SegmentTooLargeError(
        `no keyframe to cut at within ${this.#maxBytes} bytes of segment: set the encoder's keyframe interval to about ${this.#segmentUs / 1e6} s`,
      );
    }
  }

  /** Close the current segment at a reference frame with this PTS; the frame opens the next one. */
  #cut(pts: number): CutSegment {
    this.#flushAudio();
    const seg = this.#finish();
    this.#cuts++;
    this.#startTicks = pts;
    this.#endTicks = pts;
    return seg;
  }

  #finish(): CutSegment {
    const program = this.#program();
    let seg = this.#seg;
    let hash: Uint8Array | undefined;
    if (seg && this.#psi!.key === program.key) {
      this.#hashWritten(1);
      hash = this.#hash!.digest();
    } else if (seg) {
      // a stream joined mid-segment: the PMT lists what the segment holds now, and the hash is not kept
      this.#ts.rewind(this.#psi!.mark);
      this.#ts.writePsiAt(seg.view(), 0, program.streams, program.pcrPid);
    } else {
      seg = new GrowableBytes(PSI_BYTES);
      this.#ts.writePsi(seg, program.streams, program.pcrPid);
    }
    const data = seg.copyOut();
    if (data.length > PSI_BYTES && seg.capacity <= KEEP_BUFFER_UP_TO * Math.max(data.length, FIRST_SEGMENT_CAPACITY)) this.#spare = seg;
    this.#seg = undefined;
    this.#psi = undefined;
    this.#hash = undefined;
    this.#lastSegmentBytes = data.length;
    const shape = this.#shape();
    const cut: CutSegment = {
      ...(shape ? { shape } : {}),
      ...(hash ? { hash } : {}),
      data,
      durationMs: Math.max(0, Math.round((this.#endTicks - this.#startTicks) / TICKS_PER_MS)),
      endMs: Math.round(this.#endTicks / TICKS_PER_MS),
    };
    this.#frames = 0;
    this.#pcrPid = undefined;
    this.#videoFirstDts = undefined;
    this.#videoFramesInSegment = 0;
    this.#shapePictures = 0;
    this.#shapeConfig = undefined;
    return cut;
  }
}
