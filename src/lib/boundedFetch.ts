// A call to a URL the operator configured (auth webhooks, the orchestrator discovery webhook, a remote
// signer) whose answer is still a peer's: its body is read up to a cap, a redirect is followed only on
// the same origin (scheme, host, port) — a webhook cannot send the node to another host, e.g. into the
// local network — and the whole exchange, body included, ends by its deadline.
import { BodyCollector, BodyTooLargeError } from './body.ts';
import { GatewayError } from './errors.ts';
import { startExchangeDeadline } from './exchangeDeadline.ts';
import { redactSecretsInUrl } from './redact.ts';

export class WebhookAnswerError extends GatewayError {}

export interface BoundedFetchOptions {
  /** Largest body read; a larger one is an error (default 1 MiB). */
  maxBytes?: number;
  /** Same-origin redirects followed at most (default 3; 0 refuses any redirect). */
  maxRedirects?: number;
  /**
   * The whole exchange (redirects and the body's last byte included) ends within this, or fails with a
   * DOMException named 'TimeoutError', as `AbortSignal.timeout` does.
   */
  timeoutMs?: number;
  /** Replaceable for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

export interface BoundedAnswer {
  status: number;
  headers: Headers;
  body: Buffer;
}

export const DEFAULT_WEBHOOK_MAX_BYTES = 1 << 20;

/** fetch with `redirect: 'manual'`: same-origin redirects followed, the body read up to `maxBytes`, all by `timeoutMs`. */
export async function boundedFetch(url: string, init: RequestInit, opts: BoundedFetchOptions = {}): Promise<BoundedAnswer> {
  const maxBytes = opts.maxBytes ?? DEFAULT_WEBHOOK_MAX_BYTES;
  const maxRedirects = opts.maxRedirects ?? 3;
  const doFetch = opts.fetch ?? fetch;
  let current = new URL(url);
  // the caller's own signal ends the exchange too, raced like the deadline
  const deadline = startExchangeDeadline(opts.timeoutMs, init.signal ?? undefined);
  try {
    for (let hop = 0; ; hop++) {
      const res = await deadline.within(doFetch(current, { ...init, signal: deadline.signal, redirect: 'manual' }), closeLate);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel().catch(() => {});
        const next = new URL(location, current);
        if (next.origin !== current.origin) {
          throw new WebhookAnswerError(`redirected to another host (${redactSecretsInUrl(next.href)}); only same-host redirects are followed`);
        }
        if (hop >= maxRedirects)
          throw new WebhookAnswerError(maxRedirects === 0 ? `redirected (${res.status}); redirects are not followed` : 'too many redirects');
        // 303 (and 301/302 for a POST, as browsers do) continue as GET without a body
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && init.method === 'POST')) init = { ...init, method: 'GET', body: null };
        current = next;
        continue;
      }
      return { status: res.status, headers: res.headers, body: await readCapped(res, maxBytes, deadline.within) };
    }
  } finally {
    deadline.clear();
  }
}

/** A response that came after the deadline: its connection is let go at once. */
function closeLate(res: Response): void {
  res.body?.cancel().catch(() => {});
}

async function readCapped(res: Response, maxBytes: number, within: <T>(p: Promise<T>) => Promise<T>): Promise<Buffer> {
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  try {
    const body = new BodyCollector(maxBytes, res.headers.get('content-length') ?? undefined);
    for (;;) {
      const { done, value } = await within(reader.read());
      if (done) return body.take();
      body.add(value);
    }
  } catch (err) {
    // the connection is let go at once: a stalled or oversized answer holds nothing of ours
    await reader.cancel().catch(() => {});
    if (err instanceof BodyTooLargeError) throw new WebhookAnswerError(`answer larger than ${maxBytes} bytes`, { cause: err });
    throw err;
  }
}
