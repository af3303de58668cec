// Sending one segment to an orchestrator (POST {transcoder}/segment) and fetching its renditions.
// HTTP/2 over TLS that accepts self-signed certificates (h2c for http:// URIs), go-livepeer's
// timeouts, and typed errors a session manager can act on (retry elsewhere or not, payment sent or not).
import { connect, constants as h2, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import {
  decodeMessage,
  encodeMessage,
  type OrchestratorInfo,
  type Payment,
  type SegData,
  type TranscodedSegmentData,
  type TranscodeResult,
} from '../wire/lpRpc.ts';
import { BodyCollector } from '../lib/body.ts';
import { startDeadline } from '../lib/deadline.ts';
import { GatewayError } from '../lib/errors.ts';
import type { LookupAddress } from 'node:dns';
import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import { countListedRenditions } from './renditionCount.ts';
import { checkRenditionSource, pinnedLookup, type RenditionTarget } from './renditionSource.ts';

/** Transcode errors after which the segment is not retried elsewhere: the input itself is bad (docs/wire.md §7.5). */
export const NON_RETRYABLE_TRANSCODE_ERRORS: ReadonlySet<string> = new Set([
  'Unsupported input pixel format',
  'Error initializing filtergraph',
  'Too many outputs',
  'Unsupported input codec',
  'No keyframes in input',
  'Unrecoverable state, restart process',
  'Encoded frames runaway',
  'Decoder not found',
  'Demuxer not found',
  'Encoder not found',
  'Muxer not found',
  'Option not found',
  'Invalid argument',
  'TranscoderInvalidResolution',
  'TranscoderInvalidVideo',
  'TranscoderUnrecognizedFormat',
  'TranscoderUnrecognizedProfile',
  'TranscoderInvalidGOP',
  'TranscoderIncompatibleDevices',
]);

export type SegmentFailure =
  /** no connection could be made (payment not sent) */
  | 'connect'
  /** upload or result took longer than allowed */
  | 'timeout'
  /** orchestrator answered with a non-200 status; `status` and `message` (trimmed body) tell why */
  | 'http-status'
  /** 200 with an empty body */
  | 'unknown-response'
  /** 200 with a body that is not a TranscodeResult */
  | 'malformed-response'
  /** TranscodeResult.error; `retryable` says whether another orchestrator may succeed */
  | 'transcode'
  /** a rendition could not be downloaded */
  | 'download'
  /** a rendition URL points somewhere the gateway does not fetch from (not the orchestrator, not -renditionHosts) */
  | 'rendition-source'
  /** anything else on the wire (reset stream, protocol error) */
  | 'network';

export class SegmentError extends GatewayError {
  constructor(
    readonly failure: SegmentFailure,
    message: string,
    /** Did the payment (request headers) leave this process? The balance code writes off sent credit. */
    readonly sent: boolean,
    readonly retryable: boolean,
    readonly status?: number,
    /** The orchestrator's TranscodeResult.info, when a 200 body carried one. */
    readonly info?: OrchestratorInfo,
  ) {
    super(message, { code: 'SEGMENT_FAILED' });
  }
}

export interface SubmitSegmentRequest {
  /** OrchestratorInfo.transcoder */
  transcoderUri: string;
  segData: SegData;
  /** undefined = off-chain broadcaster: the header is sent empty */
  payment: Payment | undefined;
  body: Buffer | Uint8Array;
  durationMs: number;
  /** Download every rendition (default true). */
  download?: boolean;
  /** Stream TimeoutMultiplier (VOD); values ≤ 1 are ignored. */
  timeoutMultiplier?: number;
  /** Largest rendition accepted, bytes (default 300 MB). */
  maxRenditionBytes?: number;
  /** Renditions the reply must list (the profiles asked for); checked before anything is downloaded. */
  expectedRenditions?: number;
  /** Per-rendition byte caps in profile order (derived from each profile's bitrate); default maxRenditionBytes. */
  renditionByteCaps?: readonly number[];
  /** Hosts besides the orchestrator's own origin that renditions may come from (-renditionHosts). */
  renditionHosts?: readonly string[];
}

export interface Rendition {
  url: string;
  /** output pixels the orchestrator bills for */
  pixels: bigint;
  /** rendition bytes (undefined when download was off) */
  data?: Buffer;
}

export interface SubmitResult {
  seq: bigint;
  /** in profile order */
  renditions: Rendition[];
  /** TranscodeData.sig (empty on off-chain orchestrators) */
  sig: Uint8Array;
  /** Σ pixels */
  pixels: bigint;
  /** the orchestrator's refreshed info (new ticket params): adopt it for the next segment */
  info?: OrchestratorInfo;
  /** request start → response headers (upload accepted) */
  uploadMs: number;
  /** request start → TranscodeResult decoded */
  transcodeMs: number;
  /** time spent downloading renditions */
  downloadMs: number;
  /** request start → everything done; the latency score divides this by max(1.5 s, duration) */
  latencyMs: number;
}

export const MAX_SEGMENT_BYTES = 300_000_000;
export const RENDITION_DOWNLOAD_TIMEOUT_MS = 4000;
const HTTP_DIAL_TIMEOUT_MS = 2000;
const SESSION_IDLE_MS = 60_000;

/** go-livepeer's per-segment budgets: until headers max(2 s, dur/2); whole request max(8 s, 4 × dur). */
export function segmentTimeouts(durationMs: number, multiplier = 1): { uploadMs: number; totalMs: number } {
  const m = Math.max(multiplier, 1);
  return { uploadMs: Math.max(2000, durationMs / 2) * m, totalMs: Math.max(8000, durationMs * 4) * m };
}

// ------------------------------------------------------------------ HTTP/2 sessions

/**
 * Upload bytes one connection carries at once before the next upload opens another connection to the same
 * orchestrator (up to MAX_SESSIONS_PER_ORIGIN). go-livepeer's Go HTTP/2 server grants each connection a
 * 1 MiB flow-control window: the uploads on one connection share it, so a connection moves at most 1 MiB
 * per round trip of its window updates (both event loops' delays included), and one upload the server is
 * slow to read holds the window for all the others: more than that on one connection only waits there.
 */
export const CONNECTION_UPLOAD_BYTES = 1 << 20;
/**
 * Upload bytes queued on one connection that its memory limit (below) allows for; more queue there only when
 * every connection to the orchestrator already carries its share. Node counts data queued to send against a
 * session's memory limit, and a session over its limit resets every stream whose response headers arrive
 * (ENHANCE_YOUR_CALM): twenty 750 KB segments queued on one connection were enough.
 */
const SESSION_UPLOAD_BUDGET = 16 * 1024 * 1024;
/** Connections to one orchestrator at most; past that, uploads share the least loaded one. */
export const MAX_SESSIONS_PER_ORIGIN = 8;
/**
 * Node's session memory limit, MB. What we queue is bounded by the budget above plus one segment of at most
 * MAX_SEGMENT_BYTES (bytes we hold anyway); what the peer can make us hold (header tables, pings, settings)
 * stays far below it. Node's default (10 MB) is smaller than two budgets' worth of segments.
 */
const SESSION_MEMORY_MB = Math.ceil((SESSION_UPLOAD_BUDGET + 300_000_000) / 1_000_000);
/**
 * Receive windows: HTTP/2's default 64 KiB per stream and per connection makes a rendition download wait a
 * round trip every 64 KiB. The bytes are read at once into a buffer bounded by the rendition's byte cap, so
 * a larger window costs no memory we would not spend anyway.
 */
const STREAM_WINDOW_BYTES = 1 << 20;
const SESSION_WINDOW_BYTES = 8 << 20;

interface PooledSession {
  session: Promise<ClientHttp2Session>;
  /** upload bytes of the requests open on it */
  inFlight: number;
  /** requests open on it: while there are any, the connection keeps the process alive */
  requests: number;
}

/** A connection lent to one request. */
interface SessionLease {
  session: Promise<ClientHttp2Session>;
  /** the upload is over: its bytes no longer count against the connection's budget */
  release(): void;
  /** the request is open on this connection (it keeps the process alive until `end`) */
  hold(session: ClientHttp2Session): void;
  /** the request is over; an idle connection no longer keeps the process alive */
  end(): void;
}

const sessions = new Map<string, PooledSession[]>();

/** Connections currently pooled to an origin (for tests). */
export function pooledSessionCount(origin: string): number {
  return sessions.get(origin)?.length ?? 0;
}

/**
 * A connection for a request that uploads `bytes`: the least loaded one to this origin, or a new one when
 * every connection already carries its budget. `release` must be called once the request is over.
 * `pinned`: connect to this checked address rather than resolving the name again (rendition hosts).
 */
function acquireSession(origin: string, bytes: number, pinned?: LookupAddress): SessionLease {
  const key = pinned ? `${origin}@${pinned.address}` : origin;
  const pool = sessions.get(key) ?? [];
  let entry = pool.reduce<PooledSession | undefined>((best, e) => (best && best.inFlight <= e.inFlight ? best : e), undefined);
  if (!entry || (entry.inFlight > 0 && entry.inFlight + bytes > CONNECTION_UPLOAD_BYTES && pool.length < MAX_SESSIONS_PER_ORIGIN)) {
    entry = { session: openSession(key, origin, pinned), inFlight: 0, requests: 0 };
    pool.push(entry);
    sessions.set(key, pool);
  }
  const chosen = entry;
  chosen.inFlight += bytes;
  let released = false;
  let held: ClientHttp2Session | undefined;
  const lease: SessionLease = {
    session: chosen.session,
    release: () => {
      if (released) return;
      released = true;
      chosen.inFlight -= bytes;
    },
    hold: (session) => {
      if (held) return;
      held = session;
      chosen.requests += 1;
      session.ref();
    },
    end: () => {
      lease.release();
      if (!held) return;
      const session = held;
      held = undefined;
      chosen.requests -= 1;
      // Idle again: an idle connection never keeps the process alive (it is closed after SESSION_IDLE_MS).
      if (chosen.requests === 0 && !session.destroyed) session.unref();
    },
  };
  return lease;
}

function forget(key: string, p: Promise<ClientHttp2Session>): void {
  const pool = sessions.get(key);
  if (!pool) return;
  const left = pool.filter((e) => e.session !== p);
  if (left.length > 0) sessions.set(key, left);
  else sessions.delete(key);
}

function openSession(key: string, origin: string, pinned?: LookupAddress): Promise<ClientHttp2Session> {
  const p: Promise<ClientHttp2Session> = new Promise<ClientHttp2Session>((resolve, reject) => {
    const session = connect(origin, {
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
      maxSessionMemory: SESSION_MEMORY_MB,
      settings: { initialWindowSize: STREAM_WINDOW_BYTES },
      ...(pinned ? { lookup: pinnedLookup(pinned) as never } : {}),
    });
    const drop = (): void => forget(key, p);
    const timer = setTimeout(() => {
      drop();
      session.destroy();
      reject(new Error(`no connection within ${HTTP_DIAL_TIMEOUT_MS} ms`));
    }, HTTP_DIAL_TIMEOUT_MS);
    session.once('connect', () => {
      clearTimeout(timer);
      session.setLocalWindowSize(SESSION_WINDOW_BYTES);
      // Idle until a request holds it: an idle connection never keeps the process alive, a busy one does.
      session.unref();
      resolve(session);
    });
    session.on('error', (err) => {
      clearTimeout(timer);
      drop();
      reject(err);
    });
    session.once('close', drop);
    session.once('goaway', drop);
    // Out of the pool first: a connection that is closing takes no new request.
    session.setTimeout(SESSION_IDLE_MS, () => {
      drop();
      session.close();
    });
  });
  p.catch(() => {});
  return p;
}

/** How long closing connections on shutdown waits for the requests still open on them. */
export const CLOSE_GRACE_MS = 2000;

/**
 * Closes every pooled orchestrator connection (on shutdown). Requests still open get `graceMs` to finish
 * (0: cut off at once; they fail as network errors); then the connection is destroyed. Resolves once
 * every connection is gone, and keeps the process alive until then.
 */
export async function closeSegmentConnections(opts: { graceMs?: number } = {}): Promise<void> {
  const graceMs = opts.graceMs ?? CLOSE_GRACE_MS;
  const all = [...sessions.values()].flat().map((e) => e.session);
  sessions.clear();
  await Promise.all(
    all.map(async (p) => {
      let s: ClientHttp2Session;
      try {
        s = await p;
      } catch {
        return; // never connected
      }
      await closeSession(s, graceMs);
    }),
  );
}

function closeSession(s: ClientHttp2Session, graceMs: number): Promise<void> {
  if (s.destroyed) return Promise.resolve();
  // A closing connection still has frames to write (GOAWAY, the last streams' ends): unreferenced, the
  // process could end with them unwritten, and with this promise never settled.
  s.ref();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      s.destroy();
      done();
    }, graceMs);
    // close(callback) never calls back on a connection already closing (its idle timeout), so listen here
    s.once('close', done);
    if (graceMs <= 0) s.destroy();
    else if (!s.closed) s.close();
  });
}

