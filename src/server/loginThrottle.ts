// Guessing the -cliToken through the login form is slowed down: a client address gets a few failed
// attempts per window, then 429 until the window ends; and all addresses together get a larger budget, so
// many addresses do not multiply the guesses. The table of addresses is bounded (the oldest entry goes).
// An IPv6 client counts by its /64, where it may pick any address (lib/peerBlock.ts).
import { peerBlock } from '../lib/peerBlock.ts';

export interface LoginThrottleOptions {
  /** failed attempts one address may make per window (default 5) */
  perAddress?: number;
  /** failed attempts all addresses together may make per window (default 50) */
  total?: number;
  /** window length (default 60 s) */
  windowMs?: number;
  /** addresses tracked at most (default 1024) */
  maxAddresses?: number;
  now?: () => number;
}

interface Window {
  start: number;
  failures: number;
}

export class LoginThrottle {
  readonly #addresses = new Map<string, Window>();
  readonly #total: Window = { start: 0, failures: 0 };
  readonly #perAddress: number;
  readonly #totalLimit: number;
  readonly #windowMs: number;
  readonly #maxAddresses: number;
  readonly #now: () => number;

  constructor(opts: LoginThrottleOptions = {}) {
    this.#perAddress = opts.perAddress ?? 5;
    this.#totalLimit = opts.total ?? 50;
    this.#windowMs = opts.windowMs ?? 60_000;
    this.#maxAddresses = opts.maxAddresses ?? 1024;
    this.#now = opts.now ?? Date.now;
  }

  /** Seconds until `address` may try again, or 0 when it may try now. */
  retryAfterSeconds(address: string): number {
    const now = this.#now();
    const w = this.#current(this.#addresses.get(peerBlock(address)), now);
    const t = this.#current(this.#total, now);
    let until = 0;
    if (w && w.failures >= this.#perAddress) until = w.start + this.#windowMs;
    if (t && t.failures >= this.#totalLimit) until = Math.max(until, t.start + this.#windowMs);
    return until > now ? Math.ceil((until - now) / 1000) : 0;
  }

  /** Counts a failed attempt. */
  failed(address: string): void {
    const now = this.#now();
    const peer = peerBlock(address);
    let w = this.#current(this.#addresses.get(peer), now);
    if (!w) {
      this.#addresses.delete(peer);
      while (this.#addresses.size >= this.#maxAddresses) this.#addresses.delete(this.#addresses.keys().next().value as string);
      w = { start: now, failures: 0 };
      this.#addresses.set(peer, w);
    }
    w.failures++;
    if (!this.#current(this.#total, now)) Object.assign(this.#total, { start: now, failures: 0 });
    this.#total.failures++;
  }

  /** A successful login clears the address's failures. */
  succeeded(address: string): void {
    this.#addresses.delete(peerBlock(address));
  }

  #current(w: Window | undefined, now: number): Window | undefined {
    return w && now - w.start < this.#windowMs ? w : undefined;
  }
}
