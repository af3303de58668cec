// A call to a URL the operator configured (auth webhook, orchestrator discovery webhook) whose answer is
// still a peer's: its body is read up to a cap, and a redirect is followed only on the same origin
// (scheme, host, port) — a webhook cannot send the node to another host, e.g. into the local network.
import { readBody, BodyTooLargeError } from './body.ts';
import { GatewayError } from './errors.ts';
import { redactSecretsInUrl } from './redact.ts';

export class WebhookAnswerError extends GatewayError {}

export interface BoundedFetchOptions {
  /** Largest body read; a larger one is an error (default 1 MiB). */
  maxBytes?: number;
  /** Same-origin redirects followed at most (default 3). */
  maxRedirects?: number;
  /** Replaceable for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

export interface BoundedAnswer {
  status: number;
  body: Buffer;
}

export const DEFAULT_WEBHOOK_MAX_BYTES = 1 << 20;

/** fetch with `redirect: 'manual'`: same-origin redirects followed, the body read up to `maxBytes`. */
export async function boundedFetch(url: string, init: RequestInit, opts: BoundedFetchOptions = {}): Promise<BoundedAnswer> {
  const maxBytes = opts.maxBytes ?? DEFAULT_WEBHOOK_MAX_BYTES;
  const doFetch = opts.fetch ?? fetch;
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    const res = await doFetch(current, { ...init, redirect: 'manual' });
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel().catch(() => {});
      const next = new URL(location, current);
      if (next.origin !== current.origin) {
        throw new WebhookAnswerError(`redirected to another host (${redactSecretsInUrl(next.href)}); only same-host redirects are followed`);
      }
      if (hop >= (opts.maxRedirects ?? 3)) throw new WebhookAnswerError('too many redirects');
      // 303 (and 301/302 for a POST, as browsers do) continue as GET without a body
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && init.method === 'POST')) init = { ...init, method: 'GET', body: null };
      current = next;
      continue;
    }
    try {
      const body = res.body
        ? await readBody(res.body as AsyncIterable<Uint8Array>, maxBytes, { declaredLength: res.headers.get('content-length') ?? undefined })
        : Buffer.alloc(0);
      return { status: res.status, body };
    } catch (err) {
      await res.body?.cancel().catch(() => {});
      if (err instanceof BodyTooLargeError) throw new WebhookAnswerError(`answer larger than ${maxBytes} bytes`, { cause: err });
      throw err;
    }
  }
}
