// A small HTTP listener shared by the faces on -httpAddr (HLS playback, HTTP
// push): routes are tried in order, /healthz answers 200, anything else 404.
// A failing handler never takes the process down. Every request passes the browser rule first
// (browserRule.ts), so routes added later (push, AI, signer) get it without code of their own.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../lib/log.ts';
import { formatHost } from '../lib/listenAddr.ts';
import { sendText, type HttpRoute } from '../lib/http.ts';
import { browserRuleViolation } from './browserRule.ts';

export type { HttpRoute };

export interface HttpListener {
  readonly server: Server;
  /** The bound host and port (the real port when 0 was asked for). */
  readonly host: string;
  readonly port: number;
  /** `http://host:port`, for logs and tests. */
  readonly url: string;
  /** Stop accepting, drop open connections, resolve when closed. */
  close(): Promise<void>;
}

export interface HttpListenerOptions {
  /** Default 127.0.0.1 (go-livepeer binds -httpAddr to loopback by default). */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  routes: readonly HttpRoute[];
  log: Logger;
  /** false while the node drains for shutdown: /healthz answers 503 so load balancers stop sending */
  healthy?: () => boolean;
}

export async function startHttpListener(opts: HttpListenerOptions): Promise<HttpListener> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log;
  const server = createServer((req, res) => {
    void handle(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const refused = browserRuleViolation(req, host);
      if (refused) {
        log.info({ url: req.url, method: req.method, reason: refused.message }, 'request refused by the browser rule');
        req.resume();
        sendText(res, refused.status, refused.message, { Connection: 'close' });
        return;
      }
      const path = (req.url ?? '/').split('?', 1)[0];
      if (path === '/healthz') {
        res.writeHead(opts.healthy && !opts.healthy() ? 503 : 200, { 'Content-Length': '0' });
        res.end();
        return;
      }
      for (const route of opts.routes) {
        if (await route(req, res)) return;
      }
      sendText(res, 404, '404 page not found');
    } catch (err) {
      log.error({ err, url: req.url }, 'HTTP handler failed');
      sendText(res, 500, 'Internal Server Error');
    }
  }

  // A client that sends garbage gets a 400 from Node; it must not reach 'error'.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      reject(new Error(`HTTP server cannot listen on ${formatHost(host)}:${opts.port}: ${err.message}. Is the port free?`));
    };
    server.once('error', onError);
    server.listen(opts.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'HTTP server error'));

  const addr = server.address() as AddressInfo;
  const url = `http://${formatHost(addr.address)}:${addr.port}`;
  let closing: Promise<void> | undefined;
  return {
    server,
    host: addr.address,
    port: addr.port,
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
