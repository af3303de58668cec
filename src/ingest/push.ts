// HTTP push ingest: `PUT|POST /live/<manifestID>/<seq>.<ts|mp4>` on -httpAddr.
// Each request carries one segment and is answered once it is transcoded,
// optionally with the renditions as multipart/mixed.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { probeBuffer, type MediaInfo } from '../media/probe.ts';
import type { VideoFormat } from '../media/profiles.ts';
import { sendText, type HttpRoute } from '../lib/http.ts';
import { AuthResponseError, parseAuthResponse, type AuthWebhookResponse } from './auth.ts';
import { splitStreamPath, urlPath } from './streamPath.ts';

/** A push stream with no request for this long is removed (go-livepeer: 60 s). */
export const PUSH_IDLE_TIMEOUT_MS = 60_000;
/** Largest accepted segment body (go-livepeer's MaxSegSize, about 300 MB). */
export const MAX_PUSH_SEGMENT_BYTES = 300 * 1024 * 1024;
/** Duration assumed when Content-Duration is missing or not a number. */
export const DEFAULT_PUSH_DURATION_MS = 2000;

/** Video codecs an orchestrator can decode (ffprobe names). */
const KNOWN_VIDEO_CODECS = new Set(['h264', 'hevc', 'vp8', 'vp9']);

export interface PushStream<C> {
  /** The stream's manifest ID (the webhook may have mapped the URL's ID to another one). */
  readonly manifestId: string;
  /** The ID in the push URL. */
  readonly externalManifestId: string;
  readonly context: C;
  readonly startedAt: Date;
}

/** What the caller sees of the first segment of an unknown stream. */
export interface PushAuthInfo {
  /** From the URL path. */
  readonly manifestId: string;
  /** `http://<Host>/live/<mid>/<seq>.<ext>` without query: what the auth webhook gets. */
  readonly url: string;
  /** Parsed Livepeer-Transcode-Configuration header, or null. */
  readonly transcodeConfiguration: AuthWebhookResponse | null;
  readonly format: VideoFormat;
  readonly remoteAddress: string;
}

export type PushDecision<C> =
  | { accept: true; manifestId?: string; context: C }
  /** 403 when authentication refused (default), 500 for other refusals (e.g. too many sessions). */
  | { accept: false; status?: 403 | 500 | 503; reason: string };

export interface PushSegment<C> {
  readonly stream: PushStream<C>;
  readonly seq: number;
  readonly data: Buffer;
  readonly durationMs: number;
  readonly format: VideoFormat;
  /** e.g. `3.ts` */
  readonly fileName: string;
  readonly media: MediaInfo;
  /** Content-Resolution header, else the probed size. */
  readonly resolution: { width: number; height: number };
  /** Content-Slice-From / -To in ms (0 = open end), when given. */
  readonly clip?: { fromMs: number; toMs: number };
  /** The input format changed since the stream's previous segment, or the header asked for it. */
  readonly forceSessionReinit: boolean;
  readonly remoteAddress: string;
}

export interface PushRendition {
  /** Profile name. */
  readonly name: string;
  readonly format: VideoFormat;
  /** Segment bytes; when absent, `url` is sent as an `application/vnd+livepeer.uri` part. */
  readonly data?: Buffer;
  readonly url?: string;
}

/**
 * Thrown by the transcode hook to pick the status: 503 "No sessions
 * available", 422 for input no orchestrator can take, 500 otherwise.
 */
export class PushError extends Error {
  override name = 'PushError';
  constructor(
    readonly status: 422 | 500 | 503,
    message: string,
  ) {
    super(message);
  }
}

export interface PushIngestOptions<C> {
  /** Decide on a new stream (auth webhook, header, -maxSessions). A throw answers 500. */
  authorize(info: PushAuthInfo): Promise<PushDecision<C>>;
  /**
   * Transcode one segment; resolve with the renditions in profile order (empty
   * when the stream has no profiles). Storing the source and renditions for HLS
   * is the caller's job. Throw PushError to choose the status.
   */
  transcode(segment: PushSegment<C>): Promise<PushRendition[]>;
  onStreamStarted?(stream: PushStream<C>): void;
  /** 'idle' after idleTimeoutMs without a push, 'replaced' when another URL ID took its manifest ID, or the reason given to endStream. */
  onStreamEnded?(stream: PushStream<C>, reason: string): void;
  idleTimeoutMs?: number;
  maxSegmentBytes?: number;
  log?: Logger;
}

