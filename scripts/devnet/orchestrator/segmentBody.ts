// The segment itself: the request body, or (content type application/vnd+livepeer.uri) the bytes at
// the URL the body names; bounded in size and time, and checked against the hash the broadcaster signed.
import type { Http2ServerRequest } from 'node:http2';
import { keccak256 } from '../../../src/lib/keccak.ts';
import { BodyTooLargeError, readBody } from '../../../src/lib/body.ts';
import { errorMessage, GatewayError, HttpError } from '../../../src/lib/errors.ts';
import type { Logger } from '../../../src/lib/log.ts';
import { fixed32 } from './segmentCredentials.ts';

export const MAX_SEGMENT_BYTES = 300_000_000;
const URI_CONTENT_TYPE = 'application/vnd+livepeer.uri';
const MAX_URI_BYTES = 8192;
const DOWNLOAD_TIMEOUT_MS = 8000;

/** go-livepeer answers a body it cannot read with a bare 500. */
function unreadable(err: unknown): unknown {
  return err instanceof BodyTooLargeError ? new HttpError(500, 'Internal Server Error', { cause: err }) : err;
}

async function download(url: string): Promise<Buffer> {
  const signal = AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS);
  const res = await fetch(url, { signal });
  if (!res.ok || !res.body) throw new GatewayError(`status ${res.status}`);
  return readBody(res.body, MAX_SEGMENT_BYTES, { declaredLength: res.headers.get('content-length') ?? undefined });
}

/**
 * The load mode's read (loadMode.ts): its renditions do not depend on the segment, so the body is read to
 * its end (bounded as readSegment's) and dropped, neither kept nor hashed: a load run's orchestrators
 * share a core with the publishers, and hashing and holding every segment was their largest cost.
 */
export async function drainSegment(req: Http2ServerRequest): Promise<Buffer> {
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_SEGMENT_BYTES) throw unreadable(new BodyTooLargeError(MAX_SEGMENT_BYTES));
  }
  return Buffer.alloc(0);
}

/** The segment's bytes, once they hash to `expectedHash`; HttpError otherwise. */
export async function readSegment(req: Http2ServerRequest, expectedHash: Uint8Array | undefined, log: Logger): Promise<Buffer> {
  const byUrl = req.headers['content-type'] === URI_CONTENT_TYPE;
  const limit = byUrl ? MAX_URI_BYTES : MAX_SEGMENT_BYTES;
  let body = await readBody(req, limit, { declaredLength: req.headers['content-length'] }).catch((err: unknown) => {
    throw unreadable(err);
  });
  if (byUrl) {
    try {
      body = await download(body.toString('utf8'));
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'could not download the segment from its URL');
      throw new HttpError(400, 'BadRequest');
    }
  }
  if (Buffer.compare(Buffer.from(keccak256(body)), Buffer.from(fixed32(expectedHash))) !== 0) throw new HttpError(403, 'Forbidden');
  return body;
}
