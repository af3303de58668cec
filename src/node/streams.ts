// The node's side of a stream's life. Which publishes are taken (auth webhook, push header, profiles) and
// what an accepted one gets: an orchestrator pool and a stream runner. What ending one does: the segmenter
// stops, the last segments finish, orchestrator sessions end. The event feed hears of each step, and
// shutdown waits for streams that are still ending. The ingest side (live map, duplicates, limits, idle
// push streams) is the stream registry's; its start and end hooks call open() and finish().
import { authorizeStream } from '../ingest/auth.ts';
import type { IngestKind, IngestStream, PublishDecision, PublishRequest, RtmpSource } from '../ingest/streamRegistry.ts';
import { errorMessage } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { Segmenter } from '../media/segmenter.ts';
import type { VideoProfile } from '../media/profiles.ts';
import { streamCapabilities } from '../net/capabilities.ts';
import type { SessionPool } from '../discovery/sessionPool.ts';
import type { HlsStore } from '../server/hls.ts';
import type { GatewayMetrics } from '../server/metrics.ts';
import type { Ledger, SegmentRecord } from '../store/ledger.ts';
import { ZERO } from '../lib/rat.ts';

type BilledLedger = Pick<Ledger, 'record' | 'recordIntent' | 'recordOutcome'>;
import type { Capabilities } from '../wire/lpRpc.ts';
import type { GatewayEventBus } from './events.ts';
import type { StreamOrchestrators } from './orchestrators.ts';
import type { Principal } from '../tenancy/tenancy.ts';
import type { NodeTenancy } from './tenancy.ts';
import { StreamRunner } from './stream.ts';
import type { PaidLosses } from './paidLosses.ts';
import { probeSourceSegment, quickSourceShape } from './sourceProbe.ts';

/** What the node attaches to an accepted publish. */
export interface StreamContext {
  profiles: VideoProfile[];
  /** the auth webhook's streamID / sessionID (empty when not given) */
  externalStreamId: string;
  sessionId: string;
  /** HTTP push (VOD): segment timeouts are stretched by this when > 1 */
  timeoutMultiplier: number;
  /** who the stream is billed to (-apiKeys) */
  principal?: Principal;
}

export interface LiveStream {
  readonly manifestId: string;
  readonly ingest: IngestKind;
  /** the ingest stream feeding it now (a take-over replaces it) */
  source: IngestStream<StreamContext>;
  /** RTMP: a publisher took the stream over; the pump moves to it once the old segmenter has finished */
  takenOver?: RtmpSource;
  readonly runner: StreamRunner;
  readonly pool: SessionPool;
  /** RTMP: the segmenter cutting the stream (the pump sets it) */
  segmenter?: Segmenter;
  /** end without waiting for queued segments (payments failed) */
  abort: boolean;
  /** stream.error was reported */
  failed: boolean;
}

export interface StreamLifecycleDeps {
  /** -authWebhookUrl */
  authWebhookUrl?: string;
  /** -orchMinLivepeerVersion */
  minOrchestratorVersion?: string;
  maxAttempts: number;
  /** -transcodingOptions as it is now (it can change at run time) */
  defaultProfiles(): readonly VideoProfile[];
  /** false when no orchestrator source is configured: no discovery at stream start */
  hasCandidates: boolean;
  orchestrators(manifestId: string, capabilities: Capabilities): StreamOrchestrators;
  /** Ends the ingest side (the registry); its end hook then calls finish(). */
  endIngest(stream: IngestStream<StreamContext>, reason: string): void;
  hls: HlsStore;
  ledger: Ledger;
  /** API keys, limits and billing (-apiKeys optional|required) */
  tenancy?: NodeTenancy;
  /** money paid for nothing, per orchestrator */
  losses?: PaidLosses;
  metrics: GatewayMetrics;
  events: GatewayEventBus;
  log: Logger;
}

export class StreamLifecycle {
  readonly #live = new Map<string, LiveStream>();
  /** Streams whose end is under way (segments still finishing); shutdown waits for them. */
  readonly #ending = new Set<{ live: LiveStream; done: Promise<void> }>();

  constructor(private readonly deps: StreamLifecycleDeps) {}

