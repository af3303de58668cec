// An AI job on an orchestrator: POST {transcoder}{route} with the Livepeer-Segment and
// Livepeer-Payment headers, and the answer read with bounds (docs/ai.md, the orchestrator call).
// Like go-livepeer: TLS without certificate checks (orchestrators use self-signed certificates), a 2 s
// connect budget. Unlike it, every job also has an overall deadline and a size cap on the answer.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { readBody } from '../lib/body.ts';
import { GatewayError } from '../lib/errors.ts';

export const AI_CONNECT_TIMEOUT_MS = 2000;
/** The orchestrator's own text in an error answer is kept up to this size. */
const ERROR_TEXT_LIMIT = 4096;
/** What go-livepeer sends so an orchestrator answers with URLs rather than data: URLs. */
export const AI_WORKER_AUTHORIZATION = 'Livepeer-AI-Worker-1.0';

const httpsAgent = new HttpsAgent({ keepAlive: true, rejectUnauthorized: false, maxSockets: 32 });
const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 32 });

export type AiJobFailure = 'connect' | 'timeout' | 'status' | 'too-large' | 'transport' | 'bad-uri';

export class AiJobError extends GatewayError {
  constructor(
    message: string,
    readonly failure: AiJobFailure,
    /** the orchestrator's status, when it answered */
    readonly status?: number,
    /** the orchestrator's text (bounded), when it answered with an error */
    readonly orchestratorText = '',
    /** true once the request left this process (its payment may have been credited) */
    readonly sent = true,
  ) {
    super(message, { code: `AI_JOB_${failure.toUpperCase().replace('-', '_')}` });
  }
}

export interface AiJobRequest {
  /** OrchestratorInfo.transcoder */
  transcoder: string;
  /** the public route, e.g. /text-to-image */
  path: string;
  contentType: string;
  body: Buffer;
  /** base64 SegData */
  segmentHeader: string;
  /** base64 Payment; "" off-chain */
  paymentHeader: string;
  /** the largest answer accepted */
  maxResponseBytes: number;
  /** overall deadline of the job, connect included */
  timeoutMs: number;
}

export interface AiJobAnswer {
  contentType: string;
  /** the 200 answer, whole */
  body: Buffer;
}

export interface AiJobStream {
  contentType: string;
  /** the 200 answer as it arrives; the caller bounds what it reads and calls close() */
  response: IncomingMessage;
  close(): void;
}

function target(transcoder: string, path: string): URL {
  let url: URL;
  try {
    url = new URL(path, `${transcoder.replace(/\/+$/, '')}/`);
  } catch {
    throw new AiJobError(`invalid transcoder URI "${transcoder.slice(0, 100)}"`, 'bad-uri', undefined, '', false);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AiJobError('transcoder URI must be http(s)', 'bad-uri', undefined, '', false);
  url.pathname = path;
  return url;
}

/** Sends the job and resolves with the 200 response's head; any other status is an AiJobError with the orchestrator's text. */
function send(req: AiJobRequest, signal: AbortSignal): Promise<IncomingMessage> {
  const url = target(req.transcoder, req.path);
  const https = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    let connected = false;
    const r = (https ? httpsRequest : httpRequest)(
      url,
      {
        method: 'POST',
        agent: https ? httpsAgent : httpAgent,
        ...(https && isIP(host) ? { servername: '' } : {}),
        headers: {
          'Content-Type': req.contentType,
          'Content-Length': String(req.body.length),
          'Livepeer-Segment': req.segmentHeader,
          'Livepeer-Payment': req.paymentHeader,
          Authorization: AI_WORKER_AUTHORIZATION,
        },
        signal,
      },
      (res) => {
        if (res.statusCode === 200) return resolve(res);
        readBody(res, ERROR_TEXT_LIMIT)
          .catch(() => Buffer.alloc(0))
          .then((b) => {
            const text = b.toString('utf8').trim();
            reject(new AiJobError(`${url.origin}${req.path} returned ${res.statusCode}: ${text.slice(0, 300)}`, 'status', res.statusCode, text));
          });
      },
    );
    const dial = setTimeout(() => {
      if (!connected) r.destroy(new AiJobError(`could not connect to ${url.origin} within ${AI_CONNECT_TIMEOUT_MS} ms`, 'connect', undefined, '', false));
    }, AI_CONNECT_TIMEOUT_MS);
    r.on('socket', (s) => {
      const ready = () => {
        connected = true;
        clearTimeout(dial);
      };
      if (!s.connecting) ready();
      else s.once(https ? 'secureConnect' : 'connect', ready);
    });
    r.on('error', (err) => {
      clearTimeout(dial);
      if (err instanceof AiJobError) return reject(err);
      if (signal.aborted) return reject(new AiJobError(`${url.origin}${req.path}: no answer within the job deadline`, 'timeout', undefined, '', connected));
      reject(new AiJobError(`${url.origin}${req.path}: ${err.message}`, connected ? 'transport' : 'connect', undefined, '', connected));
    });
    r.end(req.body);
  });
}

/** Runs a job whose answer is one JSON document. */
export async function postAiJob(req: AiJobRequest): Promise<AiJobAnswer> {
  const signal = AbortSignal.timeout(req.timeoutMs);
  const res = await send(req, signal);
  try {
    const body = await readBody(res, req.maxResponseBytes, { declaredLength: res.headers['content-length'] });
    return { contentType: String(res.headers['content-type'] ?? ''), body };
  } catch (err) {
    res.destroy();
    if ((err as { code?: string }).code === 'BODY_TOO_LARGE') {
      throw new AiJobError(`${req.path}: the orchestrator's answer is larger than ${req.maxResponseBytes} bytes`, 'too-large');
    }
    if (signal.aborted) throw new AiJobError(`${req.path}: the answer did not complete within the job deadline`, 'timeout');
    throw new AiJobError(`${req.path}: reading the answer failed: ${(err as Error).message}`, 'transport');
  }
}

/** Runs a job whose answer streams (LLM server-sent events). */
export async function postAiJobStream(req: AiJobRequest): Promise<AiJobStream> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), req.timeoutMs);
  timer.unref();
  try {
    const res = await send(req, controller.signal);
    res.once('close', () => clearTimeout(timer));
    return {
      contentType: String(res.headers['content-type'] ?? ''),
      response: res,
      close: () => {
        clearTimeout(timer);
        res.destroy();
      },
    };
  } catch (err) {
    clearTimeout(timer);
    throw err;
  }
}
