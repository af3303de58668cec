// One live stream: every source segment goes to HLS at once, then to an orchestrator (retried on
// another one when it fails, up to -maxAttempts), and its renditions join the HLS playlists.
// Segments are handled in order, one at a time, so playlists never go backwards.
import type { Logger } from 'pino';
import type { OrchSession, SessionPool } from '../discovery/sessionPool.ts';
import type { VideoFormat, VideoProfile } from '../media/profiles.ts';
import { endTranscodingSession } from '../net/grpc.ts';
import type { Capabilities } from '../wire/lpRpc.ts';
import { SegmentError } from '../net/segment.ts';
import { SenderValidationError } from '../pm/validate.ts';
import type { HlsStore } from '../server/hls.ts';
import type { GatewayMetrics } from '../server/metrics.ts';
import type { Ledger } from '../store/ledger.ts';
import { transcodeSegment, type AttemptDeps, type SegmentJob } from './transcodeSegment.ts';

/** Segments waiting for an orchestrator before new ones go out untranscoded (8 s of 2 s segments). */
export const MAX_BACKLOG = 4;

/**
 * Segments of one stream transcoded at the same time. Two let a stream keep up with an orchestrator that
 * takes longer than a segment lasts; renditions still enter the playlists in sequence order.
 */
export const MAX_CONCURRENT_SEGMENTS = 2;

export interface StreamDeps {
  hls: HlsStore;
  ledger?: Ledger;
  metrics?: GatewayMetrics;
  log: Logger;
  attempt: AttemptDeps;
  maxAttempts: number;
}

export interface StreamOptions {
  manifestId: string;
  profiles: readonly VideoProfile[];
  capabilities: Capabilities;
  pool: SessionPool;
  /** called when payments cannot work at all (our deposit/reserve): the stream must end */
  onFatal(reason: string): void;
}

export interface SourceMedia {
  resolution?: { width: number; height: number };
  /** container of the segment bytes (HTTP push may send MP4) */
  format?: VideoFormat;
}

