// The one lifecycle of an ingest stream, whichever face brought it in (RTMP publish, HTTP push): who may
// start one, the live map by manifest ID, the push URL ID → manifest ID aliases, the idle watchdog of
// push streams, the start/end hooks and the duplicate-publish rule.
import { timingSafeEqual } from 'node:crypto';
import { errorMessage, HttpError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { VideoFormat } from '../media/profiles.ts';
import { unsafeNameReason } from '../media/safeName.ts';
import type { AuthWebhookResponse } from './auth.ts';

export type IngestKind = 'rtmp' | 'push';

/** What is known of a new stream before anyone decided on it. */
export interface PublishRequest {
  readonly ingest: IngestKind;
  /** The manifest ID the URL names (RTMP: random 8-hex when the URL names none). */
  readonly urlId: string;
  /** RTMP stream key from the URL (random 12-hex when absent); empty for HTTP push. */
  readonly streamKey: string;
  /** What the auth webhook gets: the RTMP publish URL with its query, or `http://<Host>/live/<mid>/<seq>.<ext>`. */
  readonly url: string;
  readonly remoteAddress: string;
  /** HTTP push: the parsed Livepeer-Transcode-Configuration header, or null. */
  readonly transcodeConfiguration?: AuthWebhookResponse | null;
  /** HTTP push: the container of the first segment. */
  readonly format?: VideoFormat;
}

/** The verdict of the authorize hook. An accepted publish may be renamed (auth webhook answer). */
export type PublishDecision<C> =
  | { accept: true; manifestId?: string; streamKey?: string; context: C }
  | { accept: false; status: 403 | 500 | 503; reason: string };

/** Metadata an RTMP publisher announced in onMetaData (0 when not sent). */
export interface RtmpStreamMetadata {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

/** Where an FLV copy of a stream goes (the segmenter's input). */
export interface FlvSink {
  /** One tag (or the file header). The bytes are reused after the call returns: a sink that keeps them copies them. */
  send(bytes: Buffer): void;
  /** The publisher left: no more bytes. */
  close(): void;
}

/** How the node reads an RTMP stream: as FLV handed over in-process, or played back over local RTMP. */
export interface RtmpSource {
  /** `rtmp://127.0.0.1:<port>/stream/<mid>/<key>` */
  readonly playbackUrl: string;
  metadata(): RtmpStreamMetadata;
  /** The stream as an FLV file (header, codec headers, the current GOP, then every packet); leave() stops it. */
  playFlv?(sink: FlvSink): { leave(): void };
}

/** A live, accepted stream. */
export interface IngestStream<C> {
  readonly manifestId: string;
  readonly ingest: IngestKind;
  /** The ID in the publish URL; differs from manifestId when the auth webhook renamed the stream. */
  readonly urlId: string;
  readonly streamKey: string;
  /** What the authorize hook attached (profiles, external IDs…). */
  readonly context: C;
  readonly remoteAddress: string;
  readonly startedAt: Date;
  /** Set for RTMP streams. */
  readonly rtmp?: RtmpSource;
}

/** What a face ties to an admitted stream: how to let go of its publisher when the stream ends. */
export interface StreamAttachment {
  close(reason: string): void;
  readonly rtmp?: RtmpSource;
}

export type PublishRefusal =
  | 'UNSAFE_NAME'
  | 'STREAM_ALREADY_LIVE'
  | 'PUBLISH_REFUSED'
  | 'AUTHORIZATION_FAILED'
  | 'TOO_MANY_STREAMS'
  | 'SHUTTING_DOWN'
  | 'START_FAILED';

/** A publish that was not taken. HTTP push answers `status`; RTMP tells its publisher the message. */
export class PublishRefusedError extends HttpError {
  constructor(status: number, code: PublishRefusal, message: string, cause?: unknown) {
    super(status, message, { code, cause });
  }
}

/** A push stream with no request for this long is removed (go-livepeer: 60 s). */
export const PUSH_IDLE_TIMEOUT_MS = 60_000;

export interface StreamRegistryOptions<C> {
  /** Decide on a new stream: auth webhook, push header, profiles. A throw refuses with 500. */
  authorize(req: PublishRequest): Promise<PublishDecision<C>>;
  onStarted?(stream: IngestStream<C>): void;
  /** Once per started stream, whatever ended it. */
  onEnded?(stream: IngestStream<C>, reason: string): void;
  /**
   * An RTMP publish with the stream key of the live RTMP stream it names takes that stream over (an encoder
   * reconnecting after a network blip, before its old session timed out): `next` replaces `previous`
   * under the same manifest ID, and neither start nor end hook runs. Without this hook such a publish is
   * refused like any duplicate.
   */
  onTakenOver?(previous: IngestStream<C>, next: IngestStream<C>): void;
  /** Live streams at most, RTMP and push together (-maxSessions); default no limit. */
  maxStreams?: number;
  /** A push stream idle this long ends with reason 'idle'. RTMP streams end with their connection. */
  idleTimeoutMs?: number;
  /** Clock of the idle watchdog (tests). */
  now?: () => number;
  log: Logger;
}

interface Entry<C> {
  readonly stream: IngestStream<C>;
  readonly attachment: StreamAttachment;
  lastUsed: number;
  /** Requests being handled for this stream: it never idles out while one runs. */
  active: number;
}

export class StreamRegistry<C> {
  readonly #live = new Map<string, Entry<C>>();
  /** Push URL ID → manifest ID, for streams the webhook renamed. */
  readonly #aliases = new Map<string, string>();
  /** First pushes being authorized, by URL ID: concurrent pushes to one new stream share one authorization. */
  readonly #pending = new Map<string, Promise<IngestStream<C>>>();
  readonly #watchdog: NodeJS.Timeout | undefined;
  readonly #now: () => number;
  readonly #log: Logger;
  #closed = false;

  constructor(private readonly opts: StreamRegistryOptions<C>) {
    this.#now = opts.now ?? Date.now;
    this.#log = opts.log;
    const idle = opts.idleTimeoutMs;
    if (idle !== undefined) {
      this.#watchdog = setInterval(() => this.sweep(), Math.max(50, Math.min(5000, Math.floor(idle / 4))));
      this.#watchdog.unref();
    }
  }

  get size(): number {
    return this.#live.size;
  }

  /** Push URL ID aliases held (each dies with its stream). */
  get aliases(): number {
    return this.#aliases.size;
  }

  /** First pushes still being authorized. */
  get pending(): number {
    return this.#pending.size;
  }

  get(manifestId: string): IngestStream<C> | undefined {
    return this.#live.get(manifestId)?.stream;
  }

  streams(): IngestStream<C>[] {
    return [...this.#live.values()].map((e) => e.stream);
  }

  /** The live push stream that a push to this URL ID continues, if any. */
  pushStream(urlId: string): IngestStream<C> | undefined {
    const entry = this.#live.get(this.#aliases.get(urlId) ?? urlId);
    return entry && entry.stream.ingest === 'push' && entry.stream.urlId === urlId ? entry.stream : undefined;
  }

  /**
   * A publish. HTTP push to a live push stream (or to one whose first push is being authorized) joins it.
   * Otherwise the stream is refused when its URL names a live stream, authorized, and refused again when
   * the authorized name is live or the limit is reached: a running stream is never touched by a newcomer.
   * Then `attach` ties the publisher to it (it may throw, e.g. the publisher left) and the stream starts.
   * Throws PublishRefusedError.
   */
  async open(req: PublishRequest, attach: (ids: { manifestId: string; streamKey: string }) => StreamAttachment): Promise<IngestStream<C>> {
    // Every ingest's manifest ID passes here before anyone is asked about it (playlist injection).
    const unsafe = unsafeNameReason('manifest ID', req.urlId);
    if (unsafe) throw this.#refused(req, new PublishRefusedError(400, 'UNSAFE_NAME', unsafe));
    if (req.ingest === 'push') {
      const live = this.pushStream(req.urlId);
      if (live) return this.#touched(live);
      const pending = this.#pending.get(req.urlId);
      if (pending) return pending;
      const p = this.#admit(req, attach).finally(() => this.#pending.delete(req.urlId));
      this.#pending.set(req.urlId, p);
      return p;
    }
    return this.#admit(req, attach);
  }

  async #admit(req: PublishRequest, attach: (ids: { manifestId: string; streamKey: string }) => StreamAttachment): Promise<IngestStream<C>> {
    this.#refuseIfClosed(req);
    this.#refuseIfLive(req.urlId, req, req.streamKey);
    let decision: PublishDecision<C>;
    try {
      decision = await this.opts.authorize(req);
    } catch (err) {
      // a refusal with a reason of its own (API key, limits) keeps its status
      if (err instanceof HttpError && err.status >= 400 && err.status < 500)
        throw this.#refused(req, new PublishRefusedError(err.status, 'PUBLISH_REFUSED', err.message, err));
      throw this.#refused(req, new PublishRefusedError(500, 'AUTHORIZATION_FAILED', `authorization failed: ${errorMessage(err)}`, err));
    }
    if (!decision.accept) throw this.#refused(req, new PublishRefusedError(decision.status, 'PUBLISH_REFUSED', decision.reason));
    this.#refuseIfClosed(req);
    const manifestId = decision.manifestId || req.urlId;
    const streamKey = decision.streamKey || req.streamKey;
    const renamedUnsafe = unsafeNameReason('manifest ID from the auth webhook', manifestId);
    if (renamedUnsafe) throw this.#refused(req, new PublishRefusedError(500, 'UNSAFE_NAME', renamedUnsafe));
    const previous = this.#refuseIfLive(manifestId, req, streamKey);
    if (previous) return this.#takeOver(previous, req, decision.context, attach);
    const max = this.opts.maxStreams;
    if (max !== undefined && this.#live.size >= max) {
      throw this.#refused(req, new PublishRefusedError(503, 'TOO_MANY_STREAMS', `Too many connections: ${max} streams are live (-maxSessions ${max})`));
    }
    // Checked again: the hook may have renamed the stream to one that went live meanwhile.
    if (req.ingest === 'push' && this.pushStream(req.urlId)) return this.#touched(this.pushStream(req.urlId)!);

    const attachment = attach({ manifestId, streamKey });
    const stream: IngestStream<C> = {
      manifestId,
      ingest: req.ingest,
      urlId: req.urlId,
      streamKey,
      context: decision.context,
      remoteAddress: req.remoteAddress,
      startedAt: new Date(),
      ...(attachment.rtmp ? { rtmp: attachment.rtmp } : {}),
    };
    this.#live.set(manifestId, { stream, attachment, lastUsed: this.#now(), active: 0 });
    if (req.ingest === 'push' && manifestId !== req.urlId) this.#aliases.set(req.urlId, manifestId);
    this.#log.info({ manifestId, ingest: req.ingest, urlId: req.urlId, peer: req.remoteAddress }, 'stream started');
    try {
      this.opts.onStarted?.(stream);
    } catch (err) {
      // e.g. profiles from the webhook that no orchestrator capability describes: the stream cannot run.
      this.#log.error({ err, manifestId }, 'stream start hook failed');
      this.end(stream, `stream could not start: ${errorMessage(err)}`);
      throw this.#refused(req, new PublishRefusedError(500, 'START_FAILED', `stream could not start: ${errorMessage(err)}`, err));
    }
    return stream;
  }

  #refuseIfClosed(req: PublishRequest): void {
    if (this.#closed) throw this.#refused(req, new PublishRefusedError(503, 'SHUTTING_DOWN', 'the gateway is shutting down'));
  }

  /**
   * Refuses a publish to a live stream, unless it may take that stream over (RTMP to RTMP with the same
   * stream key): then the live entry is returned.
   */
  #refuseIfLive(manifestId: string, req: PublishRequest, streamKey: string): Entry<C> | undefined {
    const entry = this.#live.get(manifestId);
    if (!entry) return undefined;
    const live = entry.stream;
    if (this.opts.onTakenOver && req.ingest === 'rtmp' && live.ingest === 'rtmp' && streamKey !== '' && sameKey(streamKey, live.streamKey)) return entry;
    // go-livepeer tears the running stream down for any newcomer; we let only the holder of its key take it
    // over and refuse everyone else.
    const why = `stream ${manifestId} is already live (${live.ingest}); the new ${req.ingest} publish is refused`;
    throw this.#refused(req, new PublishRefusedError(403, 'STREAM_ALREADY_LIVE', why));
  }

  #takeOver(
    previous: Entry<C>,
    req: PublishRequest,
    context: C,
    attach: (ids: { manifestId: string; streamKey: string }) => StreamAttachment,
  ): IngestStream<C> {
    const old = previous.stream;
    const attachment = attach({ manifestId: old.manifestId, streamKey: old.streamKey });
    const stream: IngestStream<C> = {
      manifestId: old.manifestId,
      ingest: old.ingest,
      urlId: req.urlId,
      streamKey: old.streamKey,
      // the stream keeps what it was started with (profiles, external IDs)
      context: old.context ?? context,
      remoteAddress: req.remoteAddress,
      startedAt: old.startedAt,
      ...(attachment.rtmp ? { rtmp: attachment.rtmp } : {}),
    };
    this.#live.set(old.manifestId, { stream, attachment, lastUsed: this.#now(), active: 0 });
    this.#log.info({ manifestId: old.manifestId, previousPeer: old.remoteAddress, peer: req.remoteAddress }, 'stream taken over by a new publish with its key');
    try {
      this.opts.onTakenOver?.(old, stream);
    } catch (err) {
      this.#log.error({ err, manifestId: old.manifestId }, 'stream take-over hook failed');
    }
    try {
      previous.attachment.close('taken over by a new publish with the same key');
    } catch (err) {
      this.#log.error({ err, manifestId: old.manifestId }, 'closing the previous publisher failed');
    }
    return stream;
  }

  #refused(req: PublishRequest, err: PublishRefusedError): PublishRefusedError {
    this.#log.info({ ingest: req.ingest, urlId: req.urlId, peer: req.remoteAddress, reason: err.message }, 'publish refused');
    return err;
  }

  #touched(stream: IngestStream<C>): IngestStream<C> {
    const entry = this.#live.get(stream.manifestId);
    if (entry) entry.lastUsed = this.#now();
    return stream;
  }

  /** Keeps a stream from idling out while a request for it runs; call the result when it is done. */
  hold(stream: IngestStream<C>): () => void {
    const entry = this.#live.get(stream.manifestId);
    if (!entry || entry.stream !== stream) return () => {};
    entry.active += 1;
    entry.lastUsed = this.#now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      entry.active -= 1;
      entry.lastUsed = this.#now();
    };
  }

  /**
   * Ends a stream now: its face lets go of the publisher, then the end hook runs. Ends only this very
   * stream (not a later one under the same name); false when it had ended already.
   */
  end(stream: IngestStream<C>, reason: string): boolean {
    const entry = this.#live.get(stream.manifestId);
    if (!entry || entry.stream !== stream) return false;
    this.#live.delete(stream.manifestId);
    for (const [urlId, mid] of this.#aliases) if (mid === stream.manifestId) this.#aliases.delete(urlId);
    try {
      entry.attachment.close(reason);
    } catch (err) {
      this.#log.error({ err, manifestId: stream.manifestId }, 'closing the publisher failed');
    }
    this.#log.info({ manifestId: stream.manifestId, ingest: stream.ingest, reason }, 'stream ended');
    try {
      this.opts.onEnded?.(stream, reason);
    } catch (err) {
      this.#log.error({ err, manifestId: stream.manifestId }, 'stream end hook failed');
    }
    return true;
  }

  /** Ends the push streams that have been idle too long (the watchdog calls this). */
  sweep(): void {
    const idle = this.opts.idleTimeoutMs;
    if (idle === undefined) return;
    const now = this.#now();
    for (const entry of [...this.#live.values()]) {
      if (entry.stream.ingest === 'push' && entry.active === 0 && now - entry.lastUsed > idle) this.end(entry.stream, 'idle');
    }
  }

  /** Refuses new publishes from now on and ends every live stream. */
  close(reason: string): void {
    this.#closed = true;
    if (this.#watchdog) clearInterval(this.#watchdog);
    for (const entry of [...this.#live.values()]) this.end(entry.stream, reason);
  }
}

/** Stream keys compared in constant time (a key is a secret). */
function sameKey(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
