// The dashboard's login sessions: random 256-bit ids handed out as an HttpOnly cookie, kept in memory
// with an expiry. Bounded: at most `max` sessions (a new login pushes out the oldest), expired ones are
// reaped whenever the table is touched. Only a hash of each id is kept, so the table itself holds no
// usable credential. A restart logs everyone out, which is fine for an operator's page.
import { createHash, randomBytes } from 'node:crypto';

export interface SessionTableOptions {
  /** how long a session lives (default 12 h) */
  ttlMs?: number;
  /** sessions kept at most (default 64) */
  max?: number;
  /** clock, for tests */
  now?: () => number;
}

const key = (id: string): string => createHash('sha256').update(id, 'utf8').digest('base64url');
/** base64url of 32 random bytes */
const ID_FORMAT = /^[A-Za-z0-9_-]{43}$/;

export class SessionTable {
  /** hash of id → expiry (ms), oldest first */
  readonly #sessions = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(opts: SessionTableOptions = {}) {
    this.#ttlMs = opts.ttlMs ?? 12 * 3600_000;
    this.#max = opts.max ?? 64;
    this.#now = opts.now ?? Date.now;
  }

  /** Seconds a new session lives (the cookie's Max-Age). */
  get ttlSeconds(): number {
    return Math.floor(this.#ttlMs / 1000);
  }

  get size(): number {
    this.#reap();
    return this.#sessions.size;
  }

  /** A new session id. */
  create(): string {
    this.#reap();
    while (this.#sessions.size >= this.#max) this.#sessions.delete(this.#sessions.keys().next().value as string);
    const id = randomBytes(32).toString('base64url');
    this.#sessions.set(key(id), this.#now() + this.#ttlMs);
    return id;
  }

  /** Whether `id` names a session that has not expired. */
  valid(id: string): boolean {
    if (!ID_FORMAT.test(id)) return false;
    this.#reap();
    return this.#sessions.has(key(id));
  }

  /** Ends a session (logout); unknown ids are ignored. */
  delete(id: string): void {
    if (ID_FORMAT.test(id)) this.#sessions.delete(key(id));
  }

  #reap(): void {
    const now = this.#now();
    for (const [k, expires] of this.#sessions) if (expires <= now) this.#sessions.delete(k);
  }
}
