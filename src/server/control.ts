// The control API's HTTP side on -cliAddr (default 127.0.0.1:5935), shaped like go-livepeer's so
// `livepeer_cli -http 5935` can drive a gateway: a path is a route, form values (query string plus a
// url-encoded body) go in, plain text or Go-style JSON comes out, failures are Go's http.Error.
// The routes themselves come from the node. Unlike go-livepeer, a route changes state only on POST: reads
// (marked with readRoute, what livepeer_cli GETs) also answer GET/HEAD; every request passes the browser
// rule (browserRule.ts) and, when the node sets -cliToken, the access checks (access.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { BodyTooLargeError, readBody } from '../lib/body.ts';
import { HttpError } from '../lib/errors.ts';
import { sendText, type HttpRoute } from '../lib/http.ts';
import { formatHost } from '../lib/listenAddr.ts';
import type { Logger } from '../lib/log.ts';
import { redactSecrets } from '../lib/redact.ts';
import { parseWei, WeiAmountError } from '../lib/wei.ts';
import { type AccessCheck, requireAccess } from './access.ts';
import { browserRuleViolation } from './browserRule.ts';
import { goJson } from './goJson.ts';

const MAX_FORM_BYTES = 1 << 20;

/** Thrown by a route: answered as go-livepeer's http.Error (status + plain-text message). */
export class ControlError extends HttpError {
  constructor(status: number, message: string) {
    super(status, message, { code: 'CONTROL_REQUEST' });
  }
}

/** A route's answer; json bodies are written with goJson. */
export type ControlReply =
  | { status?: number; type: 'text' | 'json' | 'bytes'; body: string | Uint8Array; contentType?: string }
  | { status?: number; type: 'empty' };
/** A route: form values (query + url-encoded body) in, reply out; throw ControlError for 4xx/5xx. */
export type ControlRoute = (form: URLSearchParams) => Promise<ControlReply> | ControlReply;

const READ_ROUTES = new WeakSet<ControlRoute>();

/** Marks a route that only reads: it answers GET and HEAD too. Every other route takes POST only. */
export function readRoute(route: ControlRoute): ControlRoute {
  READ_ROUTES.add(route);
  return route;
}

/** Whether a route was marked with readRoute. */
export const isReadRoute = (route: ControlRoute): boolean => READ_ROUTES.has(route);

/** Plain-text 200 reply. */
export const textReply = (body: string): ControlReply => ({ type: 'text', body });
/** Go-style JSON 200 reply. */
export const jsonReply = (value: unknown): ControlReply => ({ type: 'json', body: goJson(value) });
/** Raw bytes, 200. */
export const bytesReply = (body: Uint8Array): ControlReply => ({ type: 'bytes', body });
/** 200 with no body. */
export const emptyReply = (): ControlReply => ({ type: 'empty' });

/** Required form values are checked before anything else, as go-livepeer does: 400 for the first one missing. */
export function requireForm(params: readonly string[], route: ControlRoute): ControlRoute {
  return (form) => {
    for (const p of params) if (!form.get(p)) throw new ControlError(400, `missing form param: ${p}`);
    return route(form);
  };
}

/** A whole number of wei ≥ 0 from the form (go-livepeer's ParseBigInt, without negatives); 400 otherwise. */
export function formWei(form: URLSearchParams, name: string): bigint {
  try {
    return parseWei(name, form.get(name) ?? '');
  } catch (err) {
    if (err instanceof WeiAmountError) throw new ControlError(400, `invalid ${name}: failed to parse big integer`);
    throw err;
  }
}

export interface ControlServerOptions {
  /** -cliAddr's host (default 127.0.0.1). */
  host?: string;
  /** -cliAddr's port; 0 picks a free port. */
  port: number;
  /** Path → route; a path without one is 404. */
  routes: Record<string, ControlRoute>;
  /**
   * Routes that answer on their own (event streams, the dashboard's pages), tried in order before the
   * form routes; each returns false for a path that is not its own.
   */
  httpRoutes?: HttpRoute[];
  /**
   * Routes that answer before the access checks (after the browser rule), e.g. the dashboard's login
   * page: whoever reaches the listener may use them, so they must guard themselves.
   */
  publicRoutes?: HttpRoute[];
  /** Prometheus registry for /metrics (-monitor); /metrics is 404 without it (a route of that path wins). */
  metrics?: Registry;
  log: Logger;
  /** Credential checks (e.g. -cliToken); when given, a request must pass one of them. */
  access?: readonly AccessCheck[];
  /** One line for a failure that is not a ControlError (answered as 500 and logged); default: its message's first line. */
  describeError?: (err: unknown) => string;
}

