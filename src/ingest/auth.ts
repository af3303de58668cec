// The stream auth webhook (-authWebhookUrl) and the stream parameters it
// decides: manifest ID, stream key and transcoding profiles. Used for RTMP
// publishes and HTTP push (where the Livepeer-Transcode-Configuration header
// carries the same JSON).
import { boundedFetch, WebhookAnswerError } from '../lib/boundedFetch.ts';
import { GatewayError } from '../lib/errors.ts';
import { ProfileError, parsePresets, parseProfileObjects, type VideoFormat, type VideoProfile, withFormat } from '../media/profiles.ts';
import { cleanStreamPrefix, randomManifestId, randomStreamKey, splitStreamPath, trimExtension, urlPath } from './streamPath.ts';

/**
 * go-livepeer waits for the webhook forever; we give up after this long and
 * refuse the stream, so a hung auth service cannot pile up half-open publishes.
 */
export const AUTH_WEBHOOK_TIMEOUT_MS = 10_000;
/** Largest auth webhook answer read (a JSON object with a few profiles is a few KiB). */
export const AUTH_WEBHOOK_MAX_BYTES = 64 * 1024;

/** The webhook's JSON answer (and the Livepeer-Transcode-Configuration header), field names as on the wire. */
export interface AuthWebhookResponse {
  manifestID: string;
  streamKey: string;
  streamID: string;
  sessionID: string;
  /** Preset names; unknown ones are ignored. */
  presets: string[];
  /** Profile objects as in -transcodingOptions files; `null` when absent (an empty list means "source only"). */
  profiles: unknown[] | null;
  objectStore: string;
  recordObjectStore: string;
  recordObjectStoreUrl: string;
  previousSessions: string[];
  verificationFreq: number;
  /** HTTP push (VOD): stretches the segment budgets when > 1. */
  timeoutMultiplier: number;
  /**
   * Per segment, from the Livepeer-Transcode-Configuration header of each push. As in go-livepeer, the auth
   * webhook's value is not used: a stream-wide answer would re-initialise the session at every segment.
   */
  forceSessionReinit: boolean;
}

/** An auth webhook answer or transcode configuration header that cannot be used as it is. */
export class AuthResponseError extends GatewayError {}

function str(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new AuthResponseError(`"${k}" must be a string`);
  return v;
}

function strList(o: Record<string, unknown>, k: string): string[] {
  const v = o[k];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new AuthResponseError(`"${k}" must be an array of strings`);
  return v as string[];
}

function int(o: Record<string, unknown>, k: string, unsigned: boolean): number {
  const v = o[k];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || (unsigned && v < 0)) {
    throw new AuthResponseError(`"${k}" must be ${unsigned ? 'a non-negative' : 'an'} integer`);
  }
  return v;
}

/**
 * Decode the JSON text of a webhook answer or a Livepeer-Transcode-Configuration
 * header. Throws AuthResponseError on malformed JSON or wrongly typed fields.
 * Profile objects are only checked to be an array here; resolveStreamProfiles parses them.
 */
