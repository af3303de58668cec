// Reading an accepted TCP connection into a buffer the caller owns (docs/node.md, "RTMP reads land in one
// buffer"). Node gives each read of a socket a Buffer of its own: a 64-KiB allocation cut down to the bytes
// read, an ArrayBuffer the collector must count and find dead, and a trip through the stream machinery to a
// 'data' event. A publisher sends about 70 RTMP messages a second, each read on its own. Node reads into
// a caller's buffer instead and calls back with the length (net.Socket's `onread`), but only for sockets
// it connects, not for those a server accepts; so the accepted socket's handle is moved to a new socket
// that reads that way.
import { Socket } from 'node:net';

/** Called with each read's bytes: a view of the shared buffer, valid only until the callback returns. */
export type OnBytes = (bytes: Buffer) => void;

/** The accepted socket's libuv handle (node's `_handle`, present on any socket net.Server hands out). */
interface HandleCarrier {
  _handle: unknown;
}

/**
 * Moves the accepted socket's connection to a new socket that reads into `buffer` and passes each read to
 * `onBytes`, synchronously: one buffer can serve every connection whose callbacks copy what they keep. The
 * accepted socket must be paused (the server made with `pauseOnConnect: true`); it is spent afterwards,
 * and the server no longer counts the connection (the caller tracks the returned socket). Returns
 * undefined, the connection closed, when the accepted socket has no handle (the peer is already gone).
 * The returned socket emits no 'data'; 'end', 'close' and writes are as usual.
 */
export function readIntoBuffer(accepted: Socket, buffer: Uint8Array, onBytes: OnBytes): Socket | undefined {
  const carrier = accepted as unknown as HandleCarrier;
  const handle = carrier._handle;
  if (!handle) {
    accepted.destroy();
    return undefined;
  }
  carrier._handle = null;
  const socket = new Socket({
    handle,
    readable: true,
    writable: true,
    onread: {
      buffer,
      callback: (nread: number, buf: Uint8Array) => {
        onBytes(Buffer.from(buf.buffer, buf.byteOffset, nread));
      },
    },
  } as ConstructorParameters<typeof Socket>[0]);
  // without its handle the accepted socket only closes: the server's count of connections drops at once
  accepted.destroy();
  return socket;
}
