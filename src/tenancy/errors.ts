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

/**
 * A daily or monthly spend cap reached (402); the figures are wei (spent includes jobs still running).
 * `usd`: the cap as the key states it ("5USD"), for caps in USD. `jobWei`: a job that does not fit.
 */
export class SpendCapError extends HttpError {
  constructor(
    readonly period: 'day' | 'month',
    readonly capWei: bigint,
    readonly spentWei: bigint,
    readonly resetsAt: Date,
    extra: { usd?: string; jobWei?: bigint } = {},
  ) {
    const cap = extra.usd ? `${extra.usd} (${capWei} wei at the current ETH/USD price)` : `${capWei} wei`;
    const what = extra.jobWei !== undefined ? `has no room for this job's ${extra.jobWei} wei` : 'is reached';
    super(402, `the ${period === 'day' ? 'daily' : 'monthly'} spend cap of ${cap} ${what} (${spentWei} wei spent); it resets at ${resetsAt.toISOString()}`, {
      code: 'SPEND_CAP_REACHED',
    });
  }
}

/** A USD spend cap cannot be turned into wei: no ETH/USD price, or only a stale one (503). */
export class PriceUnavailableError extends HttpError {
  constructor(message: string) {
    super(503, message, { code: 'PRICE_UNAVAILABLE', headers: { 'Retry-After': '60' } });
  }
}

/** Bad input to key management (names, limits) — a usage error at the command line. */
export class TenancyInputError extends HttpError {
  constructor(message: string) {
    super(400, message, { code: 'TENANCY_INPUT' });
  }
}
