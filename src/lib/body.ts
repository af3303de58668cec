// Reading a request or response body with a size limit: the one place every face and client reads
// bytes from a peer, so no peer can make us buffer more than we allow.
import { GatewayError } from './errors.ts';
import { GrowableBytes } from './growableBytes.ts';

export class BodyTooLargeError extends GatewayError {
  constructor(readonly maxBytes: number) {
    super(`body larger than ${maxBytes} bytes`, { code: 'BODY_TOO_LARGE' });
  }
}

export interface ReadBodyOptions {
  /** The Content-Length the peer declared, checked before any byte is read. */
  declaredLength?: string | number | undefined;
}

/** Room a collector starts with when the peer declared no length. */
const UNDECLARED_START = 64 << 10;
/** The most a declared length allocates before its bytes come: a peer's word alone costs no more. */
export const MAX_PREALLOCATED = 1 << 20;

/**
 * Gathers a body's chunks into one buffer as they arrive, never past `maxBytes`. Each chunk is copied in
 * and let go at once, so it dies young: chunks kept in a list until the end outlive the young generation's
 * collections and are freed only by a full one (docs/node.md, "Buffers die young where they can"). With
 * a declared length (up to MAX_PREALLOCATED) the buffer is allocated once at that size and is the result,
 * without a copy at the end.
 */
export class BodyCollector {
  readonly #maxBytes: number;
  /** allocated at the first byte or declared length */
  #bytes: GrowableBytes | undefined;

  /** Throws BodyTooLargeError when the declared length is already past `maxBytes`. */
  constructor(maxBytes: number, declaredLength?: string | number | undefined) {
    this.#maxBytes = maxBytes;
    this.expect(declaredLength);
  }

  /**
   * The length the peer declared, for a body whose headers may come after its first bytes (HTTP/2 emits
   * a response's headers a tick after the data read with them): throws BodyTooLargeError past `maxBytes`;
   * sizes the buffer when no byte has come yet. Anything but a whole number of bytes counts as undeclared.
   */
  expect(declaredLength: string | number | undefined): void {
    const declared = declaredLength === undefined || declaredLength === '' ? Number.NaN : Number(declaredLength);
    if (!(Number.isSafeInteger(declared) && declared >= 0)) return;
    if (declared > this.#maxBytes) throw new BodyTooLargeError(this.#maxBytes);
    this.#bytes ??= new GrowableBytes(Math.min(declared, MAX_PREALLOCATED));
  }

  /** Bytes gathered so far. */
  get length(): number {
    return this.#bytes?.length ?? 0;
  }

  /** Throws BodyTooLargeError (and keeps nothing of the chunk) when it would pass `maxBytes`. */
  add(chunk: Uint8Array | string): void {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.length + b.length > this.#maxBytes) throw new BodyTooLargeError(this.#maxBytes);
    this.#bytes ??= new GrowableBytes(Math.min(UNDECLARED_START, this.#maxBytes));
    this.#bytes.append(b);
  }

  /** The whole body; the collector is not used after. */
  take(): Buffer {
    return this.#bytes?.take() ?? Buffer.alloc(0);
  }
}

/** Collects a stream of chunks; throws BodyTooLargeError as soon as it passes `maxBytes`. */
export async function readBody(source: AsyncIterable<Buffer | Uint8Array | string>, maxBytes: number, opts: ReadBodyOptions = {}): Promise<Buffer> {
  const body = new BodyCollector(maxBytes, opts.declaredLength);
  for await (const chunk of source) body.add(chunk);
  return body.take();
}