interface H2Response {
  status: number;
  body: Buffer;
  headersAt: number;
}

/**
 * The event loop's busy share over an upload from which its lateness is ours: the uploads of a process
 * that had no time to send them are not their orchestrator's fault.
 */
const OWN_LATENESS_BUSY = 0.9;
/** After its last byte left us late, the orchestrator still gets this long to answer. */
const PEER_ANSWER_GRACE_MS = 500;
/** How often an upload late by our own doing is looked at again (the whole-request budget still bounds it). */
const OWN_LATENESS_RECHECK_MS = 250;

/**
 * Whether an upload whose headers deadline passed is late because of this process, not its orchestrator:
 * our event loop was busy nearly all the time since the request began, and bytes of the body were still
 * ours to send (or left us too late for the orchestrator to answer within its grace). An orchestrator
 * that reads slowly or not at all still fails at its deadline whenever this process had time to spare;
 * while it had none, the whole-request budget bounds the wait. A saturated gateway that failed such uploads and
 * retried them elsewhere doubled its own load: at 104 paid streams on one core, 1,040 segments went to a
 * second orchestrator after "no response headers" in one minute, and 56 streams stopped paying.
 */
function uploadLateByUs(stream: ClientHttp2Stream, bodySentAt: number | undefined, loopAtStart: EventLoopUtilization): boolean {
  if (performance.eventLoopUtilization(loopAtStart).utilization < OWN_LATENESS_BUSY) return false;
  if (bodySentAt === undefined) return stream.writableLength > 0;
  return Date.now() - bodySentAt < PEER_ANSWER_GRACE_MS;
}