export interface PushIngest<C> {
  /** Route for the -httpAddr listener; handles paths under `/live/`. */
  readonly route: HttpRoute;
  /** Live push stream by its manifest ID. */
  stream(manifestId: string): PushStream<C> | undefined;
  streams(): PushStream<C>[];
  /** Remove a stream now (e.g. its payments failed); the next push re-authorizes. */
  endStream(manifestId: string, reason?: string): void;
  /** Stop the idle watchdog and end all streams. */
  close(): void;
}

interface StreamState<C> {
  stream: PushStream<C>;
  lastUsed: number;
  active: number;
  lastMedia: MediaInfo | undefined;
}

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function createPushIngest<C>(opts: PushIngestOptions<C>): PushIngest<C> {
  const log = opts.log;
  const idleTimeoutMs = opts.idleTimeoutMs ?? PUSH_IDLE_TIMEOUT_MS;
  const maxBytes = opts.maxSegmentBytes ?? MAX_PUSH_SEGMENT_BYTES;
  /** By internal manifest ID. */
  const streams = new Map<string, StreamState<C>>();
  /** URL manifest ID → internal manifest ID. */
  const aliases = new Map<string, string>();
  /** Authorizations in flight by URL manifest ID: concurrent first pushes share one. */
  const pending = new Map<string, Promise<StreamState<C>>>();
  let closed = false;

  const watchdog = setInterval(
    () => {
      const now = Date.now();
      for (const [mid, st] of streams) {
        if (st.active === 0 && now - st.lastUsed > idleTimeoutMs) end(mid, 'idle');
      }
    },
    Math.max(50, Math.min(5000, Math.floor(idleTimeoutMs / 4))),
  );
  watchdog.unref();

  function end(manifestId: string, reason: string): void {
    const st = streams.get(manifestId);
    if (!st) return;
    streams.delete(manifestId);
    for (const [ext, mid] of aliases) if (mid === manifestId) aliases.delete(ext);
    log?.info({ manifestId, reason }, 'push stream ended');
    try {
      opts.onStreamEnded?.(st.stream, reason);
    } catch (err) {
      log?.error({ err, manifestId }, 'onStreamEnded handler failed');
    }
  }

  async function openStream(info: PushAuthInfo): Promise<StreamState<C>> {
    let decision: PushDecision<C>;
    try {
      decision = await opts.authorize(info);
    } catch (err) {
      throw new HttpFailure(500, `Could not create stream ID: ${(err as Error).message}`);
    }
    if (!decision.accept) {
      throw new HttpFailure(decision.status ?? 403, `Could not create stream ID: ${decision.reason}`);
    }
    if (closed) throw new HttpFailure(503, 'server is shutting down');
    const manifestId = decision.manifestId || info.manifestId;
    const existing = streams.get(manifestId);
    if (existing) {
      const ownerExt = existing.stream.externalManifestId;
      if (ownerExt === info.manifestId) return existing;
      // Another URL ID now maps to this manifest: the old stream ends (as go-livepeer).
      end(manifestId, 'replaced');
    }
    const st: StreamState<C> = {
      stream: { manifestId, externalManifestId: info.manifestId, context: decision.context, startedAt: new Date() },
      lastUsed: Date.now(),
      active: 0,
      lastMedia: undefined,
    };
    streams.set(manifestId, st);
    if (manifestId !== info.manifestId) aliases.set(info.manifestId, manifestId);
    log?.info({ manifestId, externalManifestId: info.manifestId }, 'push stream started');
    try {
      opts.onStreamStarted?.(st.stream);
    } catch (err) {
      log?.error({ err, manifestId }, 'onStreamStarted handler failed');
    }
    return st;
  }

  function lookup(extMid: string): StreamState<C> | undefined {
    return streams.get(aliases.get(extMid) ?? extMid);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, rawPath: string): Promise<void> {
    if (req.method !== 'POST' && req.method !== 'PUT') {
      req.resume();
      sendText(res, 405, `http push request wrong method=${req.method}`, { Allow: 'POST, PUT' });
      return;
    }
    let headerConfig: AuthWebhookResponse | null = null;
    const headerText = header(req, 'livepeer-transcode-configuration');
    if (headerText) {
      try {
        headerConfig = parseAuthResponse(headerText);
      } catch (err) {
        req.resume();
        const msg = err instanceof AuthResponseError ? err.message : String(err);
        sendText(res, 400, `failed to parse transcode config header: ${msg}`);
        return;
      }
    }

    const path = urlPath(rawPath);
    const ext = /\.[^./]*$/.exec(path)?.[0] ?? '';
    const format: VideoFormat | undefined = ext === '.ts' ? 'mpegts' : ext === '.mp4' ? 'mp4' : undefined;
    if (!format) throw new HttpFailure(400, `ignoring file extension: ${ext}`);
    const extMid = splitStreamPath(path).manifestId;
    if (extMid === '') throw new HttpFailure(400, `Bad URL url=${rawPath}`);

    const fromMs = parseUint(header(req, 'content-slice-from'));
    const toMs = parseUint(header(req, 'content-slice-to'));
    if (fromMs > 0 && toMs > 0 && fromMs > toMs) {
      throw new HttpFailure(400, `Invalid slice config from=${fromMs}ms to=${toMs}ms`);
    }

    // URL and headers are checked before the (up to 300 MB) body is read.
    const body = await readBody(req, maxBytes);

    let media: MediaInfo;
    try {
      media = await probeBuffer(body);
    } catch {
      throw new HttpFailure(422, `Error getting codec info url=${rawPath}`);
    }
    if (media.videoCodec === '') log?.warn({ manifestId: extMid }, "couldn't detect input video stream codec");
    else if (!KNOWN_VIDEO_CODECS.has(media.videoCodec)) throw new HttpFailure(422, `Unknown input stream codec=${media.videoCodec}`);

    const remoteAddress = forwardedFor(req) ?? req.socket.remoteAddress ?? '';
    let st = lookup(extMid);
    if (!st) {
      let p = pending.get(extMid);
      if (!p) {
        const host = header(req, 'host') ?? 'localhost';
        p = openStream({
          manifestId: extMid,
          url: `http://${host}${rawPath}`,
          transcodeConfiguration: headerConfig,
          format,
          remoteAddress,
        }).finally(() => pending.delete(extMid));
        pending.set(extMid, p);
      }
      st = await p;
    }

    const fileName = path.slice(path.lastIndexOf('/') + 1);
    const seqText = fileName.slice(0, fileName.length - ext.length);
    const seq = /^\d+$/.test(seqText) && Number.isSafeInteger(Number(seqText)) ? Number(seqText) : 0;
    const durationText = header(req, 'content-duration');
    const durationMs = durationText && /^-?\d+$/.test(durationText.trim()) ? Number(durationText.trim()) : DEFAULT_PUSH_DURATION_MS;
    const resolution = parseResolution(header(req, 'content-resolution')) ?? { width: media.width, height: media.height };

    let forceSessionReinit = headerConfig?.forceSessionReinit ?? false;
    if (st.lastMedia && !sameMedia(st.lastMedia, media)) forceSessionReinit = true;
    st.lastMedia = media;

    // Keep the stream alive while this (possibly long) transcode runs.
    st.active += 1;
    st.lastUsed = Date.now();
    let renditions: PushRendition[];
    try {
      renditions = await opts.transcode({
        stream: st.stream,
        seq,
        data: body,
        durationMs,
        format,
        fileName,
        media,
        resolution,
        clip: fromMs > 0 || toMs > 0 ? { fromMs, toMs } : undefined,
        forceSessionReinit,
        remoteAddress,
      });
    } catch (err) {
      if (err instanceof PushError) throw new HttpFailure(err.status, err.message);
      throw new HttpFailure(500, `http push error processing segment url=${rawPath} err=${(err as Error).message}`);
    } finally {
      st.active -= 1;
      st.lastUsed = Date.now();
    }
    if (res.destroyed) return;

    if (header(req, 'accept') !== 'multipart/mixed' || renditions.length === 0) {
      res.writeHead(200, { 'Content-Length': '0' });
      res.end();
      return;
    }
    const boundary = randomBytes(10).toString('hex');
    const parts = encodeMultipart(boundary, seq, renditions);
    res.writeHead(200, {
      'Content-Type': `multipart/mixed; boundary=${boundary}`,
      'Content-Length': String(parts.length),
    });
    res.end(parts);
  }

  const route: HttpRoute = async (req, res) => {
    const rawPath = (req.url ?? '/').split('?', 1)[0]!;
    if (!rawPath.startsWith('/live/')) return false;
    try {
      await handle(req, res, rawPath);
    } catch (err) {
      const status = err instanceof HttpFailure ? err.status : 500;
      const msg = err instanceof HttpFailure ? err.message : 'Internal Server Error';
      if (!(err instanceof HttpFailure)) log?.error({ err, url: rawPath }, 'http push failed');
      else log?.info({ status, url: rawPath, reason: msg }, 'http push refused');
      if (!req.complete) req.resume();
      // Do not keep reading a body we refused for its size.
      sendText(res, status, msg, status === 413 ? { Connection: 'close' } : {});
    }
    return true;
  };

  return {
    route,
    stream: (mid) => streams.get(mid)?.stream,
    streams: () => [...streams.values()].map((s) => s.stream),
    endStream: (mid, reason = 'ended') => end(mid, reason),
    close() {
      closed = true;
      clearInterval(watchdog);
      for (const mid of [...streams.keys()]) end(mid, 'server closing');
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function forwardedFor(req: IncomingMessage): string | undefined {
  const v = header(req, 'x-forwarded-for');
  return v ? v.split(',')[0]!.trim() || undefined : undefined;
}

function parseUint(v: string | undefined): number {
  if (!v || !/^\d+$/.test(v.trim())) return 0;
  const n = Number(v.trim());
  return Number.isSafeInteger(n) ? n : 0;
}

/** `WxH` → size, or undefined. */
export function parseResolution(v: string | undefined): { width: number; height: number } | undefined {
  const m = v ? /^\s*(\d{1,5})x(\d{1,5})\s*$/.exec(v) : null;
  if (!m) return undefined;
  return { width: Number(m[1]), height: Number(m[2]) };
}

function sameMedia(a: MediaInfo, b: MediaInfo): boolean {
  return a.videoCodec === b.videoCodec && a.pixelFormat === b.pixelFormat && a.width === b.width && a.height === b.height;
}

async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(header(req, 'content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new HttpFailure(413, `segment larger than ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) throw new HttpFailure(413, `segment larger than ${maxBytes} bytes`);
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof HttpFailure) throw err;
    throw new HttpFailure(500, `Error reading http request body: ${(err as Error).message}`);
  }
  return Buffer.concat(chunks, size);
}

/**
 * The multipart/mixed body of a push answer: one part per rendition, headers
 * as go-livepeer writes them (sorted by name).
 */
export function encodeMultipart(boundary: string, seq: number, renditions: readonly PushRendition[]): Buffer {
  const out: Buffer[] = [];
  renditions.forEach((r, i) => {
    let type: string;
    let ext: string;
    let body: Buffer;
    if (r.data && r.data.length > 0) {
      type = r.format === 'mp4' ? 'video/mp4' : 'video/mp2t';
      ext = r.format === 'mp4' ? '.mp4' : '.ts';
      body = r.data;
    } else {
      type = 'application/vnd+livepeer.uri';
      ext = '.txt';
      body = Buffer.from(r.url ?? '');
    }
    const fname = `"${r.name}_${seq}${ext}"`;
    const head =
      `${i === 0 ? '' : '\r\n'}--${boundary}\r\n` +
      `Content-Disposition: attachment; filename=${fname}\r\n` +
      `Content-Length: ${body.length}\r\n` +
      `Content-Type: ${type}; name=${fname}\r\n` +
      `Rendition-Name: ${r.name}\r\n\r\n`;
    out.push(Buffer.from(head), body);
  });
  out.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return Buffer.concat(out);
}
