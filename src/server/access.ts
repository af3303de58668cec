// Who may use a listener: a list of credential checks, any one of which admits a request. Today the
// control API's `-cliToken` (Authorization: Bearer); a login page can add a session-cookie check the same
// way without touching the routes.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../lib/errors.ts';
import { header } from '../lib/http.ts';

/** True when the request carries a credential this check accepts. */
export type AccessCheck = (req: IncomingMessage) => boolean | Promise<boolean>;

/** No accepted credential: 401 with the Bearer challenge. */
export class AccessDeniedError extends HttpError {
  constructor() {
    super(401, 'unauthorized: send Authorization: Bearer <-cliToken>', { code: 'ACCESS_DENIED', headers: { 'WWW-Authenticate': 'Bearer' } });
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** `Authorization: Bearer <token>`, compared in constant time. */
export function bearerTokenCheck(token: string): AccessCheck {
  if (!token) throw new Error('bearerTokenCheck needs a non-empty token');
  const expected = digest(token);
  return (req) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header(req, 'authorization') ?? '');
    return !!m && timingSafeEqual(digest(m[1]!), expected);
  };
}

/** Throws AccessDeniedError unless `checks` is empty or one of them admits the request. */
export async function requireAccess(req: IncomingMessage, checks: readonly AccessCheck[]): Promise<void> {
  if (checks.length === 0) return;
  for (const check of checks) if (await check(req)) return;
  throw new AccessDeniedError();
}