/**
 * One HTTP/2 exchange with two budgets: until response headers, and for the whole exchange.
 * `onSent` fires once the request stream is open on a live connection.
 */
function h2Exchange(
  url: URL,
  init: {
    method: string;
    headers: Record<string, string>;
    body?: Uint8Array;
    headersTimeoutMs: number;
    totalTimeoutMs: number;
    maxBytes: number;
    pinned?: LookupAddress;
  },
  onSent: () => void,
): Promise<H2Response> {
  const started = Date.now();
  return new Promise<H2Response>((resolve, reject) => {
    let stream: ClientHttp2Stream | undefined;
    let done = false;
    const finish = (err: Error | undefined, value?: H2Response): void => {
      if (done) return;
      done = true;
      lease.end();
      headersDeadline.clear();
      totalDeadline.clear();
      if (err) {
        stream?.close(h2.NGHTTP2_CANCEL);
        reject(err);
      } else resolve(value!);
    };
    const timedOut = (message: string): void => finish(Object.assign(new Error(message), { code: 'TIMEOUT' }));
    // deadlines that do not expire on an answer that came in time but is not read yet (a late event loop),
    // nor, for the headers, on an upload this process had no time to send
    const loopAtStart = performance.eventLoopUtilization();
    let bodySentAt: number | undefined;
    const size = init.body?.length ?? 0;
    const headersDeadline = startDeadline(
      init.headersTimeoutMs,
      () => {
        const unsent = stream ? Math.min(size, stream.writableLength) : size;
        timedOut(`no response headers after ${init.headersTimeoutMs} ms${size > 0 ? ` (${size - unsent} of ${size} upload bytes sent)` : ''}`);
      },
      { lateByUs: () => stream !== undefined && uploadLateByUs(stream, bodySentAt, loopAtStart), recheckMs: OWN_LATENESS_RECHECK_MS },
    );
    const totalDeadline = startDeadline(init.totalTimeoutMs, () => timedOut(`request not complete after ${init.totalTimeoutMs} ms`));

    const lease = acquireSession(url.origin, init.body?.length ?? 0, init.pinned);
    lease.session.then(
      (session) => {
        if (done) return;
        try {
          stream = session.request({ ':method': init.method, ':path': `${url.pathname}${url.search}`, ...init.headers });
        } catch (err) {
          return finish(err as Error);
        }
        lease.hold(session);
        onSent();
        stream.on('error', (err) => finish(err));
        stream.once('finish', () => {
          bodySentAt = Date.now();
        });
        let status = 0;
        let headersAt = 0;
        // 'response' comes a tick after the HEADERS frame is read, so data read with it comes first
        const body = new BodyCollector(init.maxBytes);
        const tooLarge = () => finish(Object.assign(new Error(`response larger than ${init.maxBytes} bytes`), { code: 'TOO_LARGE' }));
        stream.on('response', (headers) => {
          status = Number(headers[':status'] ?? 0);
          headersAt = Date.now() - started;
          headersDeadline.clear();
          lease.release(); // the orchestrator answers once it has read the upload
          try {
            body.expect(headers['content-length']);
          } catch {
            tooLarge();
          }
        });
        stream.on('data', (c: Buffer) => {
          if (done) return;
          try {
            body.add(c);
          } catch {
            tooLarge();
          }
        });
        stream.on('end', () => {
          // a stream that ends without response headers was cut (our shutdown, a reset), not answered
          if (status === 0) return finish(Object.assign(new Error(`stream ended without a response (code ${stream?.rstCode ?? '?'})`), { code: 'CLOSED' }));
          finish(undefined, { status, body: body.take(), headersAt });
        });
        stream.on('close', () => {
          if (!done) finish(Object.assign(new Error(`stream closed (code ${stream?.rstCode ?? '?'})`), { code: 'CLOSED' }));
        });
        stream.end(init.body);
      },
      (err: Error) => finish(Object.assign(err, { code: (err as { code?: string }).code ?? 'CONNECT', connectFailed: true })),
    );
  });
}

