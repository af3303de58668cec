// The operator's auth webhook (-remoteSignerWebhookUrl): before a payment leaves, the signer POSTs the
// caller's headers and the new state, and the webhook decides (docs/remote-signer.md §5). Its answer is
// outside input like any other: bounded, typed, and anything unexpected fails closed.
import { isLosslessNumber, parse as parseLossless } from 'lossless-json';
import { boundedFetch } from '../lib/boundedFetch.ts';
import { errorMessage } from '../lib/errors.ts';
import type { MaxPriceField } from './request.ts';

export interface AuthWebhookConfig {
  url: string;
  /** -remoteSignerWebhookHeaders */
  headers: Record<string, string>;
  /** go-livepeer: 5 s */
  timeoutMs?: number;
}

export type AuthOutcome =
  /** allowed: what to store in the state */
  | { ok: true; expiry: bigint; authId: string; maxPrice?: MaxPriceField }
  /** refused or broken: answer the caller with this status and message */
  | { ok: false; status: number; message: string; reason: 'webhook-refused' | 'webhook-failed' };

const MAX_REPLY_BYTES = 64 * 1024;
const INT64_MAX = (1n << 63n) - 1n;

/** "k:v,k2:v2" as go-livepeer splits it: at commas, then at the first colon; blanks trimmed. */
export function parseHeaderList(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const i = part.indexOf(':');
    if (i <= 0) continue;
    const name = part.slice(0, i).trim();
    if (name) out[name] = part.slice(i + 1).trim();
  }
  return out;
}

/** Go's http.CanonicalHeaderKey: "x-foo-bar" → "X-Foo-Bar". */
export function canonicalHeaderName(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

const failed = (message: string): AuthOutcome => ({ ok: false, status: 500, message, reason: 'webhook-failed' });

/** Asks the webhook about one payment. `stateJson` is the state after this call's update (Go's JSON). */
export async function askAuthWebhook(cfg: AuthWebhookConfig, requestHeaders: Record<string, string[]>, stateJson: string): Promise<AuthOutcome> {
  const headersJson = JSON.stringify(Object.fromEntries(Object.entries(requestHeaders).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  const body = `{"headers":${headersJson},"state":${stateJson}}`;
  let status: number;
  let text: string;
  try {
    // capped, never redirected, and over by the deadline, body included
    const res = await boundedFetch(
      cfg.url,
      { method: 'POST', headers: { 'Content-Type': 'application/json', ...cfg.headers }, body },
      { maxBytes: MAX_REPLY_BYTES, maxRedirects: 0, timeoutMs: cfg.timeoutMs ?? 5000 },
    );
    status = res.status;
    text = res.body.toString('utf8');
  } catch (err) {
    return failed(`failed to call remote signer webhook: ${errorMessage(err)}`);
  }
  if (status !== 200) return failed(`signer auth error status ${status}`);
  let parsed: unknown;
  try {
    parsed = parseLossless(text);
  } catch (err) {
    return failed(`signer auth invalid response: ${errorMessage(err)}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return failed('signer auth invalid response: not a JSON object');
  const field = (name: string): unknown => {
    let v: unknown;
    for (const [k, x] of Object.entries(parsed as Record<string, unknown>)) if (k.toLowerCase() === name.toLowerCase()) v = x;
    return v;
  };
  const int = (name: string): bigint | undefined | 'bad' => {
    const v = field(name);
    if (v === undefined || v === null) return undefined;
    if (!isLosslessNumber(v) || !/^-?\d{1,19}$/.test(v.toString())) return 'bad';
    const n = BigInt(v.toString());
    return n > INT64_MAX || n < -INT64_MAX - 1n ? 'bad' : n;
  };
  const str = (name: string): string | 'bad' => {
    const v = field(name);
    if (v === undefined || v === null) return '';
    return typeof v === 'string' ? v.slice(0, 512) : 'bad';
  };
  const st = int('status');
  const expiry = int('expiry');
  const reason = str('reason');
  const authId = str('auth_id');
  if (st === 'bad' || expiry === 'bad' || reason === 'bad' || authId === 'bad') return failed('signer auth invalid response: a field has the wrong type');
  if (st === undefined || st <= 0n) return failed('signer auth invalid status');
  if (st !== 200n) {
    // a status that HTTP cannot carry is the webhook's fault
    if (st < 100n || st > 599n) return failed(`signer auth returned status ${st}`);
    return { ok: false, status: Number(st), message: reason || `signer auth rejected request with status ${st}`, reason: 'webhook-refused' };
  }
  const out: AuthOutcome = { ok: true, expiry: expiry ?? 0n, authId };
  const mp = field('maxPrice');
  if (mp !== undefined && mp !== null) {
    if (typeof mp !== 'object' || Array.isArray(mp) || isLosslessNumber(mp)) return failed('signer auth invalid response: maxPrice is not an object');
    const o = mp as Record<string, unknown>;
    const get = (name: string): unknown => {
      let v: unknown;
      for (const [k, x] of Object.entries(o)) if (k.toLowerCase() === name) v = x;
      return v;
    };
    const price = get('price');
    const text = isLosslessNumber(price) ? price.toString() : typeof price === 'string' ? price : '';
    const currency = get('currency');
    const unit = get('unit');
    out.maxPrice = { price: text.slice(0, 100), currency: typeof currency === 'string' ? currency : '', unit: typeof unit === 'string' ? unit : '' };
  }
  return out;
}
