// Who may use a listener: a list of credential checks, any one of which admits a request. The control
// API's `-cliToken` (Authorization: Bearer), and the dashboard's session cookie that its login page hands
// out in exchange for that token (dashboardLogin.ts).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../lib/errors.ts';
import { header } from '../lib/http.ts';
import type { SessionTable } from './sessions.ts';

/** True when the request carries a credential this check accepts. */
export type AccessCheck = (req: IncomingMessage) => boolean | Promise<boolean>;

/** A Bearer-token check that can also compare a token typed into the login form. */
export interface TokenCheck extends AccessCheck {
  /** `candidate` is the token, compared in constant time. */
  matches(candidate: string): boolean;
}

/** No accepted credential: 401 with the Bearer challenge. */
export class AccessDeniedError extends HttpError {
  constructor() {
    super(401, 'unauthorized: send Authorization: Bearer <-cliToken>', { code: 'ACCESS_DENIED', headers: { 'WWW-Authenticate': 'Bearer' } });
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** `Authorization: Bearer <token>`, compared in constant time (both sides hashed to one length first). */
export function bearerTokenCheck(token: string): TokenCheck {
  if (!token) throw new Error('bearerTokenCheck needs a non-empty token');
  const expected = digest(token);
  const matches = (candidate: string): boolean => timingSafeEqual(digest(candidate), expected);
  const check = (req: IncomingMessage): boolean => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header(req, 'authorization') ?? '');
    return !!m && matches(m[1]!);
  };
  return Object.assign(check, { matches });
}

/** The token check among `checks`, if the listener has one (then the dashboard offers a login page). */
export function findTokenCheck(checks: readonly AccessCheck[]): TokenCheck | undefined {
  return checks.find((c): c is TokenCheck => typeof (c as Partial<TokenCheck>).matches === 'function');
}

/** The value of cookie `name` in the request's Cookie header(s). */
export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  const raw = req.headers.cookie;
  if (!raw || raw.length > 8192) return undefined;
  for (const part of raw.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Paths a dashboard session may read: the page, its assets and snapshot, and the event stream. */
function dashboardRead(req: IncomingMessage): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = new URL(req.url ?? '/', 'http://control').pathname;
  return path === '/dashboard' || path.startsWith('/dashboard/') || path === '/events';
}

/**
 * A live dashboard session cookie. It admits only the dashboard's own reads (GET of /dashboard… and
 * /events): moving money or changing settings still takes the Bearer token.
 */
export function sessionCookieCheck(sessions: SessionTable, cookieName: string): AccessCheck {
  return (req) => {
    if (!dashboardRead(req)) return false;
    const id = cookieValue(req, cookieName);
    return id !== undefined && sessions.valid(id);
  };
}

/** Throws AccessDeniedError unless `checks` is empty or one of them admits the request. */
export async function requireAccess(req: IncomingMessage, checks: readonly AccessCheck[]): Promise<void> {
  if (checks.length === 0) return;
  for (const check of checks) if (await check(req)) return;
  throw new AccessDeniedError();
}
