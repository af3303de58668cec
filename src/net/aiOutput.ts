// Output media of an AI job: a data: URL decoded, or a URL on the orchestrator downloaded
// (docs/ai.md: plain GET, certificate not checked, 4 s, 200 only). A URL is fetched only when it is on
// the orchestrator's own origin, so an orchestrator cannot make the gateway fetch from elsewhere
// (another host, or a loopback or private address that the orchestrator itself is not on).
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { readBody } from '../lib/body.ts';
import { GatewayError } from '../lib/errors.ts';

export const OUTPUT_DOWNLOAD_TIMEOUT_MS = 4000;

const httpsAgent = new HttpsAgent({ keepAlive: true, rejectUnauthorized: false, maxSockets: 16 });
const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 16 });

export class AiOutputError extends GatewayError {}

export interface FetchedOutput {
  data: Buffer;
  /** from the data: URL or the response, when given */
  contentType?: string;
  /** the base name of the orchestrator's URL (URLs only) */
  fileName?: string;
}

const DATA_URL = /^data:([a-z0-9.+/-]*)(;[a-z0-9=.+-]+)*?(;base64)?,/i;

/** Decodes a data: URL without letting it cost more than `maxBytes`. */
export function decodeDataUrl(url: string, maxBytes: number): FetchedOutput {
  const m = DATA_URL.exec(url.slice(0, 200));
  if (!m) throw new AiOutputError('malformed data: URL from the orchestrator');
  const payload = url.slice(m[0].length);
  // base64 is 4/3 of the bytes: refuse before decoding
  if (payload.length > Math.ceil(maxBytes / 3) * 4 + 4) throw new AiOutputError(`output larger than ${maxBytes} bytes`);
  let data: Buffer;
  try {
    data = m[3] ? Buffer.from(payload, 'base64') : Buffer.from(decodeURIComponent(payload), 'utf8');
  } catch {
    throw new AiOutputError('malformed data: URL from the orchestrator');
  }
  if (data.length > maxBytes) throw new AiOutputError(`output larger than ${maxBytes} bytes`);
  if (data.length === 0) throw new AiOutputError('empty output from the orchestrator');
  return { data, ...(m[1] ? { contentType: m[1].toLowerCase() } : {}) };
}

/** The URL when it is on one of `origins` (the orchestrator's), else an error that says why not. */
export function checkOutputOrigin(raw: string, origins: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(raw, origins[0]);
  } catch {
    throw new AiOutputError('the orchestrator returned an output URL that does not parse');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AiOutputError(`output URL scheme ${url.protocol} refused`);
  if (url.username || url.password) throw new AiOutputError('output URL with credentials refused');
  const allowed = origins.map((o) => {
    try {
      return new URL(o).origin;
    } catch {
      return '';
    }
  });
  if (!allowed.includes(url.origin))
    throw new AiOutputError(`output URL on ${url.origin} refused: not the orchestrator's origin (${allowed.filter(Boolean).join(', ')})`);
  return url;
}

export interface FetchOutputOptions {
  /** the orchestrator's origins: its transcoder URI and the URI it was found at */
  origins: readonly string[];
  maxBytes: number;
  timeoutMs?: number;
}

/** A data: URL decoded, or an origin-checked URL downloaded within the time and size bounds. */
export async function fetchOutput(raw: string, opts: FetchOutputOptions): Promise<FetchedOutput> {
  if (typeof raw !== 'string' || raw.length === 0) throw new AiOutputError('the orchestrator returned an empty output URL');
  if (/^data:/i.test(raw)) return decodeDataUrl(raw, opts.maxBytes);
  if (raw.length > 2048) throw new AiOutputError('output URL too long');
  const url = checkOutputOrigin(raw, opts.origins);
  const https = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const signal = AbortSignal.timeout(opts.timeoutMs ?? OUTPUT_DOWNLOAD_TIMEOUT_MS);
  const data = await new Promise<{ body: Buffer; type?: string }>((resolve, reject) => {
    const r = (https ? httpsRequest : httpRequest)(
      url,
      { method: 'GET', agent: https ? httpsAgent : httpAgent, signal, ...(https && isIP(host) ? { servername: '' } : {}) },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new AiOutputError(`output download ${url.pathname} answered ${res.statusCode}`));
        }
        readBody(res, opts.maxBytes, { declaredLength: res.headers['content-length'] }).then(
          (body) => resolve({ body, ...(res.headers['content-type'] ? { type: String(res.headers['content-type']) } : {}) }),
          (err: Error) => {
            res.destroy();
            reject(new AiOutputError(`output download ${url.pathname} failed: ${signal.aborted ? 'timed out' : err.message}`));
          },
        );
      },
    );
    r.on('error', (err) => reject(new AiOutputError(`output download ${url.pathname} failed: ${signal.aborted ? 'timed out' : err.message}`)));
    r.end();
  });
  if (data.body.length === 0) throw new AiOutputError('empty output from the orchestrator');
  let base = url.pathname.split('/').pop() ?? '';
  try {
    base = decodeURIComponent(base);
  } catch {
    base = ''; // a name that does not decode is replaced by a fresh one
  }
  return { data: data.body, ...(data.type ? { contentType: data.type } : {}), ...(base ? { fileName: base } : {}) };
}
