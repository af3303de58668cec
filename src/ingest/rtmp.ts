// RTMP ingest (-rtmpAddr): accepts publishes through the stream registry and plays accepted streams back
// over RTMP to the local segmenter.
//
// Built from node-media-server 4's RTMP protocol state machine and per-stream fan-out (nodeMediaServer.ts), on our own
// TCP listener. Its NodeMediaServer wrapper does not fit a gateway: it cannot listen on port 0, exits the
// process when the port is taken, writes a store under ./data, only accepts [A-Za-z0-9_-] in app and
// stream names (so `movie/Secret/Key` keys fail) and keeps a stream "alive" for 30 s after its publisher left.
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { GatewayError } from '../lib/errors.ts';
import { formatHost } from '../lib/listenAddr.ts';
import { readIntoBuffer } from '../lib/readIntoBuffer.ts';
import { ThrottledReport } from '../lib/throttledReport.ts';
import type { Logger } from '../lib/log.ts';
import { routeNmsLogs, type StreamFanout } from './nodeMediaServer.ts';
import { RtmpAdmission, type RtmpAdmissionLimits } from './rtmpAdmission.ts';
import { RtmpConnection, type RtmpFace } from './rtmpConnection.ts';
import type { StreamRegistry } from './streamRegistry.ts';

export interface RtmpServerOptions<C> {
  /** Admits publishes (auth, limits, duplicates) and ends streams. */
  registry: StreamRegistry<C>;
  /** Default 127.0.0.1. A wildcard host (0.0.0.0, ::) still plays back over loopback. */
  host?: string;
  /** Default 1935; 0 picks a free port. */
  port?: number;
  log: Logger;
  /** A connection that has neither published nor played after this long is dropped. Default 15 s. */
  handshakeTimeoutMs?: number;
  /**
   * Require the stream key for RTMP play (`/stream/<mid>/<key>`). go-livepeer checks only the manifest ID;
   * default true, so the source is not open to anyone who can guess a name.
   */
  requirePlayKey?: boolean;
  /** Bounds on connections not yet admitted (DEFAULT_RTMP_ADMISSION where not given). */
  admission?: Partial<RtmpAdmissionLimits>;
}

/** Each read of a connection takes at most this much (node's own read size). */
const READ_BUFFER_BYTES = 64 * 1024;

/** Refused connections are logged at most this often, with their count since the last line (lib/throttledReport.ts). */
const REFUSED_LOG_INTERVAL_MS = 60_000;

export interface RtmpServer {
  readonly host: string;
  readonly port: number;
  /** `rtmp://host:port` for publishers. */
  readonly url: string;
  /** Stop listening, end this listener's streams, disconnect everyone. */
  close(): Promise<void>;
}

export async function startRtmpServer<C>(opts: RtmpServerOptions<C>): Promise<RtmpServer> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 1935;
  routeNmsLogs(opts.log);
  let playbackBase = '';
  const face: RtmpFace<C> = {
    registry: opts.registry,
    fanouts: new Map<string, StreamFanout>(),
    playbackBase: () => playbackBase,
    handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 15_000,
    requirePlayKey: opts.requirePlayKey ?? true,
    admission: new RtmpAdmission(opts.admission),
    log: opts.log,
  };
  const sockets = new Set<Socket>();
  let closed = false;
  const refusals = new ThrottledReport<string>(REFUSED_LOG_INTERVAL_MS, (refused, last) => {
    const { limits } = face.admission;
    opts.log.warn(
      { refused, last, perAddress: limits.perAddress, total: limits.total },
      'RTMP connections refused: too many not yet publishing or playing, from one peer (an IPv4 address or IPv6 /64) or in all',
    );
  });
  // every connection reads into this one buffer: the parser copies what it keeps before the next read
  const readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  // paused: its reads must not start before readIntoBuffer() moves the connection to a socket of its own
  const server = createServer({ pauseOnConnect: true }, (accepted) => {
    if (closed) return void accepted.destroy();
    const address = accepted.remoteAddress ?? '';
    if (!face.admission.enter(address)) {
      accepted.destroy();
      refusals.add(address);
      return;
    }
    let connection: RtmpConnection<C> | undefined;
    const socket = readIntoBuffer(accepted, readBuffer, (bytes) => connection?.feed(bytes));
    if (!socket) return void face.admission.leave(address, 0);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    connection = new RtmpConnection(socket, face, address);
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) =>
      reject(new GatewayError(`RTMP server cannot listen on ${formatHost(host)}:${port}: ${err.message}. Is -rtmpAddr free?`, { cause: err }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => opts.log.error({ err }, 'RTMP server error'));
  const addr = server.address() as AddressInfo;
  const wildcard = addr.address === '0.0.0.0' || addr.address === '::';
  playbackBase = `rtmp://${formatHost(wildcard ? '127.0.0.1' : addr.address)}:${addr.port}`;

  return {
    host: addr.address,
    port: addr.port,
    url: `rtmp://${formatHost(addr.address)}:${addr.port}`,
    async close() {
      if (closed) return;
      closed = true;
      refusals.close();
      for (const stream of opts.registry.streams()) if (stream.ingest === 'rtmp') opts.registry.end(stream, 'server closing');
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await done;
    },
  };
}
