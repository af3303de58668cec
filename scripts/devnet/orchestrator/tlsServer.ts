// The orchestrator's one TLS port: HTTP/2 (gRPC and HTTP) and HTTP/1.1 on a fresh self-signed
// certificate. A peer's garbage (bad TLS, bad frames) is its problem, never a crash.
import { createSecureServer } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../../../src/lib/log.ts';
import { generateSelfSignedCert } from './cert.ts';
import type { RequestListener } from './router.ts';

export interface TlsServer {
  /** https://host:port */
  uri: string;
  port: number;
  /** Stops accepting and drops every open connection. */
  close(): Promise<void>;
}

export async function listenTls(host: string, port: number, log: Logger, onRequest: RequestListener): Promise<TlsServer> {
  const { cert, key } = await generateSelfSignedCert(host);
  const server = createSecureServer({ cert, key, allowHTTP1: true, maxSessionMemory: 64 }, (req, res) => {
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
  server.on('session', (s) => s.on('error', () => {}));
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
