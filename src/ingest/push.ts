// HTTP push ingest: `PUT|POST /live/<manifestID>/<seq>.<ts|mp4>` on -httpAddr. Each request carries one
// segment and is answered once it is transcoded, with the renditions as multipart/mixed when asked.
// The first push of a stream opens it through the stream registry (the auth webhook decides before a
// byte of the body is read); later pushes continue it. Bounded: body size, pushes at once, one request
// per stream and sequence number at a time.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, readBody } from '../lib/body.ts';
import { errorMessage, HttpError } from '../lib/errors.ts';
import { header, sendText, type HttpRoute } from '../lib/http.ts';
import type { Logger } from '../lib/log.ts';
import type { MediaInfo } from '../media/probe.ts';
import type { VideoFormat } from '../media/profiles.ts';
import { encodeMultipart, multipartBoundary, type PushRendition } from './multipart.ts';
import { probePushSegment, sameMediaFormat } from './pushMedia.ts';
import { parsePushRequest, type PushRequest, type SegmentClip } from './pushRequest.ts';
import { PublishRefusedError, type IngestStream, type StreamRegistry } from './streamRegistry.ts';

export type { PushRendition } from './multipart.ts';

/** Largest accepted segment body (go-livepeer's MaxSegSize, about 300 MB); -httpIngestMaxBytes. */
export const MAX_PUSH_SEGMENT_BYTES = 300 * 1024 * 1024;
/** Push requests handled at once (each may hold a whole segment in memory); -httpIngestMaxConcurrent. */
export const MAX_CONCURRENT_PUSHES = 16;

export interface PushSegment<C> {
  readonly stream: IngestStream<C>;
  readonly seq: number;
  readonly data: Buffer;
  readonly durationMs: number;
  readonly format: VideoFormat;
  /** e.g. `3.ts` */
  readonly fileName: string;
  readonly media: MediaInfo;
  /** Content-Resolution header, else the probed size. */
  readonly resolution: { width: number; height: number };
  /** Content-Slice-From / -To, when given. */
  readonly clip?: SegmentClip;
  /** The input format changed since the stream's previous segment, or the header asked for it. */
  readonly forceSessionReinit: boolean;
  readonly remoteAddress: string;
}

export interface PushIngestOptions<C> {
  registry: StreamRegistry<C>;
  /**
   * Transcodes one segment; resolves with the renditions in profile order (empty when the stream has no
   * profiles). Throw an HttpError to choose the status; anything else answers 500.
   */
  transcode(segment: PushSegment<C>): Promise<PushRendition[]>;
  maxSegmentBytes?: number;
  /** More requests than this at once are answered 503 before their body is read. */
  maxConcurrent?: number;
  log: Logger;
}

