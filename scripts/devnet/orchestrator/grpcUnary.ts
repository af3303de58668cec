// Unary gRPC over an HTTP/2 request we already accepted on the shared port: length-prefixed
// messages in, one message plus grpc-status trailers out. Enough for a broadcaster's three RPCs.
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { BodyTooLargeError, readBody } from '../../../src/lib/body.ts';
import { errorMessage, GatewayError } from '../../../src/lib/errors.ts';

/** gRPC status codes we answer with. */
export const GrpcStatus = {
  OK: 0,
  UNKNOWN: 2,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
} as const;

/** An RPC failure with the text the peer sees (go-livepeer returns plain errors ⇒ UNKNOWN). */
export class RpcFailure extends GatewayError {
  constructor(
    message: string,
    readonly status: number = GrpcStatus.UNKNOWN,
  ) {
    super(message, { code: 'RPC_FAILURE' });
  }
}

export type UnaryHandler = (request: Uint8Array) => Promise<Uint8Array>;

/** go-livepeer sends a request to gRPC iff it is HTTP/2 and its content type starts with application/grpc. */
export function isGrpcRequest(req: Http2ServerRequest): boolean {
  return req.httpVersionMajor === 2 && String(req.headers['content-type'] ?? '').startsWith('application/grpc');
}

const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

// grpc-message is percent-encoded outside printable ASCII (and '%' itself).
function encodeGrpcMessage(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function sendStatus(res: Http2ServerResponse, code: number, message: string): void {
  const stream = res.stream;
  if (stream.headersSent || stream.destroyed) return;
  // Trailers-only response: the status travels in the single HEADERS frame, which ends the stream.
  stream.respond(
    { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(message) },
    { endStream: true },
  );
}

/** The whole request body, bounded: a peer never makes us buffer more than one message's limit. */
async function readRequest(req: Http2ServerRequest): Promise<Buffer> {
  try {
    return await readBody(req, MAX_MESSAGE_BYTES, { declaredLength: req.headers['content-length'] });
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw new RpcFailure('request too large', GrpcStatus.RESOURCE_EXHAUSTED);
    throw err;
  }
}

/** Parses exactly one uncompressed length-prefixed message. */
function unframe(body: Buffer): Uint8Array {
  if (body.length < 5) throw new RpcFailure('grpc: missing message frame', GrpcStatus.INTERNAL);
  if (body[0] !== 0) throw new RpcFailure('grpc: compressed messages are not supported', GrpcStatus.UNIMPLEMENTED);
  const len = body.readUInt32BE(1);
  if (body.length !== 5 + len) throw new RpcFailure('grpc: malformed message frame', GrpcStatus.INTERNAL);
  return body.subarray(5);
}

function frame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** Serves one unary call. Never throws: every failure becomes a grpc-status. */
export async function serveUnary(req: Http2ServerRequest, res: Http2ServerResponse, handlers: Readonly<Record<string, UnaryHandler>>): Promise<void> {
  try {
    const handler = handlers[req.url];
    if (!handler) {
      req.resume();
      sendStatus(res, GrpcStatus.UNIMPLEMENTED, `unknown method ${req.url}`);
      return;
    }
    const reply = await handler(unframe(await readRequest(req)));
    if (res.destroyed) return;
    // The compatibility layer sends these trailers when the body ends.
    res.writeHead(200, { 'content-type': 'application/grpc' });
    res.addTrailers({ 'grpc-status': '0' });
    res.end(frame(reply));
  } catch (err) {
    const failure = err instanceof RpcFailure ? err : new RpcFailure(errorMessage(err), GrpcStatus.INTERNAL);
    sendStatus(res, failure.status, failure.message);
  }
}
