// The dashboard's login when the control port is protected by -cliToken: a browser cannot send a Bearer
// header, so the login form exchanges the token for an HttpOnly session cookie (SameSite=Strict; Secure
// when the listener speaks TLS, which the control port today does not). These routes come before the
// access checks; the browser rule (POST only from this origin, loopback Host on loopback binds) has run.
//   GET  /dashboard        without a session: 303 to the login page
//   GET  /dashboard/login  the form
//   POST /dashboard/login  token=… (form-encoded): 303 to /dashboard with the cookie; 401 wrong; 429 too many
//   POST /dashboard/logout ends the session, clears the cookie, 303 to the login page
// The token is never put in a page, a URL or a log line.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { BodyTooLargeError, readBody } from '../lib/body.ts';
import { sendText, type HttpRoute } from '../lib/http.ts';
import { type AccessCheck, cookieValue, type TokenCheck } from './access.ts';
import { dashboardHeaders } from './dashboard.ts';
import type { LoginThrottle } from './loginThrottle.ts';
import type { SessionTable } from './sessions.ts';

/** The session cookie's name. */
export const SESSION_COOKIE = 'lpgw_session';
/** A login form is a token and little else. */
const MAX_LOGIN_BODY = 4096;

export interface DashboardLoginOptions {
  token: TokenCheck;
  sessions: SessionTable;
  throttle: LoginThrottle;
  /** whether a request already passes the listener's access checks (then /dashboard is not redirected) */
  admitted(req: IncomingMessage): Promise<boolean>;
  /** for the pages' Content-Security-Policy */
  hlsOrigin: string;
}

const LOGIN_PAGE = fileURLToPath(new URL('./dashboard/login.html', import.meta.url));

/** Runs the listener's access checks without throwing. */
export function admittedBy(checks: readonly AccessCheck[]): (req: IncomingMessage) => Promise<boolean> {
  return async (req) => {
    for (const check of checks) if (await check(req)) return true;
    return false;
  };
}

export function createDashboardLoginRoute(opts: DashboardLoginOptions): HttpRoute {
  let page: string | undefined;
  const render = (res: ServerResponse, status: number, error?: string, extra: Record<string, string> = {}): void => {
    page ??= readFileSync(LOGIN_PAGE, 'utf8');
    // only fixed messages go into the page, never anything from the request
    const html = error ? page.replace('class="login-error" hidden></p>', `class="login-error">${error}</p>`) : page;
    const body = Buffer.from(html);
    res.writeHead(status, { ...dashboardHeaders(opts.hlsOrigin, 'text/html; charset=utf-8', body.length), ...extra });
    res.end(body);
  };
  const redirect = (res: ServerResponse, location: string, cookie?: string): void => {
    res.writeHead(303, { Location: location, 'Content-Length': '0', 'Cache-Control': 'no-store', ...(cookie ? { 'Set-Cookie': cookie } : {}) });
    res.end();
  };
  const secure = (req: IncomingMessage): string => ((req.socket as Partial<TLSSocket>).encrypted ? '; Secure' : '');

  return async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://control').pathname.replace(/\/$/, '');
    const method = req.method ?? 'GET';
    if (path === '/dashboard') {
      if ((method !== 'GET' && method !== 'HEAD') || (await opts.admitted(req))) return false;
      redirect(res, '/dashboard/login');
      return true;
    }
    if (path === '/dashboard/logout') {
      if (method !== 'POST') {
        sendText(res, 405, 'method not allowed', { Allow: 'POST' });
        return true;
      }
      req.resume();
      const id = cookieValue(req, SESSION_COOKIE);
      if (id) opts.sessions.delete(id);
      redirect(res, '/dashboard/login', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secure(req)}`);
      return true;
    }
    if (path !== '/dashboard/login') return false;
    if (method === 'GET' || method === 'HEAD') {
      render(res, 200);
      return true;
    }
    if (method !== 'POST') {
      sendText(res, 405, 'method not allowed', { Allow: 'GET, POST' });
      return true;
    }

    const address = req.socket.remoteAddress ?? 'unknown';
    const wait = opts.throttle.retryAfterSeconds(address);
    if (wait > 0) {
      req.resume();
      render(res, 429, `Too many wrong tokens. Try again in ${wait} s.`, { 'Retry-After': String(wait), Connection: 'close' });
      return true;
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    let body: Buffer;
    try {
      body = await readBody(req, MAX_LOGIN_BODY, { declaredLength: req.headers['content-length'] });
    } catch (err) {
      if (!(err instanceof BodyTooLargeError)) throw err;
      sendText(res, 413, 'login form too large', { Connection: 'close' });
      return true;
    }
    const token = type === 'application/x-www-form-urlencoded' ? (new URLSearchParams(body.toString('utf8')).get('token') ?? '') : '';
    if (!token || !opts.token.matches(token)) {
      opts.throttle.failed(address);
      render(res, 401, 'Wrong token.');
      return true;
    }
    opts.throttle.succeeded(address);
    const id = opts.sessions.create();
    redirect(res, '/dashboard', `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${opts.sessions.ttlSeconds}${secure(req)}`);
    return true;
  };
}