// ------------------------------------------------------------------ submit

const trim = (b: Buffer): string => b.toString('utf8').trim();

/**
 * POSTs a segment with its credentials and payment, decodes the TranscodeResult and (by default)
 * downloads every rendition. Never throws anything but SegmentError.
 */
export async function submitSegment(req: SubmitSegmentRequest): Promise<SubmitResult> {
  const started = Date.now();
  let sent = false;
  let url: URL;
  try {
    url = new URL(`${req.transcoderUri}/segment`);
  } catch {
    throw new SegmentError('connect', `invalid transcoder URI "${req.transcoderUri}"`, false, true);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SegmentError('connect', `unsupported transcoder URI scheme "${url.protocol}"`, false, true);
  }
  let segHeader: string;
  let payHeader: string;
  try {
    segHeader = Buffer.from(encodeMessage('SegData', req.segData)).toString('base64');
    payHeader = req.payment ? Buffer.from(encodeMessage('Payment', req.payment)).toString('base64') : '';
  } catch (err) {
    throw new SegmentError('network', `could not encode the segment headers: ${(err as Error).message}`, false, false);
  }
  const { uploadMs, totalMs } = segmentTimeouts(req.durationMs, req.timeoutMultiplier);

  let res: H2Response;
  try {
    res = await h2Exchange(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'video/MP2T',
          'livepeer-segment': segHeader,
          'livepeer-payment': payHeader,
          'content-length': String(req.body.length),
        },
        body: req.body,
        headersTimeoutMs: uploadMs,
        totalTimeoutMs: totalMs,
        maxBytes: 16 * 1024 * 1024,
      },
      () => (sent = true),
    );
  } catch (err) {
    const e = err as Error & { code?: string; connectFailed?: boolean };
    if (e.connectFailed) throw new SegmentError('connect', `could not connect to ${url.origin}: ${e.message}`, false, true);
    if (e.code === 'TIMEOUT') throw new SegmentError('timeout', `segment to ${url.origin}: ${e.message}`, sent, true);
    throw new SegmentError('network', `segment to ${url.origin}: ${e.message}`, sent, true);
  }

  if (res.status !== 200) {
    const text = trim(res.body) || `HTTP ${res.status}`;
    throw new SegmentError('http-status', text, sent, true, res.status);
  }
  const { tr, segments } = readTranscodeReply(res.body, req.expectedRenditions);
  const transcodeMs = Date.now() - started;
  const renditions: Rendition[] = segments.map((s) => ({ url: s.url ?? '', pixels: s.pixels ?? 0n }));
  const pixels = renditions.reduce((n, r) => n + r.pixels, 0n);
  const dlStart = Date.now();
  if (req.download !== false) {
    let targets: RenditionTarget[];
    try {
      targets = await Promise.all(renditions.map((r) => checkRenditionSource(r.url, req.transcoderUri, req.renditionHosts)));
    } catch (err) {
      throw new SegmentError('rendition-source', (err as Error).message, true, true, 200, tr.info);
    }
    try {
      const datas = await Promise.all(
        targets.map((t, i) =>
          downloadRendition(t.url.href, {
            maxBytes: req.renditionByteCaps?.[i] ?? req.maxRenditionBytes,
            ...(t.pinned ? { pinned: t.pinned } : {}),
          }),
        ),
      );
      datas.forEach((d, i) => {
        renditions[i]!.data = d;
      });
    } catch (err) {
      throw new SegmentError('download', (err as Error).message, true, true, 200, tr.info);
    }
  }
  const now = Date.now();
  const result: SubmitResult = {
    seq: tr.seq ?? 0n,
    renditions,
    sig: tr.data.sig ?? new Uint8Array(0),
    pixels,
    uploadMs: res.headersAt,
    transcodeMs,
    downloadMs: now - dlStart,
    latencyMs: now - started,
  };
  if (tr.info) result.info = tr.info;
  return result;
}

