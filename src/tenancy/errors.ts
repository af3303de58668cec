// Refusals of the managed-provider checks. Each is an HttpError the faces answer with its status and a
// JSON body; `Retry-After` rides along on 429. Nothing was counted or billed when one is thrown.
import { HttpError } from '../lib/errors.ts';

/** Missing, malformed, unknown or revoked API key (401). */
export class ApiKeyError extends HttpError {
  constructor(message: string, code: 'API_KEY_MISSING' | 'API_KEY_INVALID' | 'API_KEY_REVOKED') {
    super(401, message, { code, headers: { 'WWW-Authenticate': 'Bearer realm="livepeer-gateway"' } });
  }
}

/** Requests per minute or concurrent streams used up (429). */
export class LimitReachedError extends HttpError {
  constructor(
    message: string,
    code: 'RATE_LIMITED' | 'TOO_MANY_STREAMS',
    readonly retryAfterSeconds: number,
  ) {
    super(429, message, { code, headers: { 'Retry-After': String(retryAfterSeconds) } });
  }
}

/** A daily or monthly spend cap reached (402); the figures are wei. */
export class SpendCapError extends HttpError {
  constructor(
    readonly period: 'day' | 'month',
    readonly capWei: bigint,
    readonly spentWei: bigint,
    readonly resetsAt: Date,
  ) {
    super(
      402,
      `the ${period === 'day' ? 'daily' : 'monthly'} spend cap of ${capWei} wei is reached (${spentWei} wei spent); it resets at ${resetsAt.toISOString()}`,
      {
        code: 'SPEND_CAP_REACHED',
      },
    );
  }
}

/** Bad input to key management (names, limits) — a usage error at the command line. */
export class TenancyInputError extends HttpError {
  constructor(message: string) {
    super(400, message, { code: 'TENANCY_INPUT' });
  }
}