export interface ControlServer {
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  /** http://host:port */
  readonly url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, reply: ControlReply): void {
  const status = reply.status ?? 200;
  if (reply.type === 'empty') {
    res.writeHead(status, { 'Content-Length': 0 });
    res.end();
    return;
  }
  // No answer carries URL credentials or API keys, whatever a route put in it.
  const body =
    reply.type === 'bytes'
      ? Buffer.from(reply.body)
      : Buffer.from(redactSecrets(typeof reply.body === 'string' ? reply.body : Buffer.from(reply.body).toString('utf8')));
  const type =
    reply.contentType ?? (reply.type === 'json' ? 'application/json' : reply.type === 'bytes' ? 'application/octet-stream' : 'text/plain; charset=utf-8');
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': body.length });
  res.end(body);
}

/** Query string plus a url-encoded body, for any method (Go's FormValue). */
async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const url = new URL(req.url ?? '/', 'http://control');
  const form = new URLSearchParams(url.searchParams);
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  let body: Buffer;
  try {
    body = await readBody(req, MAX_FORM_BYTES, { declaredLength: req.headers['content-length'] });
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw new ControlError(400, 'request body too large');
    throw err;
  }
  if (type === 'application/x-www-form-urlencoded' && body.length > 0) {
    // Body values come first, as in Go's r.Form.
    const merged = new URLSearchParams(body.toString('utf8'));
    for (const [k, v] of form) merged.append(k, v);
    return merged;
  }
  return form;
}

/** State changes only by POST: a GET with a query string must never move money or change settings. */
function checkMethod(method: string, route: ControlRoute): void {
  if (method === 'POST') return;
  const read = isReadRoute(route);
  if (read && (method === 'GET' || method === 'HEAD')) return;
  const allow = read ? 'GET, HEAD, POST' : 'POST';
  throw new HttpError(405, `method ${method.slice(0, 20)} not allowed: this endpoint ${read ? 'reads' : 'changes state and'} takes ${allow}`, {
    code: 'METHOD_NOT_ALLOWED',
    headers: { Allow: allow },
  });
}

const firstLine = (err: unknown): string => (err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err));

export async function startControlServer(opts: ControlServerOptions): Promise<ControlServer> {
  const host = opts.host ?? '127.0.0.1';
  const { log } = opts;
  const describeError = opts.describeError ?? firstLine;
  const access = opts.access ?? [];
  const table = new Map<string, ControlRoute>();
  if (opts.metrics) {
    const registry = opts.metrics;
    table.set(
      '/metrics',
      readRoute(async () => ({ type: 'text', body: await registry.metrics(), contentType: registry.contentType })),
    );
  }
  for (const [path, route] of Object.entries(opts.routes)) table.set(path, route);

  const server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://control').pathname;
      const route = table.get(path);
      try {
        const refused = browserRuleViolation(req, host);
        if (refused) throw refused;
        for (const open of opts.publicRoutes ?? []) if (await open(req, res)) return;
        await requireAccess(req, access);
        // the dashboard and /events answer their own paths (after the same browser rule and access check)
        for (const own of opts.httpRoutes ?? []) if (await own(req, res)) return;
        if (route) checkMethod(req.method ?? 'GET', route);
        const form = await readForm(req);
        if (!route) return sendText(res, 404, '404 page not found');
        send(res, await route(form));
      } catch (err) {
        if (err instanceof HttpError) return sendText(res, err.status, redactSecrets(err.message), err.headers);
        const message = redactSecrets(describeError(err));
        log.error({ path, err: message }, 'Control API request failed');
        sendText(res, 500, message);
      }
    })();
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const shown = `${formatHost(bound.address)}:${bound.port}`;
  log.info({ addr: shown }, `CLI server listening on ${shown}`);
  return {
    server,
    host: bound.address,
    port: bound.port,
    url: `http://${shown}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