  /** Streams live, and streams whose end is still under way. */
  get size(): { live: number; ending: number } {
    return { live: this.#live.size, ending: this.#ending.size };
  }

  /** The registry's authorize hook: the auth webhook and push header decide the name and profiles. */
  async authorize(req: PublishRequest): Promise<PublishDecision<StreamContext>> {
    const tenant = await this.deps.tenancy?.authorizeStream(req);
    const res = await authorizeStream({
      ...(this.deps.authWebhookUrl ? { webhookUrl: this.deps.authWebhookUrl } : {}),
      incomingUrl: req.url,
      defaultProfiles: this.deps.defaultProfiles(),
      ...(req.transcodeConfiguration !== undefined ? { transcodeConfiguration: req.transcodeConfiguration } : {}),
      ...(req.format ? { format: req.format } : {}),
    });
    if (!res.accepted) return { accept: false, status: res.status, reason: res.reason };
    const context: StreamContext = {
      profiles: res.profiles,
      externalStreamId: res.externalStreamId,
      sessionId: res.sessionId,
      // go-livepeer applies it to HTTP push only (VOD); a live RTMP stream keeps the live budgets.
      timeoutMultiplier: req.ingest === 'push' ? res.timeoutMultiplier : 0,
      ...(tenant ? { principal: tenant.principal } : {}),
    };
    // an RTMP stream key bound to an API key plays back under the key's public ID, never under the stream key
    return { accept: true, manifestId: tenant?.manifestId ?? res.manifestId, streamKey: res.streamKey, context };
  }

  /** The registry's start hook: the stream gets its orchestrator pool and runner. */
  open(source: IngestStream<StreamContext>): LiveStream {
    const { manifestId, ingest, context } = source;
    const { deps } = this;
    const capabilities = streamCapabilities({
      profiles: context.profiles,
      segmentSlicing: ingest === 'push',
      ...(deps.minOrchestratorVersion ? { minVersion: deps.minOrchestratorVersion } : {}),
    });
    const { pool, transcode, release } = deps.orchestrators(manifestId, capabilities);
    const { principal } = context;
    if (principal) deps.tenancy?.streamStarted(ingest, source.urlId, manifestId, principal);
    const ledger = principal && deps.tenancy ? billedLedger(deps.ledger, deps.tenancy, principal, deps.log) : deps.ledger;
    const runner = new StreamRunner(
      {
        hls: deps.hls,
        ledger,
        metrics: deps.metrics,
        events: deps.events,
        log: deps.log,
        transcode,
        maxAttempts: deps.maxAttempts,
        probeSource: probeSourceSegment,
        sourceShape: quickSourceShape,
        ...(release ? { releaseSessions: release } : {}),
        ...(deps.losses ? { losses: deps.losses } : {}),
      },
      {
        manifestId,
        profiles: context.profiles,
        capabilities,
        pool,
        ...(context.timeoutMultiplier > 1 ? { timeoutMultiplier: context.timeoutMultiplier } : {}),
        onFatal: (reason) => this.fail(live, `payment failure: ${reason}`, { abort: true }),
      },
    );
    const live: LiveStream = { manifestId, ingest, source, runner, pool, abort: false, failed: false };
    this.#live.set(manifestId, live);
    deps.metrics.streamCreated.inc();
    deps.metrics.currentSessions.set(this.#live.size);
    const profiles = context.profiles.map((p) => p.name);
    deps.log.info({ manifestId, ingest, profiles }, `Video Created With ManifestID: ${manifestId}`);
    deps.events.emit('stream.started', {
      manifestId,
      ingest,
      profiles,
      ...(context.externalStreamId ? { externalStreamId: context.externalStreamId } : {}),
      ...(context.sessionId ? { sessionId: context.sessionId } : {}),
    });
    if (deps.hasCandidates && context.profiles.length > 0) void pool.refresh();
    return live;
  }

  /**
   * The registry's take-over hook: a new RTMP publisher with the stream's key replaces the old one. The
   * stream, its runner, orchestrator sessions and playlists stay; the pump follows the new publisher.
   */
  takeOver(previous: IngestStream<StreamContext>, next: IngestStream<StreamContext>): void {
    const live = this.#live.get(previous.manifestId);
    if (!live || live.source !== previous || !next.rtmp) return;
    live.source = next;
    live.takenOver = next.rtmp;
    this.deps.log.info({ manifestId: live.manifestId }, 'publisher reconnected; the stream continues');
    // The old publisher's fan-out ends now; its segmenter finishes its last segment and the pump moves on.
  }

  get(manifestId: string): LiveStream | undefined {
    return this.#live.get(manifestId);
  }

  /** The live stream of this very ingest stream (not a later one under the same name). */
  of(source: IngestStream<StreamContext>): LiveStream | undefined {
    const live = this.#live.get(source.manifestId);
    return live?.source === source ? live : undefined;
  }

  /** Live streams, then those still ending. */
  find(manifestId: string): LiveStream | undefined {
    return this.#live.get(manifestId) ?? [...this.#ending].reverse().find((e) => e.live.manifestId === manifestId)?.live;
  }

  all(): LiveStream[] {
    return [...this.#live.values()];
  }

  /** Ends a stream (ingest side first, then finish() through the registry's end hook). */
  end(live: LiveStream, reason: string): void {
    this.deps.endIngest(live.source, reason);
  }

  /** Ends a stream for an error, which the event feed reports once. */
  fail(live: LiveStream, error: string, opts: { abort?: boolean } = {}): void {
    if (this.#live.get(live.manifestId) !== live || live.failed) return;
    live.failed = true;
    if (opts.abort) live.abort = true;
    this.deps.events.emit('stream.error', { manifestId: live.manifestId, error });
    this.end(live, error);
  }

  /** The registry's end hook. Resolves once the stream's last segment is recorded. */
  finish(source: IngestStream<StreamContext>, reason: string): Promise<void> {
    const live = this.#live.get(source.manifestId);
    if (!live || live.source !== source) return Promise.resolve();
    this.#live.delete(source.manifestId);
    if (source.context.principal) this.deps.tenancy?.streamEnded(source.ingest, source.urlId, source.manifestId, source.context.principal);
    const entry = { live, done: this.#wind(live, reason) };
    this.#ending.add(entry);
    void entry.done.finally(() => this.#ending.delete(entry));
    return entry.done;
  }

  async #wind(live: LiveStream, reason: string): Promise<void> {
    const { metrics, log, events } = this.deps;
    metrics.currentSessions.set(this.#live.size);
    metrics.streamEnded.inc();
    if (live.abort) live.runner.abort();
    try {
      await live.segmenter?.stop();
      await live.runner.end();
    } catch (err) {
      log.error({ err, manifestId: live.manifestId }, 'stream did not finish cleanly');
    }
    // its last attempt is recorded: what it reserved on the ledger and did not send goes back
    await this.deps.ledger
      .releaseStream(live.manifestId)
      .catch((err: unknown) => log.error({ err, manifestId: live.manifestId }, 'could not release the ledger reservation'));
    log.info({ manifestId: live.manifestId, reason }, 'stream finished');
    events.emit('stream.ended', { manifestId: live.manifestId, reason });
  }

  /**
   * Resolves once every stream that is ending has finished: true, or false when `boundMs` passed first
   * (the streams go on ending; cutOff() hurries them).
   */
  async drain(boundMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    const all = Promise.allSettled([...this.#ending].map((e) => e.done)).then(() => true);
    if (boundMs === Number.POSITIVE_INFINITY) return all;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, boundMs));
    });
    try {
      return await Promise.race([all, bound]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Shutdown past its bound: no stream starts another attempt at a segment. Attempts already at an
   * orchestrator end when their connections are cut (their tickets are recorded as sent, the attempt failed).
   */
  cutOff(): void {
    for (const live of this.#live.values()) live.runner.abort();
    for (const { live } of this.#ending) live.runner.abort();
  }
}

/** The ledger as a stream of an API key sees it: each segment attempt is also charged to the key. */
function billedLedger(ledger: Ledger, tenancy: NodeTenancy, principal: Principal, log: Logger): BilledLedger {
  const charge = (r: SegmentRecord): Promise<void> =>
    tenancy.chargeSegment(principal, r).catch((err: unknown) => log.warn({ err: errorMessage(err), manifestId: r.manifestId }, 'could not record usage'));
  return {
    async record(r) {
      await ledger.record(r);
      await charge(r);
    },
    // the tickets are reserved under the owner's spend caps before they are recorded and sent
    async recordIntent(p) {
      await tenancy.reserveSegment(principal, p);
      await ledger.recordIntent(p);
    },
    // billed once the attempt is over, for the tickets that left (the ledger's own rule)
    async recordOutcome(p, outcome) {
      // refused under the spend caps: neither recorded as an intent nor sent
      if (tenancy.segmentRefused(p)) return;
      await ledger.recordOutcome(p, outcome);
      const sent = outcome.sent;
      await tenancy
        .chargeSegmentOutcome(principal, p, {
          manifestId: p.manifestId,
          orchestrator: p.orchestrator,
          tickets: sent ? p.tickets : 0,
          ev: sent ? p.ev : ZERO,
          faceValue: p.faceValue,
          ok: outcome.ok,
        })
        .catch((err: unknown) => log.warn({ err: errorMessage(err), manifestId: p.manifestId }, 'could not record usage'));
    },
  };
}
