// The HTTP side of one push request, `PUT|POST /live/<manifestID>/<seq>.<ts|mp4>`: method, path and
// headers, checked before a byte of the (up to 300 MB) body is read.
import type { IncomingMessage } from 'node:http';
import { errorMessage, HttpError } from '../lib/errors.ts';
import { header } from '../lib/http.ts';
import type { VideoFormat } from '../media/profiles.ts';
import { parseAuthResponse, type AuthWebhookResponse } from './auth.ts';
import { splitStreamPath, urlPath } from './streamPath.ts';

/** Duration assumed when Content-Duration is missing or not a number. */
export const DEFAULT_PUSH_DURATION_MS = 2000;
/** Longest segment an orchestrator takes (go-livepeer's MaxDuration, 5 min). */
export const MAX_PUSH_DURATION_MS = 300_000;

/** The part of a segment to transcode (Content-Slice-From / -To, ms; 0 = open end). */
export interface SegmentClip {
  readonly fromMs: number;
  readonly toMs: number;
}

export interface PushRequest {
  /** The manifest ID in the URL path. */
  readonly urlId: string;
  /** From the file name: a whole number (anything else is refused with 400). */
  readonly seq: number;
  /** e.g. `3.ts` */
  readonly fileName: string;
  readonly format: VideoFormat;
  /** `http://<Host>/live/<mid>/<seq>.<ext>` without query: what the auth webhook gets. */
  readonly url: string;
  readonly durationMs: number;
  /** Content-Resolution, when given. */
  readonly resolution?: { width: number; height: number };
  readonly clip?: SegmentClip;
  /** The parsed Livepeer-Transcode-Configuration header, or null. */
  readonly transcodeConfiguration: AuthWebhookResponse | null;
  readonly wantsMultipart: boolean;
  /** X-Forwarded-For's first address, else the socket's. */
  readonly remoteAddress: string;
}

/** Parses a push request's method, path and headers. Throws HttpError (405, 400). */
export function parsePushRequest(req: IncomingMessage, rawPath: string): PushRequest {
  if (req.method !== 'POST' && req.method !== 'PUT') {
    throw new HttpError(405, `http push request wrong method=${req.method}`, { headers: { Allow: 'POST, PUT' } });
  }
  const transcodeConfiguration = parseTranscodeConfiguration(header(req, 'livepeer-transcode-configuration'));
  const path = urlPath(rawPath);
  const ext = /\.[^./]*$/.exec(path)?.[0] ?? '';
  const format: VideoFormat | undefined = ext === '.ts' ? 'mpegts' : ext === '.mp4' ? 'mp4' : undefined;
  if (!format) throw new HttpError(400, `ignoring file extension: ${ext}`);
  const urlId = splitStreamPath(path).manifestId;
  if (urlId === '') throw new HttpError(400, `Bad URL url=${rawPath}`);
  const clip = parseClip(header(req, 'content-slice-from'), header(req, 'content-slice-to'));

  const fileName = path.slice(path.lastIndexOf('/') + 1);
  const seqText = fileName.slice(0, fileName.length - ext.length);
  // go-livepeer turns a non-numeric name into sequence 0, so two such pushes collide; we refuse it.
  if (!/^\d{1,15}$/.test(seqText))
    throw new HttpError(400, `segment name "${seqText.slice(0, 40)}" is not a sequence number: push /live/<manifestID>/<seq>.ts`);
  const resolution = parseResolution(header(req, 'content-resolution'));
  return {
    urlId,
    seq: Number(seqText),
    fileName,
    format,
    url: `http://${header(req, 'host') ?? 'localhost'}${rawPath}`,
    durationMs: parseDuration(header(req, 'content-duration')),
    ...(resolution ? { resolution } : {}),
    ...(clip ? { clip } : {}),
    transcodeConfiguration,
    wantsMultipart: header(req, 'accept') === 'multipart/mixed',
    remoteAddress: forwardedFor(req) ?? req.socket.remoteAddress ?? '',
  };
}

function parseTranscodeConfiguration(text: string | undefined): AuthWebhookResponse | null {
  if (!text) return null;
  try {
    return parseAuthResponse(text);
  } catch (err) {
    throw new HttpError(400, `failed to parse transcode config header: ${errorMessage(err)}`, { cause: err });
  }
}

/** Content-Slice-From / -To; as go-livepeer, a value that is not a whole number counts as absent. */
function parseClip(fromText: string | undefined, toText: string | undefined): SegmentClip | undefined {
  const fromMs = parseUint(fromText);
  const toMs = parseUint(toText);
  if (fromMs > 0 && toMs > 0 && fromMs > toMs) throw new HttpError(400, `Invalid slice config from=${fromMs}ms to=${toMs}ms`);
  return fromMs > 0 || toMs > 0 ? { fromMs, toMs } : undefined;
}

/** Content-Duration in ms; as go-livepeer, a value that is not a whole number means the default. */
function parseDuration(text: string | undefined): number {
  if (!text || !/^[-+]?\d+$/.test(text.trim())) return DEFAULT_PUSH_DURATION_MS;
  const ms = Number(text.trim());
  // go-livepeer refuses these once it has read the body; here the body is never read.
  if (!(ms >= 0 && ms <= MAX_PUSH_DURATION_MS))
    throw new HttpError(400, `invalid duration ${text.trim()} ms: Content-Duration must be 0…${MAX_PUSH_DURATION_MS}`);
  return ms;
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

function forwardedFor(req: IncomingMessage): string | undefined {
  const v = header(req, 'x-forwarded-for');
  return v ? v.split(',')[0]!.trim() || undefined : undefined;
}
