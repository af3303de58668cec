// Reading a request or response body with a size limit: the one place every face and client reads
// bytes from a peer, so no peer can make us buffer more than we allow.
import { GatewayError } from './errors.ts';

export class BodyTooLargeError extends GatewayError {
  constructor(readonly maxBytes: number) {
    super(`body larger than ${maxBytes} bytes`, { code: 'BODY_TOO_LARGE' });
  }
}

export interface ReadBodyOptions {
  /** The Content-Length the peer declared, checked before any byte is read. */
  declaredLength?: string | number | undefined;
}

/** Collects a stream of chunks; throws BodyTooLargeError as soon as it passes `maxBytes`. */
export async function readBody(source: AsyncIterable<Buffer | Uint8Array | string>, maxBytes: number, opts: ReadBodyOptions = {}): Promise<Buffer> {
  const declared = Number(opts.declaredLength);
  if (opts.declaredLength !== undefined && Number.isFinite(declared) && declared > maxBytes) throw new BodyTooLargeError(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    size += b.length;
    if (size > maxBytes) throw new BodyTooLargeError(maxBytes);
    chunks.push(b);
  }
  return Buffer.concat(chunks, size);
}