/**
 * Judges a 200 reply's body before anything is downloaded: a TranscodeResult with data, listing exactly
 * the renditions asked for. Throws SegmentError only; the fuzz test (test/hostile/fuzz.test.ts) holds it to that.
 */
export function readTranscodeReply(
  body: Uint8Array,
  expectedRenditions: number | undefined,
): { tr: TranscodeResult & { data: NonNullable<TranscodeResult['data']> }; segments: TranscodedSegmentData[] } {
  if (body.length === 0) throw new SegmentError('unknown-response', 'UnknownResponse', true, true, 200);
  // Counted on the framing first: a reply listing far too many renditions is refused before it is decoded.
  const listed = expectedRenditions !== undefined ? countListedRenditions(body) : undefined;
  if (listed !== undefined && listed > expectedRenditions!) {
    throw new SegmentError('malformed-response', `orchestrator returned ${listed} renditions for ${expectedRenditions} profiles`, true, true, 200);
  }
  let tr: TranscodeResult;
  try {
    tr = decodeMessage('TranscodeResult', body);
  } catch (err) {
    throw new SegmentError('malformed-response', (err as Error).message, true, true, 200);
  }
  if (tr.error !== undefined && tr.result !== 'data') {
    throw new SegmentError('transcode', tr.error, true, !NON_RETRYABLE_TRANSCODE_ERRORS.has(tr.error), 200, tr.info);
  }
  if (!tr.data) throw new SegmentError('unknown-response', 'UnknownResponse', true, true, 200, tr.info);

  const segments = tr.data.segments ?? [];
  // A reply may list any number of URLs: count them against the profiles before fetching one.
  if (expectedRenditions !== undefined && segments.length !== expectedRenditions) {
    throw new SegmentError(
      'malformed-response',
      `orchestrator returned ${segments.length} renditions for ${expectedRenditions} profiles`,
      true,
      true,
      200,
      tr.info,
    );
  }
  return { tr: tr as TranscodeResult & { data: NonNullable<TranscodeResult['data']> }, segments };
}

