// The route table of the orchestrator's one port: gRPC calls go to the unary RPC table, everything
// else to the first HTTP route whose method and path match, 404 otherwise. New jobs (e.g. AI
// pipelines) add a Route; nothing here knows what a route does.
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { errorMessage } from '../../../src/lib/errors.ts';
import type { Logger } from '../../../src/lib/log.ts';
import { isGrpcRequest, serveUnary, type UnaryHandler } from './grpcUnary.ts';

// With allowHTTP1 an HTTP/1.1 request arrives as node:http's request and response, which have the
// same shape for everything used here.
export type RouteRequest = Http2ServerRequest;
export type RouteResponse = Http2ServerResponse;

export interface RouteMatch {
  /** The request path without the query. */
  path: string;
  /** The capture groups of a RegExp path. */
  params: readonly string[];
}

export interface Route {
  methods: readonly string[];
  /** An exact path, or a pattern whose capture groups become `params`. */
  path: string | RegExp;
  handle(req: RouteRequest, res: RouteResponse, match: RouteMatch): void | Promise<void>;
}

/** Plain-text answer, the shape of go-livepeer's http.Error; a no-op once the answer has started. */
export function sendPlainText(res: RouteResponse, status: number, text: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
  res.end(`${text}\n`);
}

function match(route: Route, method: string, path: string): RouteMatch | undefined {
  if (!route.methods.includes(method)) return undefined;
  if (typeof route.path === 'string') return route.path === path ? { path, params: [] } : undefined;
  const m = route.path.exec(path);
  return m ? { path, params: m.slice(1).map((p) => p ?? '') } : undefined;
}

export type RequestListener = (req: RouteRequest, res: RouteResponse) => Promise<void>;

export function router(rpcs: Readonly<Record<string, UnaryHandler>>, routes: readonly Route[], log: Logger): RequestListener {
  return async (req, res) => {
    // A peer that hangs up mid-request is not our error.
    req.on('error', () => {});
    res.on('error', () => {});
    try {
      if (isGrpcRequest(req)) return await serveUnary(req, res, rpcs);
      const path = (req.url ?? '/').split('?')[0]!;
      for (const route of routes) {
        const m = match(route, req.method, path);
        if (m) return await route.handle(req, res, m);
      }
      req.resume();
      sendPlainText(res, 404, '404 page not found');
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'request failed');
      sendPlainText(res, 500, 'Internal Server Error');
    }
  };
}