export function parseAuthResponse(text: string): AuthWebhookResponse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AuthResponseError(`not valid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new AuthResponseError('expected a JSON object');
  const o = json as Record<string, unknown>;
  const profiles = o.profiles;
  if (profiles !== undefined && profiles !== null && !Array.isArray(profiles)) {
    throw new AuthResponseError('"profiles" must be an array of profile objects');
  }
  const fsr = o.forceSessionReinit;
  if (fsr !== undefined && fsr !== null && typeof fsr !== 'boolean') throw new AuthResponseError('"forceSessionReinit" must be a boolean');
  return {
    manifestID: str(o, 'manifestID'),
    streamKey: str(o, 'streamKey'),
    streamID: str(o, 'streamID'),
    sessionID: str(o, 'sessionID'),
    presets: strList(o, 'presets'),
    profiles: Array.isArray(profiles) ? profiles : null,
    objectStore: str(o, 'objectStore'),
    recordObjectStore: str(o, 'recordObjectStore'),
    recordObjectStoreUrl: str(o, 'recordObjectStoreUrl'),
    previousSessions: strList(o, 'previousSessions'),
    verificationFreq: int(o, 'verificationFreq', true),
    timeoutMultiplier: int(o, 'timeoutMultiplier', false),
    forceSessionReinit: fsr === true,
  };
}

export type AuthWebhookResult =
  /** `response` is null when the webhook answered 200 with an empty body: take the IDs from the URL. */
  { accepted: true; response: AuthWebhookResponse | null; tookMs: number } | { accepted: false; reason: string; tookMs: number };

export interface AuthWebhookOptions {
  timeoutMs?: number;
  /** Replaceable for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

/**
 * POST `{"url": incomingUrl}` to the webhook. 200 + empty body accepts with the
 * URL's IDs; 200 + JSON accepts when `manifestID` is not empty; any other
 * status, a network error, a timeout or bad JSON refuses.
 */
export async function callAuthWebhook(webhookUrl: string, incomingUrl: string, opts: AuthWebhookOptions = {}): Promise<AuthWebhookResult> {
  const started = performance.now();
  const took = () => Math.round(performance.now() - started);
  const timeoutMs = opts.timeoutMs ?? AUTH_WEBHOOK_TIMEOUT_MS;
  let status: number;
  let body: string;
  try {
    // The answer is capped and a redirect is followed only on the webhook's own host.
    const res = await boundedFetch(
      webhookUrl,
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ url: incomingUrl }) },
      { maxBytes: AUTH_WEBHOOK_MAX_BYTES, timeoutMs, ...(opts.fetch ? { fetch: opts.fetch } : {}) },
    );
    status = res.status;
    body = res.body.toString('utf8');
  } catch (err) {
    const e = err as Error;
    if (e instanceof WebhookAnswerError) return { accepted: false, reason: `auth webhook answer refused: ${e.message}`, tookMs: took() };
    const why = e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${timeoutMs} ms` : describeFetchError(e);
    return { accepted: false, reason: `auth webhook unreachable: ${why}`, tookMs: took() };
  }
  if (status !== 200) {
    return { accepted: false, reason: `auth webhook answered status=${status} ${truncate(body.trim(), 200)}`.trim(), tookMs: took() };
  }
  if (body.length === 0) return { accepted: true, response: null, tookMs: took() };
  let response: AuthWebhookResponse;
  try {
    response = parseAuthResponse(body);
  } catch (err) {
    return { accepted: false, reason: `auth webhook answer is not usable: ${(err as Error).message}`, tookMs: took() };
  }
  if (response.manifestID === '') {
    return { accepted: false, reason: 'auth webhook answer has an empty manifestID', tookMs: took() };
  }
  return { accepted: true, response, tookMs: took() };
}