// ------------------------------------------------------------------ renditions

export class RenditionDownloadError extends GatewayError {
  constructor(
    readonly url: string,
    message: string,
    readonly status?: number,
  ) {
    super(`rendition ${url}: ${message}`, { code: 'RENDITION_DOWNLOAD_FAILED' });
  }
}

export interface DownloadOptions {
  timeoutMs?: number;
  maxBytes?: number;
  /** connect to this checked address instead of resolving the host name again */
  pinned?: LookupAddress;
}

// Servers that do not speak HTTP/2 (object stores behind plain HTTPS) get an HTTP/1.1 request instead.
// Bounded: orchestrators choose the origins, so the memo starts over rather than grow without end.
const http1Origins = new Set<string>();
export const MAX_HTTP1_ORIGINS = 512;

function rememberHttp1(origin: string): void {
  if (http1Origins.size >= MAX_HTTP1_ORIGINS) http1Origins.clear();
  http1Origins.add(origin);
}

/** Origins remembered as HTTP/1.1-only (for tests of the bound). */
export function http1OriginCount(): number {
  return http1Origins.size;
}

function http1Get(url: URL, timeoutMs: number, maxBytes: number, pinned?: LookupAddress): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err: Error | undefined, value?: { status: number; body: Buffer }): void => {
      if (settled) return;
      settled = true;
      deadline.clear();
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(value!);
    };
    const fn = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = fn(url, { method: 'GET', rejectUnauthorized: false, ...(pinned ? { lookup: pinnedLookup(pinned) as never } : {}) }, (res: IncomingMessage) => {
      let body: BodyCollector;
      try {
        body = new BodyCollector(maxBytes, res.headers['content-length']);
      } catch {
        return settle(new Error(`larger than ${maxBytes} bytes`));
      }
      res.on('data', (c: Buffer) => {
        if (settled) return;
        try {
          body.add(c);
        } catch {
          settle(new Error(`larger than ${maxBytes} bytes`));
        }
      });
      res.on('end', () => settle(undefined, { status: res.statusCode ?? 0, body: body.take() }));
      res.on('error', (err) => settle(err));
      res.on('aborted', () => settle(new Error('response aborted')));
    });
    const deadline = startDeadline(timeoutMs, () => settle(new Error(`no complete response within ${timeoutMs} ms`)));
    req.on('error', (err) => settle(err));
    req.end();
  });
}