/** The route for the -httpAddr listener; it takes paths under `/live/`. */
export function createPushRoute<C>(opts: PushIngestOptions<C>): HttpRoute {
  const { registry, log } = opts;
  const maxBytes = opts.maxSegmentBytes ?? MAX_PUSH_SEGMENT_BYTES;
  const maxConcurrent = opts.maxConcurrent ?? MAX_CONCURRENT_PUSHES;
  /** Each stream's previous segment format, to see a change. */
  const lastMedia = new WeakMap<IngestStream<C>, MediaInfo>();
  /** `<urlId>/<seq>` of the pushes being handled: a second one of the same segment is 409, never a wait. */
  const inFlight = new Set<string>();
  let running = 0;

  async function handle(req: IncomingMessage, res: ServerResponse, rawPath: string): Promise<void> {
    const push = parsePushRequest(req, rawPath);
    const key = `${push.urlId}/${push.seq}`;
    if (inFlight.has(key)) {
      throw new HttpError(409, `segment ${push.seq} of stream ${push.urlId} is already being pushed; wait for its answer before sending it again`, {
        code: 'DUPLICATE_SEGMENT',
      });
    }
    inFlight.add(key);
    try {
      await handleSegment(req, res, rawPath, push);
    } finally {
      inFlight.delete(key);
    }
  }

  async function handleSegment(req: IncomingMessage, res: ServerResponse, rawPath: string, push: PushRequest): Promise<void> {
    // A declared length over the limit is refused before anyone is asked; then the stream is authorized
    // (webhook, -maxSessions) before the body is read: a refused pusher costs no memory.
    const declared = Number(header(req, 'content-length') ?? 0);
    if (declared > maxBytes) throw tooLarge(maxBytes);
    const stream = await openStream(push);
    // The stream does not idle out while this request (upload, probe, possibly long transcode) runs.
    const release = registry.hold(stream);
    try {
      const body = await readSegment(req, maxBytes);
      const media = await probePushSegment(body, rawPath);
      if (media.videoCodec === '') log.warn({ manifestId: push.urlId }, "couldn't detect input video stream codec");
      const previous = lastMedia.get(stream);
      lastMedia.set(stream, media);
      const segment: PushSegment<C> = {
        stream,
        seq: push.seq,
        data: body,
        durationMs: push.durationMs,
        format: push.format,
        fileName: push.fileName,
        media,
        resolution: push.resolution ?? { width: media.width, height: media.height },
        ...(push.clip ? { clip: push.clip } : {}),
        forceSessionReinit: (push.transcodeConfiguration?.forceSessionReinit ?? false) || (previous !== undefined && !sameMediaFormat(previous, media)),
        remoteAddress: push.remoteAddress,
      };
      const renditions = await transcode(segment, rawPath);
      if (!res.destroyed) reply(res, push, renditions);
    } finally {
      release();
    }
  }

  /** The stream this push continues, or a new one. */
  async function openStream(push: PushRequest): Promise<IngestStream<C>> {
    const { urlId, url, remoteAddress, transcodeConfiguration, format } = push;
    try {
      return await registry.open({ ingest: 'push', urlId, streamKey: '', url, remoteAddress, transcodeConfiguration, format }, () => ({ close: () => {} }));
    } catch (err) {
      if (err instanceof PublishRefusedError) throw new HttpError(err.status, `Could not create stream ID: ${err.message}`, { code: err.code, cause: err });
      throw err;
    }
  }

  async function transcode(segment: PushSegment<C>, rawPath: string): Promise<PushRendition[]> {
    try {
      return await opts.transcode(segment);
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError(500, `http push error processing segment url=${rawPath} err=${errorMessage(err)}`, { cause: err });
    }
  }

  return async (req, res) => {
    const rawPath = (req.url ?? '/').split('?', 1)[0]!;
    if (!rawPath.startsWith('/live/')) return false;
    if (running >= maxConcurrent) {
      answerFailure(
        req,
        res,
        rawPath,
        new HttpError(503, `too many pushes at once (${maxConcurrent}); retry`, {
          code: 'TOO_MANY_PUSHES',
          headers: { 'Retry-After': '1', Connection: 'close' },
        }),
        log,
      );
      return true;
    }
    running += 1;
    try {
      await handle(req, res, rawPath);
    } catch (err) {
      answerFailure(req, res, rawPath, err, log);
    } finally {
      running -= 1;
    }
    return true;
  };
}

async function readSegment(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  try {
    return await readBody(req, maxBytes, { declaredLength: header(req, 'content-length') });
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw tooLarge(maxBytes, err);
    throw new HttpError(500, `Error reading http request body: ${errorMessage(err)}`, { cause: err });
  }
}

function tooLarge(maxBytes: number, cause?: unknown): HttpError {
  return new HttpError(413, `segment larger than ${maxBytes} bytes (-httpIngestMaxBytes)`, { headers: { Connection: 'close' }, cause });
}

function reply(res: ServerResponse, push: PushRequest, renditions: readonly PushRendition[]): void {
  if (!push.wantsMultipart || renditions.length === 0) {
    res.writeHead(200, { 'Content-Length': '0' });
    res.end();
    return;
  }
  const boundary = multipartBoundary();
  const parts = encodeMultipart(boundary, push.seq, renditions);
  res.writeHead(200, { 'Content-Type': `multipart/mixed; boundary=${boundary}`, 'Content-Length': String(parts.length) });
  res.end(parts);
}

function answerFailure(req: IncomingMessage, res: ServerResponse, rawPath: string, err: unknown, log: Logger): void {
  if (err instanceof HttpError) log.info({ status: err.status, url: rawPath, reason: err.message }, 'http push refused');
  else log.error({ err, url: rawPath }, 'http push failed');
  // A body we refused is drained, not kept; after a 413 the connection closes (Connection: close).
  if (!req.complete) req.resume();
  if (err instanceof HttpError) sendText(res, err.status, err.message, err.headers);
  else sendText(res, 500, 'Internal Server Error');
}
