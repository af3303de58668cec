// One live stream: every source segment goes to HLS at once, then to an orchestrator (retried on
// another one when it fails, up to -maxAttempts), and its renditions join the HLS playlists.
// Two segments may be at orchestrators at once; their renditions enter the playlists in arrival order,
// so playlists never go backwards.
import type { OrchSession, SessionPool } from '../discovery/sessionPool.ts';
import { errorMessage, HttpError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { ratToDecimal, ZERO } from '../lib/rat.ts';
import type { VideoFormat, VideoProfile } from '../media/profiles.ts';
import { endTranscodingSession } from '../net/grpc.ts';
import { SegmentError } from '../net/segment.ts';
import { SenderValidationError } from '../pm/validate.ts';
import type { HlsStore } from '../server/hls.ts';
import type { GatewayMetrics } from '../server/metrics.ts';
import type { Ledger, PaymentIntent } from '../store/ledger.ts';
import type { Capabilities } from '../wire/lpRpc.ts';
import type { GatewayEventBus } from './events.ts';
import type { PaidLosses } from './paidLosses.ts';
import type { SourceShape } from '../media/expectedOutput.ts';
import { gcMsBetween, threadWaitingMs, watchCollections } from '../lib/mainThreadTime.ts';
import type { SourceProbe } from './sourceProbe.ts';
import { type AttemptResult, PaymentRecordError, type SegmentJob, type SentPayment, type TranscodeAttempt } from './transcodeSegment.ts';
import type { DecodeCheckOutcome } from './verifyResult.ts';

/** Segments waiting for an orchestrator before new ones go out untranscoded (8 s of 2 s segments). */
export const MAX_BACKLOG = 4;

/**
 * Segments of one stream transcoded at the same time. Two let a stream keep up with an orchestrator that
 * takes longer than a segment lasts; renditions still enter the playlists in sequence order.
 */
export const MAX_CONCURRENT_SEGMENTS = 2;

/**
 * Attempts in a row, on this stream, that took payment and brought back nothing usable. At this many the
 * stream stops paying for PAID_FAILURE_PAUSE_MS (segments play as source only), whoever is at fault.
 */
export const MAX_CONSECUTIVE_PAID_FAILURES = 6;
export const PAID_FAILURE_PAUSE_MS = 30_000;

export interface StreamDeps {
  hls: HlsStore;
  ledger?: Pick<Ledger, 'record' | 'recordIntent' | 'recordOutcome'>;
  metrics?: GatewayMetrics;
  events: GatewayEventBus;
  log: Logger;
  /** One attempt at one segment on one orchestrator (transcodeSegment, in the node). */
  transcode: TranscodeAttempt;
  maxAttempts: number;
  /** Probes each source segment before it is paid for (size and frame rate for billing; is it video at all). */
  probeSource?: (data: Buffer) => Promise<SourceProbe>;
  /** the source's shape read in-process (no process spawned); undefined when it cannot be */
  sourceShape?: (data: Buffer) => SourceShape | undefined;
  /** Money paid for nothing, per orchestrator (shared by the node's streams). */
  losses?: PaidLosses;
  /** Forgets per-session state (balances) once the stream has ended its sessions. */
  releaseSessions?(sessions: readonly OrchSession[]): void;
  /** default MAX_CONSECUTIVE_PAID_FAILURES */
  maxConsecutivePaidFailures?: number;
  now?: () => number;
}

export interface StreamOptions {
  manifestId: string;
  profiles: readonly VideoProfile[];
  capabilities: Capabilities;
  pool: SessionPool;
  /** The auth webhook's TimeoutMultiplier: segment timeouts are stretched by it when > 1. */
  timeoutMultiplier?: number;
  /** called when payments cannot work at all (our deposit/reserve): the stream must end */
  onFatal(reason: string): void;
}

/** What is known of a source segment besides its bytes. */
export interface SourceMedia {
  resolution?: { width: number; height: number };
  /** container of the segment bytes (HTTP push may send MP4) */
  format?: VideoFormat;
  /** the input format changed (or the publisher asked): the orchestrator re-initialises its session */
  forceSessionReinit?: boolean;
  /** a new publisher took the stream over: this segment starts a discontinuity in every playlist */
  discontinuity?: boolean;
  /** transcode only this part of the segment, ms (0 = open end) */
  clip?: { fromMs: number; toMs: number };
  /** performance.now() when the frame that closed the segment reached the gateway (RTMP ingest), for the latency histogram */
  closedAt?: number;
  /** the video's size and frame rate, when the segmenter knows them already (no need to read the bytes again) */
  shape?: SourceShape;
  /** keccak-256 of the segment bytes, when the segmenter hashed them while writing them */
  hash?: Uint8Array;
}

interface SegmentTask extends SourceMedia {
  /** this push's place in the arrival order (sequence numbers come from the publisher and may repeat) */
  id: number;
  seq: number;
  data: Buffer;
  durationMs: number;
  format: VideoFormat;
  /** performance.now() when the segment's bytes were handed over */
  readyAt: number;
  /** performance.now() when it got one of the stream's transcode slots (waiting for one is queueing, not overhead) */
  startedAt: number;
}

export interface SegmentOutcome {
  seq: number;
  /** rendition bytes in profile order, when transcoded */
  renditions?: { name: string; data: Buffer }[];
  /** 'none' = no orchestrator could take it; 'input' = the input cannot be transcoded */
  failure?: 'none' | 'input' | 'attempts' | 'payment' | 'backlog' | 'paid-failures' | 'spend-cap';
  transcoded: boolean;
  orchestrator?: string;
  attempts: number;
  tickets: number;
  error?: string;
  /** attempts that failed on an orchestrator before this outcome */
  attemptErrors?: { orchestrator: string; error: string }[];
}

export interface StreamStats {
  manifestId: string;
  profiles: string[];
  sourceSegments: number;
  transcodedSegments: number;
  /** segments that entered each profile's playlist (an orchestrator may return fewer renditions than asked) */
  renditionSegments: Record<string, number>;
  failedSegments: number;
  ticketsSent: number;
  orchestrator?: string;
  lastError?: string;
  startedAt: string;
}

/** Is this failure the orchestrator's (move on and suspend it) or the input's (keep it, skip the segment)? */
function classify(err: unknown): 'fatal' | 'non-retryable' | 'orchestrator' {
  if (err instanceof SenderValidationError) return 'fatal';
  if (err instanceof SegmentError && err.failure === 'transcode' && !err.retryable) return 'non-retryable';
  return 'orchestrator';
}

export class StreamRunner {
  private readonly running = new Set<Promise<unknown>>();
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  /** accepted segments (by task id) not yet in the playlists, in arrival order, and those ready to go in */
  private readonly order: number[] = [];
  private readonly ready = new Map<number, () => void>();
  private readonly publishedWaiters = new Map<number, () => void>();
  private nextTaskId = 0;
  private lastOrchestrator: string | undefined;
  /** a new publisher started at this seq: the first renditions from there on start a discontinuity */
  private breakFromSeq: number | undefined;
  private ended = false;
  private closed = false;
  private backlog = 0;
  /** segments skipped for the backlog since the last one that was queued: the first and the count are logged */
  private skippedForBacklog: { firstSeq: number; count: number } | undefined;
  /** attempts in a row that were paid and returned nothing usable; and until when paying is paused */
  private paidFailuresInRow = 0;
  private paidPauseUntil = 0;
  readonly stats: StreamStats;
  readonly outcomes: SegmentOutcome[] = [];

  constructor(
    private readonly deps: StreamDeps,
    readonly opts: StreamOptions,
  ) {
    this.stats = {
      manifestId: opts.manifestId,
      profiles: opts.profiles.map((p) => p.name),
      sourceSegments: 0,
      transcodedSegments: 0,
      renditionSegments: Object.fromEntries(opts.profiles.map((p) => [p.name, 0])),
      failedSegments: 0,
      ticketsSent: 0,
      startedAt: new Date().toISOString(),
    };
    deps.hls.openStream(opts.manifestId, opts.profiles);
  }

  /** Queues a source segment; resolves once it is fully handled. */
  push(seq: number, data: Buffer, durationMs: number, media: SourceMedia = {}): Promise<SegmentOutcome | undefined> {
    if (this.ended) return Promise.resolve(undefined);
    const format = media.format ?? 'mpegts';
    if (media.discontinuity) this.breakFromSeq = seq;
    this.deps.hls.addSourceSegment(this.opts.manifestId, seq, data, durationMs, media.resolution, { format, discontinuity: media.discontinuity === true });
    if (media.closedAt !== undefined) this.deps.metrics?.sourceLatency.observe(Math.max(0, performance.now() - media.closedAt) / 1000);
    this.stats.sourceSegments++;
    this.deps.metrics?.sourceAppeared.inc();
    if (this.stats.sourceSegments === 1) this.deps.metrics?.streamStarted.inc();
    // When transcoding falls behind real time, a live stream skips renditions for the newest segments
    // rather than queue without bound; the source keeps playing.
    if (this.backlog >= MAX_BACKLOG) {
      this.deps.metrics?.transcodeFailed.inc({ error_code: 'Backlog' });
      const error = `transcoding is ${this.backlog} segments behind`;
      // once per run of skipped segments, not once per segment: a stream behind for minutes is one line
      if (this.skippedForBacklog) this.skippedForBacklog.count++;
      else {
        this.skippedForBacklog = { firstSeq: seq, count: 1 };
        this.deps.log.warn({ manifestId: this.opts.manifestId, seq, backlog: this.backlog }, `${error}; new segments play the source only until it catches up`);
      }
      return Promise.resolve(this.record({ seq, transcoded: false, attempts: 0, tickets: 0, error, failure: 'backlog' }));
    }
    if (this.skippedForBacklog) {
      const { firstSeq, count } = this.skippedForBacklog;
      this.skippedForBacklog = undefined;
      this.deps.log.info(
        { manifestId: this.opts.manifestId, seq, skipped: count, fromSeq: firstSeq },
        'transcoding caught up; segments skipped while behind had the source only',
      );
    }
    this.backlog++;
    const readyAt = performance.now();
    const id = this.nextTaskId++;
    this.order.push(id);
    const published = new Promise<void>((resolve) => this.publishedWaiters.set(id, resolve));
    const run = (async () => {
      await this.acquire();
      const startedAt = performance.now();
      this.deps.metrics?.segmentQueued.observe((startedAt - readyAt) / 1000);
      try {
        return await this.handle({ ...media, id, seq, data, durationMs, format, readyAt, startedAt });
      } finally {
        this.release();
        this.backlog--;
        // A segment that produced no renditions must not hold back the ones after it. (Once flushed, a
        // segment has left `order`; registering it again would leave an entry in `ready` for good.)
        if (this.order.includes(id) && !this.ready.has(id)) this.publish(id, () => {});
      }
    })();
    this.running.add(run);
    void run.finally(() => this.running.delete(run)).catch(() => {});
    // Resolve once the renditions are in the playlists (an HTTP push reply then matches HLS).
    return run.then(async (outcome) => {
      await published;
      return outcome;
    });
  }

  private acquire(): Promise<void> {
    if (this.inFlight < MAX_CONCURRENT_SEGMENTS) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => {
      this.inFlight++;
    });
  }

  private release(): void {
    this.inFlight--;
    this.waiting.shift()?.();
  }

  /** Runs `put` once every earlier accepted segment is in (or has given up on) the playlists. */
  private publish(id: number, put: () => void): void {
    this.ready.set(id, put);
    while (this.order.length > 0 && this.ready.has(this.order[0]!)) {
      const next = this.order.shift()!;
      this.ready.get(next)!();
      this.ready.delete(next);
      this.publishedWaiters.get(next)?.();
      this.publishedWaiters.delete(next);
    }
  }

  private async handle(seg: SegmentTask): Promise<SegmentOutcome | undefined> {
    if (this.ended || this.opts.profiles.length === 0) return undefined;
    const { manifestId } = this.opts;
    const job: SegmentJob = {
      manifestId,
      seq: seg.seq,
      data: seg.data,
      durationMs: seg.durationMs,
      profiles: this.opts.profiles,
      capabilities: this.opts.capabilities,
      ...(seg.forceSessionReinit ? { forceSessionReinit: true } : {}),
      ...(seg.clip ? { clip: seg.clip } : {}),
      ...(seg.hash ? { segmentHash: seg.hash } : {}),
      ...(this.opts.timeoutMultiplier && this.opts.timeoutMultiplier > 1 ? { timeoutMultiplier: this.opts.timeoutMultiplier } : {}),
    };
    // overhead: a transcode slot in hand → first upload starting (retries are not overhead, they are failures)
    let overheadSeen = false;
    let shapeMs = 0;
    let sessionMs = 0;
    const debug = this.deps.log.isLevelEnabled('debug');
    // (debug) how long the main thread waited for the core, to tell a slow overhead's own work from the scheduler's
    if (debug) watchCollections();
    const waitingAtStart = debug ? threadWaitingMs() : undefined;
    job.onUploadStart = (stages) => {
      if (overheadSeen) return;
      overheadSeen = true;
      const uploadAt = performance.now();
      const overheadMs = uploadAt - seg.startedAt;
      this.deps.metrics?.segmentOverhead.observe(overheadMs / 1000);
      if (debug) {
        const waitingNow = threadWaitingMs();
        const r = (x: number) => Math.round(x * 100) / 100;
        const line = {
          manifestId,
          seq: seg.seq,
          overheadMs: r(overheadMs),
          shapeMs: r(shapeMs),
          sessionMs: r(sessionMs),
          ...Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, r(v)])),
          ...(waitingAtStart !== undefined && waitingNow !== undefined ? { waitingMs: r(waitingNow - waitingAtStart) } : {}),
        };
        // garbage collections are reported after the fact: the line waits a moment for them
        setTimeout(() => this.deps.log.debug({ ...line, gcMs: r(gcMsBetween(seg.startedAt, uploadAt)) }, 'segment overhead'), 20).unref();
      }
    };
    const tried = new Set<string>();
    const attemptErrors: { orchestrator: string; error: string }[] = [];
    const done = (o: SegmentOutcome): SegmentOutcome => this.record(attemptErrors.length > 0 ? { ...o, attemptErrors } : o);
    const now = this.deps.now ?? Date.now;
    if (now() < this.paidPauseUntil) {
      this.deps.metrics?.transcodeFailed.inc({ error_code: 'PaidFailures' });
      const error = `${this.paidFailuresLimit()} paid attempts in a row returned nothing usable; not paying until ${new Date(this.paidPauseUntil).toISOString()}`;
      return done({ seq: seg.seq, transcoded: false, attempts: 0, tickets: 0, error, failure: 'paid-failures' });
    }
    // Before any money moves: the source's shape, so billing can be bounded — read in-process when the
    // bitstream allows. The ffprobe pass (a process per segment) runs only when it must: no in-process
    // shape, or an orchestrator's input error to judge.
    let probed: Promise<SourceProbe | undefined> | undefined;
    const probe = (): Promise<SourceProbe | undefined> => {
      probed ??= this.deps.probeSource ? this.deps.probeSource(seg.data) : Promise.resolve(undefined);
      return probed;
    };
    const shapeFrom = performance.now();
    const quick = seg.shape ?? this.deps.sourceShape?.(seg.data);
    if (quick) job.source = quick;
    else {
      const shape = (await probe())?.shape;
      if (shape) job.source = shape;
    }
    shapeMs = performance.now() - shapeFrom;
    const started = performance.now();
    let lastError = 'no orchestrator available';
    let tickets = 0;
    for (let attempt = 1; attempt <= this.deps.maxAttempts && !this.ended; attempt++) {
      if (now() < this.paidPauseUntil) break;
      const selectFrom = performance.now();
      // (no await when a session is at hand: each await lets other streams' work in ahead of this segment)
      const session = this.opts.pool.select(tried) ?? (await this.nextSessionAfterRefresh(tried));
      if (attempt === 1) sessionMs = performance.now() - selectFrom;
      if (!session) break;
      tried.add(session.uri);
      if (attempt > 1) this.deps.metrics?.transcodeRetried.inc();
      let paid: SentPayment | undefined;
      let intent: PaymentIntent | undefined;
      const recordIntent = (p: SentPayment): Promise<void> | undefined => {
        intent = { manifestId, orchestrator: session.uri, ...p };
        return this.deps.ledger?.recordIntent(intent);
      };
      try {
        const r = await this.deps.transcode(
          job,
          session,
          (p) => {
            paid = p;
            this.paid(seg.seq, session.uri, p);
          },
          recordIntent,
        );
        tickets += r.tickets;
        this.paidFailuresInRow = 0;
        return done(await this.transcoded(seg, session, r, { attempt, tickets, started }, intent));
      } catch (err) {
        lastError = errorMessage(err);
        attemptErrors.push({ orchestrator: session.uri, error: lastError });
        if (paid) {
          tickets += paid.tickets;
          // A bad source (our probe agrees with the input error) is not money lost to the orchestrator,
          // but it still counts toward the stream's pause: paying for a publisher's garbage stops too.
          const sourceAtFault = classify(err) === 'non-retryable' && !(await probe())?.valid;
          this.paidForNothing(session.uri, paid, lastError, !sourceAtFault);
        }
        const judged = classify(err) === 'non-retryable' ? await probe() : undefined;
        const failure = await this.attemptFailed(seg.seq, session, err, judged, intent && { intent, sent: paid !== undefined });
        if (failure)
          return done({
            seq: seg.seq,
            transcoded: false,
            attempts: attempt,
            tickets,
            // a spend cap answers with its own words (the cap, what is spent, when it resets)
            error: failure === 'spend-cap' ? errorMessage((err as Error).cause) : lastError,
            failure,
            ...(failure === 'input' ? { orchestrator: session.uri } : {}),
          });
      }
    }
    this.deps.metrics?.transcodeFailed.inc({ error_code: tried.size === 0 ? 'NoOrchestrators' : 'MaxAttempts' });
    this.deps.log.warn({ manifestId, seq: seg.seq, err: lastError, attempts: tried.size }, 'segment not transcoded');
    return done({ seq: seg.seq, transcoded: false, attempts: tried.size, tickets, error: lastError, failure: tried.size === 0 ? 'none' : 'attempts' });
  }

  private paidFailuresLimit(): number {
    return this.deps.maxConsecutivePaidFailures ?? MAX_CONSECUTIVE_PAID_FAILURES;
  }

  /** Tickets left for an attempt that brought back nothing usable: counted against the orchestrator when it is at fault. */
  private paidForNothing(uri: string, p: SentPayment, error: string, orchestratorAtFault: boolean): void {
    if (orchestratorAtFault) {
      this.deps.losses?.add(uri, p.tickets, p.ev, error);
      this.deps.metrics?.paidFailures.inc({ orchestrator_uri: uri });
      this.deps.metrics?.ticketValueLost.inc({ orchestrator_uri: uri }, Number(p.ev.num / p.ev.den) / 1e9);
    }
    this.paidFailuresInRow++;
    if (this.paidFailuresInRow >= this.paidFailuresLimit()) {
      this.paidPauseUntil = (this.deps.now ?? Date.now)() + PAID_FAILURE_PAUSE_MS;
      this.paidFailuresInRow = 0;
      this.deps.log.warn(
        { manifestId: this.opts.manifestId, inRow: this.paidFailuresLimit(), pauseMs: PAID_FAILURE_PAUSE_MS },
        'paid attempts keep returning nothing usable; this stream stops paying for a while',
      );
    }
  }

  /** The session for the next attempt when none untried is at hand: the pool refreshed first. */
  private async nextSessionAfterRefresh(tried: ReadonlySet<string>): Promise<OrchSession | undefined> {
    await this.opts.pool.refresh();
    return this.opts.pool.select(tried);
  }

  /** Every attempt that sent tickets, whatever its outcome: the metrics count money that left. */
  private paid(seq: number, orchestrator: string, p: SentPayment): void {
    this.deps.metrics?.ticketsSent.inc(p.tickets);
    this.deps.metrics?.ticketValueSent.inc(Number(p.ev.num / p.ev.den) / 1e9);
    this.deps.events.emit('payment.sent', {
      manifestId: this.opts.manifestId,
      seq,
      orchestrator,
      tickets: p.tickets,
      evWei: ratToDecimal(p.ev, 0),
      faceValueWei: p.faceValue.toString(),
    });
  }

  /**
   * A successful attempt: renditions queued for the playlists, counted, recorded. They enter the playlists
   * in sequence order, and the event feed hears of them then, so its segments come in order too.
   */
  private async transcoded(
    seg: SegmentTask,
    session: OrchSession,
    r: AttemptResult,
    at: { attempt: number; tickets: number; started: number },
    intent?: PaymentIntent,
  ): Promise<SegmentOutcome> {
    const { manifestId, profiles } = this.opts;
    const { uri } = session;
    const latencyMs = performance.now() - at.started;
    const renditions = profiles.flatMap((p, i) => {
      const data = r.renditions[i]?.data;
      return data ? [{ name: p.name, data }] : [];
    });
    const event = {
      manifestId,
      seq: seg.seq,
      orchestrator: uri,
      attempts: at.attempt,
      latencyMs: Math.round(latencyMs),
      renditions: renditions.map((x) => x.name),
    };
    this.publish(seg.id, () => {
      this.addRenditions(seg, uri, r);
      // what the renditions waited for besides the orchestrator: cutting, queueing, overhead, checks, order
      const from = seg.closedAt ?? seg.readyAt;
      const inPlaylists = performance.now();
      const beyondMs = Math.max(0, inPlaylists - from - r.latencyMs);
      this.deps.metrics?.renditionBeyondOrchestrator.observe(beyondMs / 1000);
      if (this.deps.log.isLevelEnabled('debug')) {
        const ms = (x: number) => Math.round(x * 10) / 10;
        this.deps.log.debug(
          {
            manifestId,
            seq: seg.seq,
            beyondMs: ms(beyondMs),
            orchestratorMs: ms(r.latencyMs),
            // the part of beyondMs spent waiting for a transcode slot
            queuedMs: ms(seg.startedAt - seg.readyAt),
            // and the part spent on -localVerify's checks
            verifyMs: ms(r.verifyMs),
            attempts: at.attempt,
          },
          'rendition latency',
        );
      }
      this.deps.events.emit('segment.transcoded', event);
    });
    if (r.decodeCheck) this.followDecodeCheck(seg.seq, session, r.decodeCheck);
    this.stats.transcodedSegments++;
    this.stats.ticketsSent += r.tickets;
    const metrics = this.deps.metrics;
    metrics?.sourceUploaded.inc();
    metrics?.transcoded.inc();
    metrics?.overallLatency.observe(latencyMs / 1000);
    if (intent) await this.deps.ledger?.recordOutcome(intent, { ok: true, sent: true });
    else await this.deps.ledger?.record({ manifestId, orchestrator: uri, tickets: r.tickets, ev: r.ev, faceValue: r.faceValue, ok: true });
    this.deps.log.info(
      { manifestId, seq: seg.seq, orchestrator: uri, attempt: at.attempt, tickets: r.tickets, latencyMs: Math.round(r.latencyMs) },
      'segment transcoded',
    );
    return { seq: seg.seq, transcoded: true, orchestrator: uri, attempts: at.attempt, tickets: at.tickets, renditions };
  }

  /**
   * -localVerify's sampled full decode finishes after the renditions are out: when they do not decode as
   * counted, the orchestrator is suspended like one whose answer failed the checks, so the next segments
   * go elsewhere. (With one segment in 20 decoded, the decode finds a bad orchestrator; it could not keep
   * its bad segments out of the playlists, and holding a segment back for it held back every later one.)
   */
  private followDecodeCheck(seq: number, session: OrchSession, check: Promise<DecodeCheckOutcome>): void {
    const { manifestId } = this.opts;
    const from = performance.now();
    const followed = check.then(
      (outcome) => {
        if (outcome === 'timed out') {
          // our machine's doing, not the orchestrator's: this sample is lost, the next one is taken as usual
          this.deps.log.warn(
            { manifestId, seq, orchestrator: session.uri },
            'sampled decode did not finish in time on this machine; not held against the orchestrator',
          );
          return;
        }
        if (this.deps.log.isLevelEnabled('debug')) {
          this.deps.log.debug({ manifestId, seq, decodeMs: Math.round(performance.now() - from) }, 'sampled decode passed');
        }
      },
      (err: unknown) => {
        const error = errorMessage(err);
        this.deps.metrics?.uploadFailed.inc({ error_code: 'VerificationError', orchestrator_uri: session.uri });
        this.deps.log.warn(
          { manifestId, seq, orchestrator: session.uri, err: error },
          'published renditions failed the sampled decode; orchestrator suspended',
        );
        this.opts.pool.fail(session, error);
      },
    );
    this.running.add(followed);
    void followed.finally(() => this.running.delete(followed)).catch(() => {});
  }

  /** Runs in sequence order: a change of orchestrator is a discontinuity in every rendition playlist. */
  private addRenditions(seg: SegmentTask, uri: string, r: AttemptResult): void {
    const { manifestId, profiles } = this.opts;
    const from = this.lastOrchestrator;
    const swapped = from !== undefined && from !== uri;
    const newPublisher = this.breakFromSeq !== undefined && seg.seq >= this.breakFromSeq;
    if (newPublisher) this.breakFromSeq = undefined;
    const discontinuity = swapped || newPublisher;
    if (swapped) {
      this.deps.metrics?.orchestratorSwaps.inc();
      this.deps.events.emit('orchestrator.swapped', { manifestId, from, to: uri });
    }
    this.lastOrchestrator = uri;
    this.stats.orchestrator = uri;
    profiles.forEach((p, i) => {
      const data = r.renditions[i]?.data;
      if (data && this.deps.hls.addRendition(manifestId, p.name, seg.seq, data, seg.durationMs, { discontinuity, format: seg.format })) {
        this.stats.renditionSegments[p.name] = (this.stats.renditionSegments[p.name] ?? 0) + 1;
      }
    });
  }

  /**
   * A failed attempt. The orchestrator's fault: suspend it and try another (undefined). The input's fault
   * or our funding's: the segment ends here with that failure.
   */
  private async attemptFailed(
    seq: number,
    session: OrchSession,
    err: unknown,
    probe?: SourceProbe,
    payment?: { intent: PaymentIntent; sent: boolean },
  ): Promise<'input' | 'payment' | 'spend-cap' | undefined> {
    const { manifestId } = this.opts;
    const error = errorMessage(err);
    const code = err instanceof SegmentError ? err.failure : err instanceof Error ? err.name : 'Error';
    this.deps.metrics?.uploadFailed.inc({ error_code: code, orchestrator_uri: session.uri });
    // The tickets of the attempt were written before the upload; its outcome closes them (and takes them
    // back out only when they provably never left).
    if (payment) await this.deps.ledger?.recordOutcome(payment.intent, { ok: false, sent: payment.sent });
    else await this.deps.ledger?.record({ manifestId, orchestrator: session.uri, tickets: 0, ev: ZERO, faceValue: 0n, ok: false });
    // the stream's owner has no room under its spend caps (or no fresh price for them): nothing left,
    // no orchestrator is to blame, and no other would be paid either
    if (err instanceof PaymentRecordError && err.cause instanceof HttpError && (err.cause.status === 402 || err.cause.status === 503)) {
      this.deps.log.warn({ manifestId, seq, err: error }, 'segment not sent: spend cap');
      return 'spend-cap';
    }
    const kind = classify(err);
    if (kind === 'fatal') {
      this.deps.log.error({ manifestId, seq, err: error }, 'payments impossible; ending stream');
      this.deps.metrics?.paymentCreateErrors.inc();
      this.opts.onFatal(error);
      return 'payment';
    }
    if (kind === 'non-retryable' && probe?.valid) {
      // go-livepeer's input errors, for a segment our own probe reads as video: the orchestrator's
      // word against ours, and it was paid. It is suspended and the segment goes elsewhere.
      this.deps.log.warn({ manifestId, seq, orchestrator: session.uri, err: error }, 'orchestrator reports an input error for a valid segment; trying another');
      this.opts.pool.fail(session, `input error for a segment the gateway reads as valid video: ${error}`);
      return undefined;
    }
    if (kind === 'non-retryable') {
      this.deps.log.warn({ manifestId, seq, orchestrator: session.uri, err: error }, 'segment cannot be transcoded (bad input); not retried');
      this.deps.metrics?.transcodeFailed.inc({ error_code: 'NonRetryable' });
      return 'input';
    }
    this.deps.log.warn({ manifestId, seq, orchestrator: session.uri, err: error }, 'segment failed on orchestrator; trying another');
    // Also on a failed verification: go-livepeer only drops that orchestrator, so it can come back at
    // the next refresh and waste attempts again; we suspend it like any other failure.
    this.opts.pool.fail(session, error);
    return undefined;
  }

  private record(o: SegmentOutcome): SegmentOutcome {
    if (!o.transcoded) {
      this.stats.failedSegments++;
      if (o.error) this.stats.lastError = o.error;
      const failure = { manifestId: this.opts.manifestId, seq: o.seq, error: o.error ?? 'not transcoded', failure: o.failure ?? 'attempts' };
      this.deps.events.emit('segment.failed', failure);
    }
    const { renditions: _bytes, ...kept } = o;
    this.outcomes.push(kept);
    if (this.outcomes.length > 100) this.outcomes.shift();
    return o;
  }

  /** Waits for queued segments, ends every orchestrator session, drops the HLS stream. */
  async end(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.running]);
    this.ended = true;
    this.deps.hls.endStream(this.opts.manifestId);
    // go-livepeer sends these fire-and-forget; we bound them so shutdown never hangs.
    const sessions = this.opts.pool.all();
    await Promise.allSettled(
      sessions.map((s) => (s.info.authToken ? endTranscodingSession(s.transcoder, s.info.authToken, { timeoutMs: 2000 }) : Promise.resolve())),
    );
    this.deps.releaseSessions?.(sessions);
  }

  /** Ends without waiting for queued segments (fatal payment error, shutdown). */
  abort(): void {
    this.ended = true;
  }
}