/** GETs one rendition: 4 s budget, 200 required, size capped (default 300 MB). */
export async function downloadRendition(url: string, opts: DownloadOptions = {}): Promise<Buffer> {
  const timeoutMs = opts.timeoutMs ?? RENDITION_DOWNLOAD_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? MAX_SEGMENT_BYTES;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RenditionDownloadError(url, 'invalid URL');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new RenditionDownloadError(url, `unsupported scheme ${u.protocol}`);
  const started = Date.now();
  let res: { status: number; body: Buffer } | undefined;
  if (!http1Origins.has(u.origin)) {
    try {
      res = await h2Exchange(
        u,
        { method: 'GET', headers: {}, headersTimeoutMs: timeoutMs, totalTimeoutMs: timeoutMs, maxBytes, ...(opts.pinned ? { pinned: opts.pinned } : {}) },
        () => {},
      );
    } catch (err) {
      const e = err as Error & { code?: string; connectFailed?: boolean };
      const unreachable = e.connectFailed && !String(e.code ?? '').startsWith('ERR_HTTP2');
      if (e.code === 'TIMEOUT' || e.code === 'TOO_LARGE' || unreachable) throw new RenditionDownloadError(url, e.message);
      // The server is there but speaks no HTTP/2 (object stores often speak HTTP/1.1 only): remember and retry below.
      rememberHttp1(u.origin);
    }
  }
  if (!res) {
    try {
      res = await http1Get(u, Math.max(1, timeoutMs - (Date.now() - started)), maxBytes, opts.pinned);
    } catch (err) {
      throw new RenditionDownloadError(url, (err as Error).message);
    }
  }
  if (res.status !== 200) throw new RenditionDownloadError(url, `status ${res.status}: ${trim(res.body).slice(0, 200)}`, res.status);
  return res.body;
}