export interface SegmentOutcome {
  seq: number;
  /** rendition bytes in profile order, when transcoded */
  renditions?: { name: string; data: Buffer }[];
  /** 'none' = no orchestrator could take it; 'input' = the input cannot be transcoded */
  failure?: 'none' | 'input' | 'attempts' | 'payment' | 'backlog';
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
  /** accepted segments not yet in the playlists, in arrival order, and those ready to go in */
  private readonly order: number[] = [];
  private readonly ready = new Map<number, () => void>();
  private readonly publishedWaiters = new Map<number, () => void>();
  private lastOrchestrator: string | undefined;
  private ended = false;
  private closed = false;
  private backlog = 0;
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
    this.deps.hls.addSourceSegment(this.opts.manifestId, seq, data, durationMs, media.resolution, { format });
    this.stats.sourceSegments++;
    this.deps.metrics?.sourceAppeared.inc();
    if (this.stats.sourceSegments === 1) this.deps.metrics?.streamStarted.inc();
    // When transcoding falls behind real time, a live stream skips renditions for the newest segments
    // rather than queue without bound; the source keeps playing.
    if (this.backlog >= MAX_BACKLOG) {
      this.deps.metrics?.transcodeFailed.inc({ error_code: 'Backlog' });
      return Promise.resolve(
        this.record({ seq, transcoded: false, attempts: 0, tickets: 0, error: `transcoding is ${this.backlog} segments behind`, failure: 'backlog' }),
      );
    }
    this.backlog++;
    this.order.push(seq);
    const published = new Promise<void>((resolve) => this.publishedWaiters.set(seq, resolve));
    const run = (async () => {
      await this.acquire();
      try {
        const outcome = await this.handle({ seq, data, durationMs, format });
        return outcome;
      } finally {
        this.release();
        this.backlog--;
        // A segment that produced no renditions must not hold back the ones after it. (Once flushed, a
        // segment has left `order`; registering it again would leave an entry in `ready` for good.)
        if (this.order.includes(seq) && !this.ready.has(seq)) this.publish(seq, () => {});
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
  private publish(seq: number, put: () => void): void {
    this.ready.set(seq, put);
    while (this.order.length > 0 && this.ready.has(this.order[0]!)) {
      const next = this.order.shift()!;
      this.ready.get(next)!();
      this.ready.delete(next);
      this.publishedWaiters.get(next)?.();
      this.publishedWaiters.delete(next);
    }
  }

  private async handle(seg: { seq: number; data: Buffer; durationMs: number; format: VideoFormat }): Promise<SegmentOutcome | undefined> {
    if (this.ended || this.opts.profiles.length === 0) return undefined;
    const { manifestId } = this.opts;
    const log = this.deps.log.child({ manifestId, seq: seg.seq });
    const job: SegmentJob = {
      manifestId,
      seq: seg.seq,
      data: seg.data,
      durationMs: seg.durationMs,
      profiles: this.opts.profiles,
      capabilities: this.opts.capabilities,
    };
    const tried = new Set<string>();
    const attemptErrors: { orchestrator: string; error: string }[] = [];
    const done = (o: SegmentOutcome): SegmentOutcome => this.record(attemptErrors.length > 0 ? { ...o, attemptErrors } : o);
    const started = performance.now();
    let lastError = 'no orchestrator available';
    let tickets = 0;
    for (let attempt = 1; attempt <= this.deps.maxAttempts && !this.ended; attempt++) {
      let session: OrchSession | undefined = this.opts.pool.select(tried);
      if (!session) {
        await this.opts.pool.refresh();
        session = this.opts.pool.select(tried);
      }
      if (!session) break;
      tried.add(session.uri);
      if (attempt > 1) this.deps.metrics?.transcodeRetried.inc();
      try {
        const r = await transcodeSegment(job, session, this.deps.attempt);
        tickets += r.tickets;
        const uri = session.uri;
        this.publish(seg.seq, () => {
          // in sequence order: a change of orchestrator is a discontinuity in every rendition playlist
          const discontinuity = this.lastOrchestrator !== undefined && this.lastOrchestrator !== uri;
          if (discontinuity) this.deps.metrics?.orchestratorSwaps.inc();
          this.lastOrchestrator = uri;
          this.stats.orchestrator = uri;
          this.opts.profiles.forEach((p, i) => {
            const data = r.renditions[i]?.data;
            if (data) this.deps.hls.addRendition(manifestId, p.name, seg.seq, data, seg.durationMs, { discontinuity, format: seg.format });
          });
        });
        this.stats.transcodedSegments++;
        this.stats.ticketsSent += r.tickets;
        this.deps.metrics?.sourceUploaded.inc();
        this.deps.metrics?.transcoded.inc();
        this.deps.metrics?.ticketsSent.inc(r.tickets);
        this.deps.metrics?.ticketValueSent.inc(Number(r.ev.num / r.ev.den) / 1e9);
        this.deps.metrics?.overallLatency.observe((performance.now() - started) / 1000);
        await this.deps.ledger?.record({ manifestId, orchestrator: session.uri, tickets: r.tickets, ev: r.ev, faceValue: r.faceValue, ok: true });
        log.info({ orchestrator: session.uri, attempt, tickets: r.tickets, latencyMs: Math.round(r.latencyMs) }, 'segment transcoded');
        const renditions = this.opts.profiles.flatMap((p, i) => {
          const data = r.renditions[i]?.data;
          return data ? [{ name: p.name, data }] : [];
        });
        return done({ seq: seg.seq, transcoded: true, orchestrator: session.uri, attempts: attempt, tickets, renditions });
      } catch (err) {
        lastError = (err as Error).message;
        attemptErrors.push({ orchestrator: session.uri, error: lastError });
        const kind = classify(err);
        const code = err instanceof SegmentError ? err.failure : (err as Error).name;
        this.deps.metrics?.uploadFailed.inc({ error_code: code, orchestrator_uri: session.uri });
        await this.deps.ledger?.record({ manifestId, orchestrator: session.uri, tickets: 0, ev: { num: 0n, den: 1n }, faceValue: 0n, ok: false });
        if (kind === 'fatal') {
          log.error({ err: lastError }, 'payments impossible; ending stream');
          this.deps.metrics?.paymentCreateErrors.inc();
          this.opts.onFatal(lastError);
          return done({ seq: seg.seq, transcoded: false, attempts: attempt, tickets, error: lastError, failure: 'payment' });
        }
        if (kind === 'non-retryable') {
          log.warn({ orchestrator: session.uri, err: lastError }, 'segment cannot be transcoded (bad input); not retried');
          this.deps.metrics?.transcodeFailed.inc({ error_code: 'NonRetryable' });
          return done({ seq: seg.seq, transcoded: false, orchestrator: session.uri, attempts: attempt, tickets, error: lastError, failure: 'input' });
        }
        log.warn({ orchestrator: session.uri, attempt, err: lastError }, 'segment failed on orchestrator; trying another');
        // Also on a failed verification: go-livepeer only drops that orchestrator, so it can come back at
        // the next refresh and waste attempts again; we suspend it like any other failure.
        this.opts.pool.fail(session, lastError);
      }
    }
    this.deps.metrics?.transcodeFailed.inc({ error_code: tried.size === 0 ? 'NoOrchestrators' : 'MaxAttempts' });
    log.warn({ err: lastError, attempts: tried.size }, 'segment not transcoded');
    return done({ seq: seg.seq, transcoded: false, attempts: tried.size, tickets, error: lastError, failure: tried.size === 0 ? 'none' : 'attempts' });
  }

  private record(o: SegmentOutcome): SegmentOutcome {
    if (!o.transcoded) {
      this.stats.failedSegments++;
      if (o.error) this.stats.lastError = o.error;
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
    await Promise.allSettled(
      this.opts.pool.all().map((s) => (s.info.authToken ? endTranscodingSession(s.transcoder, s.info.authToken, { timeoutMs: 2000 }) : Promise.resolve())),
    );
  }

  /** Ends without waiting for queued segments (fatal payment error, shutdown). */
  abort(): void {
    this.ended = true;
  }
}