function describeFetchError(e: Error): string {
  const cause = (e as { cause?: unknown }).cause;
  if (cause instanceof Error) return cause.message;
  return e.message;
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/**
 * Profiles a stream is transcoded to, from a webhook/header answer:
 * presets then custom profiles; neither given ⇒ the node's defaults; an
 * explicit empty `profiles` list ⇒ none (source only). Throws ProfileError.
 */
export function resolveStreamProfiles(response: AuthWebhookResponse | null, defaults: readonly VideoProfile[], format: VideoFormat = 'mpegts'): VideoProfile[] {
  let profiles: VideoProfile[];
  if (!response || (response.profiles === null && response.presets.length === 0)) {
    profiles = [...defaults];
  } else {
    profiles = [...parsePresets(response.presets), ...parseProfileObjects(response.profiles ?? [])];
  }
  return withFormat(profiles, format);
}

/** Whether two answers ask for the same custom profiles (compared as JSON, as go-livepeer does). */
export function sameProfiles(a: AuthWebhookResponse, b: AuthWebhookResponse): boolean {
  const pa = a.profiles ?? [];
  const pb = b.profiles ?? [];
  if (pa.length !== pb.length) return false;
  return pa.length === 0 || JSON.stringify(pa) === JSON.stringify(pb);
}

export interface StreamAuthRequest {
  /** -authWebhookUrl, or undefined when none is configured. */
  webhookUrl?: string;
  /**
   * URL sent to the webhook and used for the IDs: the RTMP publish URL with its
   * query, or `http://<Host>/live/<mid>/<seq>.<ext>` for HTTP push.
   */
  incomingUrl: string;
  /** Parsed Livepeer-Transcode-Configuration header (HTTP push); it overrides the webhook's answer. */
  transcodeConfiguration?: AuthWebhookResponse | null;
  /** -transcodingOptions profiles. */
  defaultProfiles: readonly VideoProfile[];
  /** Container of the input: 'mp4' for `.mp4` pushes. */
  format?: VideoFormat;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface StreamAuthAccepted {
  accepted: true;
  manifestId: string;
  streamKey: string;
  profiles: VideoProfile[];
  /** External IDs for logs and events, empty when not given. */
  externalStreamId: string;
  sessionId: string;
  verificationFreq: number;
  timeoutMultiplier: number;
  /** The answer that decided (header overrides webhook), or null. */
  response: AuthWebhookResponse | null;
}

export interface StreamAuthRefused {
  accepted: false;
  /** 403: the webhook refused. 500: the answer could not be used (bad profiles, conflicting header). */
  status: 403 | 500;
  reason: string;
}

/**
 * Everything go-livepeer decides when a new stream arrives, before its own
 * session policies: call the webhook, reconcile it with the push header, and
 * derive manifest ID, stream key and profiles. The caller adds -maxSessions
 * and duplicate-stream checks.
 */
export async function authorizeStream(req: StreamAuthRequest): Promise<StreamAuthAccepted | StreamAuthRefused> {
  let response: AuthWebhookResponse | null = null;
  if (req.webhookUrl) {
    const r = await callAuthWebhook(req.webhookUrl, req.incomingUrl, { timeoutMs: req.timeoutMs, fetch: req.fetch });
    if (!r.accepted) return { accepted: false, status: 403, reason: r.reason };
    response = r.response;
  }
  const header = req.transcodeConfiguration ?? null;
  if (response && header && !sameProfiles(response, header)) {
    return {
      accepted: false,
      status: 500,
      reason: 'the Livepeer-Transcode-Configuration header asks for other profiles than the auth webhook answer',
    };
  }
  if (header) response = header;

  let profiles: VideoProfile[];
  try {
    profiles = resolveStreamProfiles(response, req.defaultProfiles, req.format);
  } catch (err) {
    if (err instanceof ProfileError) return { accepted: false, status: 500, reason: `bad profiles for the stream: ${err.message}` };
    throw err;
  }

  let manifestId = '';
  let streamKey = '';
  if (response) {
    // The answer's manifestID goes through go-livepeer's path clean-up too.
    manifestId = cleanStreamPrefix(trimExtension(response.manifestID)).split('/', 1)[0]!;
    streamKey = response.streamKey;
  }
  if (manifestId === '') {
    const fromUrl = splitStreamPath(urlPath(req.incomingUrl));
    manifestId = fromUrl.manifestId;
    streamKey = fromUrl.streamKey;
  }
  if (manifestId === '') manifestId = randomManifestId();
  if (streamKey === '') streamKey = randomStreamKey();

  return {
    accepted: true,
    manifestId,
    streamKey,
    profiles,
    externalStreamId: response?.streamID ?? '',
    sessionId: response?.sessionID ?? '',
    verificationFreq: response?.verificationFreq ?? 0,
    timeoutMultiplier: response?.timeoutMultiplier ?? 0,
    response,
  };
}
