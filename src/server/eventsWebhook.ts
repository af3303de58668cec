// The events webhook (-eventsWebhookUrl): each event is POSTed as JSON to the operator's URL, signed with
// HMAC-SHA256 when a secret is set (docs/events.md describes the scheme). Delivery never blocks whoever
// emits: events wait in a bounded queue (overflow is dropped and counted), are sent one at a time in
// order, retried with exponential backoff, and an answer's body is never read. Redirects are not followed.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { errorMessage } from '../lib/errors.ts';
import { startExchangeDeadline } from '../lib/exchangeDeadline.ts';
import type { Logger } from '../lib/log.ts';
import { redactUrl } from '../lib/redact.ts';

/** Header with `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. */
export const SIGNATURE_HEADER = 'Livepeer-Signature';
/** Header with the event type, so a receiver can route before parsing. */
export const EVENT_HEADER = 'Livepeer-Event';
/** Header with the delivery ID (the body's `id`), the same on every retry of one event. */
export const DELIVERY_HEADER = 'Livepeer-Delivery';

/** What is POSTed. */
export interface WebhookEvent {
  id: string;
  type: string;
  /** when the event happened, ms since the epoch */
  timestamp: number;
  data: object;
}

export interface EventsWebhookOptions {
  url: string;
  /** signs each POST when set */
  secret?: string;
  log: Logger;
  /** events waiting at most; more are dropped and counted (default 1000) */
  maxQueue?: number;
  /** tries per event, the first included (default 6) */
  maxAttempts?: number;
  /** wait before the first retry, doubled each time up to maxBackoffMs (default 1 s) */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** one POST, answer headers included (default 10 s) */
  timeoutMs?: number;
  /** seconds clock of the signature (tests) */
  nowSeconds?: () => number;
}

export interface WebhookStats {
  queued: number;
  delivered: number;
  /** gave up after every attempt */
  failed: number;
  /** the queue was full */
  dropped: number;
}

/** The signature value of a body sent at `timestamp` (unix seconds). */
export function signWebhookBody(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/**
 * A receiver's check: the signature header matches the raw body under `secret`, and its timestamp is
 * within `toleranceSeconds` of now (replays of old deliveries fail).
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  body: string,
  opts: { toleranceSeconds?: number; nowSeconds?: number } = {},
): boolean {
  if (!header) return false;
  const parts = new Map(header.split(',').map((p) => [p.slice(0, p.indexOf('=')).trim(), p.slice(p.indexOf('=') + 1).trim()] as const));
  const t = Number(parts.get('t'));
  const given = parts.get('v1') ?? '';
  if (!Number.isSafeInteger(t) || !/^[0-9a-f]{64}$/.test(given)) return false;
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (opts.toleranceSeconds ?? 300)) return false;
  const want = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(want, Buffer.from(given, 'hex'));
}

export class EventsWebhook {
  readonly #queue: WebhookEvent[] = [];
  readonly #stats = { delivered: 0, failed: 0, dropped: 0 };
  readonly #opts: Required<Omit<EventsWebhookOptions, 'secret'>> & { secret?: string };
  readonly #shown: string;
  #running = false;
  readonly #idle: (() => void)[] = [];
  #closed = false;
  /** aborts the POST or backoff wait under way when closing */
  readonly #stop = new AbortController();

  constructor(opts: EventsWebhookOptions) {
    this.#opts = {
      maxQueue: 1000,
      maxAttempts: 6,
      backoffMs: 1000,
      maxBackoffMs: 60_000,
      timeoutMs: 10_000,
      nowSeconds: () => Math.floor(Date.now() / 1000),
      ...opts,
    };
    this.#shown = redactUrl(opts.url);
  }

  /** Queues an event; false when it was dropped (queue full or closed). Never waits. */
  send(type: string, data: object): boolean {
    if (this.#closed) return false;
    if (this.#queue.length >= this.#opts.maxQueue) {
      this.#stats.dropped += 1;
      if (this.#stats.dropped === 1 || this.#stats.dropped % 100 === 0) {
        this.#opts.log.warn({ webhook: this.#shown, dropped: this.#stats.dropped }, 'events webhook queue full; events dropped');
      }
      return false;
    }
    this.#queue.push({ id: randomUUID(), type, timestamp: Date.now(), data });
    if (!this.#running) void this.#drain();
    return true;
  }

  stats(): WebhookStats {
    return { queued: this.#queue.length, ...this.#stats };
  }

  /** Resolves when everything queued was delivered or given up on, or after `timeoutMs`, whichever is first. */
  async flush(timeoutMs: number): Promise<void> {
    if (!this.#running) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise<void>((r) => this.#idle.push(r)), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  /** Stops sending; what is still queued is dropped. */
  close(): void {
    this.#closed = true;
    this.#stop.abort();
    this.#stats.dropped += this.#queue.length;
    this.#queue.length = 0;
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (!this.#closed && this.#queue.length > 0) {
        const event = this.#queue[0]!;
        const ok = await this.#deliver(event);
        if (this.#closed) return;
        this.#queue.shift();
        if (ok) this.#stats.delivered += 1;
        else this.#stats.failed += 1;
      }
    } finally {
      this.#running = false;
      for (const r of this.#idle.splice(0)) r();
    }
  }

  async #deliver(event: WebhookEvent): Promise<boolean> {
    const { maxAttempts, backoffMs, maxBackoffMs, log } = this.#opts;
    const body = JSON.stringify(event);
    for (let attempt = 1; attempt <= maxAttempts && !this.#closed; attempt++) {
      const problem = await this.#post(event, body);
      if (problem === undefined) return true;
      const last = attempt === maxAttempts;
      log.warn(
        { webhook: this.#shown, event: event.type, id: event.id, attempt, problem },
        last ? 'events webhook gave up on an event' : 'events webhook failed; retrying',
      );
      if (!last) await this.#wait(Math.min(maxBackoffMs, backoffMs * 2 ** (attempt - 1)));
    }
    return false;
  }

  /** One POST; undefined when the receiver took it (2xx), otherwise what went wrong. */
  async #post(event: WebhookEvent, body: string): Promise<string | undefined> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': 'livepeer-gateway',
      [EVENT_HEADER]: event.type,
      [DELIVERY_HEADER]: event.id,
    };
    if (this.#opts.secret) headers[SIGNATURE_HEADER] = signWebhookBody(this.#opts.secret, this.#opts.nowSeconds(), body);
    // over by the deadline (a timer held here, docs/node.md) or at close()
    const deadline = startExchangeDeadline(this.#opts.timeoutMs, this.#stop.signal);
    try {
      const res = await deadline.within(
        fetch(this.#opts.url, {
          method: 'POST',
          headers,
          body,
          // A redirect is an answer like any other non-2xx: a receiver cannot send our events elsewhere.
          redirect: 'manual',
          signal: deadline.signal,
        }),
        (late) => void late.body?.cancel().catch(() => {}),
      );
      // The answer's body is never read: a receiver cannot make us hold its bytes.
      await res.body?.cancel().catch(() => {});
      return res.status >= 200 && res.status < 300 ? undefined : `HTTP ${res.status}`;
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      return cause ? `${errorMessage(err)}: ${errorMessage(cause)}` : errorMessage(err);
    } finally {
      deadline.clear();
    }
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      const signal = this.#stop.signal;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done);
    });
  }
}
