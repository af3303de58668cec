// The orchestrator's one TLS port: HTTP/2 (gRPC and HTTP) and HTTP/1.1 on a fresh self-signed
// certificate. A peer's garbage (bad TLS, bad frames) is its problem, never a crash.
import { createSecureServer } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../../../src/lib/log.ts';
import { generateSelfSignedCert } from './cert.ts';
import type { RequestListener } from './router.ts';

const GO_UPLOAD_WINDOW = 1 << 20;

export interface TlsServer {
  /** https://host:port */
  uri: string;
  port: number;
  /** Stops accepting and drops every open connection. */
  close(): Promise<void>;
}

export async function listenTls(host: string, port: number, log: Logger, onRequest: RequestListener): Promise<TlsServer> {
  const { cert, key } = await generateSelfSignedCert(host);
  // Flow-control windows as go-livepeer's Go HTTP/2 server grants them (1 MiB per stream and per connection),
  // not Node's 64 KiB: with those an upload waits on every window update this event loop sends.
  const server = createSecureServer({ cert, key, allowHTTP1: true, maxSessionMemory: 64, settings: { initialWindowSize: GO_UPLOAD_WINDOW } }, (req, res) => {
    void onRequest(req, res);
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  server.on('sessionError', () => {});
  server.on('session', (s) => {
    s.on('error', () => {});
    s.setLocalWindowSize(GO_UPLOAD_WINDOW);
  });
  server.on('clientError', () => {});

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err: err.message }, 'server error'));
  const bound = (server.address() as AddressInfo).port;
  return {
    uri: `https://${host}:${bound}`,
    port: bound,
    close: () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      return closed;
    },
  };
}
