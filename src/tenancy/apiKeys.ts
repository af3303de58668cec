// API keys on the state store. The secret is shown once, at creation; the store keeps its SHA-256 only.
// A key is 256 random bits, so a slow password hash (bcrypt, argon2) would buy nothing against guessing
// and cost CPU on every request; SHA-256 keeps a leaked store from yielding usable keys.
// Token form: `lpgw_<id>_<secret>` — the id (16 hex) finds the record, the whole token is hashed.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { StateStore } from '../store/stateStore.ts';
import { ApiKeyError, TenancyInputError } from './errors.ts';
import { type Limits, limitsFromJson, limitsToJson, type StoredLimits } from './limits.ts';

const NS_KEYS = 'tenancy.keys';
/** One record per created key: lets `list` page through every key without a scan primitive. */
const NS_KEY_LOG = 'tenancy.keylog';
const TOKEN = /^lpgw_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
/** Last-used times are written at most this often per key and instance (a write per request would be waste). */
const LAST_USED_EVERY_MS = 60_000;
const EPOCH = new Date(0);
const FAR = new Date(Date.UTC(9999, 0, 1));

export interface ApiKeyInfo {
  id: string;
  name: string;
  tier: string;
  limits: Limits;
  createdAt: Date;
  lastUsedAt?: Date;
  revokedAt?: Date;
}

interface StoredKey {
  id: string;
  name: string;
  tier: string;
  limits: StoredLimits;
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
  /** hex SHA-256 of the whole token */
  hash: string;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

function toInfo(s: StoredKey): ApiKeyInfo {
  return {
    id: s.id,
    name: s.name,
    tier: s.tier,
    limits: limitsFromJson(s.limits),
    createdAt: new Date(s.createdAt),
    ...(s.lastUsedAt ? { lastUsedAt: new Date(s.lastUsedAt) } : {}),
    ...(s.revokedAt ? { revokedAt: new Date(s.revokedAt) } : {}),
  };
}

export function isKeyId(id: string): boolean {
  return /^[0-9a-f]{16}$/.test(id);
}

export class ApiKeys {
  readonly #lastWritten = new Map<string, number>();

  constructor(private readonly store: StateStore) {}

  /** A new key; `token` is the secret, returned this once. */
  async create(opts: { name: string; tier: string; limits: Limits }): Promise<{ token: string; key: ApiKeyInfo }> {
    if (!/^[\p{L}\p{N} ._@-]{1,64}$/u.test(opts.name)) throw new TenancyInputError('a key name is 1–64 letters, digits, spaces or . _ @ -');
    for (;;) {
      const id = randomBytes(8).toString('hex');
      const token = `lpgw_${id}_${randomBytes(32).toString('base64url')}`;
      const stored: StoredKey = {
        id,
        name: opts.name,
        tier: opts.tier,
        limits: limitsToJson(opts.limits),
        createdAt: new Date().toISOString(),
        hash: sha256(token).toString('hex'),
      };
      const res = await this.store.kv.compareAndSet(NS_KEYS, id, 0, JSON.stringify(stored));
      if (!res.ok) continue; // 64-bit id collision: draw again
      await this.store.records.append(NS_KEY_LOG, { subject: id, amounts: {}, tags: { name: opts.name } });
      return { token, key: toInfo(stored) };
    }
  }

  async #read(id: string): Promise<{ key: StoredKey; version: number } | undefined> {
    const e = await this.store.kv.get(NS_KEYS, id);
    return e ? { key: JSON.parse(e.value) as StoredKey, version: e.version } : undefined;
  }

  async get(id: string): Promise<ApiKeyInfo | undefined> {
    if (!isKeyId(id)) return undefined;
    const r = await this.#read(id);
    return r ? toInfo(r.key) : undefined;
  }

  async list(): Promise<ApiKeyInfo[]> {
    const out: ApiKeyInfo[] = [];
    let after: { at: Date; id: string } | undefined;
    for (;;) {
      const page = await this.store.records.list({ ns: NS_KEY_LOG, from: EPOCH, to: FAR, ...(after ? { after } : {}) });
      for (const r of page) {
        const k = await this.get(r.subject);
        if (k) out.push(k);
      }
      if (page.length === 0) return out;
      const last = page[page.length - 1]!;
      after = { at: last.at, id: last.id };
    }
  }

  /** Marks a key revoked (it stays listed, for invoices); false when there is no such key. */
  async revoke(id: string): Promise<boolean> {
    if (!isKeyId(id)) return false;
    for (;;) {
      const r = await this.#read(id);
      if (!r) return false;
      if (r.key.revokedAt) return true;
      const next = { ...r.key, revokedAt: new Date().toISOString() };
      if ((await this.store.kv.compareAndSet(NS_KEYS, id, r.version, JSON.stringify(next))).ok) {
        this.#lastWritten.delete(id);
        return true;
      }
    }
  }

  /** The key a bearer token names; ApiKeyError when it is malformed, unknown or revoked. */
  async verify(token: string): Promise<ApiKeyInfo> {
    const m = TOKEN.exec(token);
    if (!m) throw new ApiKeyError('the API key is not valid', 'API_KEY_INVALID');
    const r = await this.#read(m[1]!);
    // the same answer for an unknown id and a wrong secret: ids are not an oracle
    if (!r || !timingSafeEqual(Buffer.from(r.key.hash, 'hex'), sha256(token))) throw new ApiKeyError('the API key is not valid', 'API_KEY_INVALID');
    if (r.key.revokedAt) throw new ApiKeyError('the API key was revoked', 'API_KEY_REVOKED');
    this.#touch(r.key.id, r.version);
    return toInfo(r.key);
  }

  /** Records "last used" now and then; a lost race just means another instance wrote it. */
  #touch(id: string, version: number): void {
    const now = Date.now();
    if (now - (this.#lastWritten.get(id) ?? 0) < LAST_USED_EVERY_MS) return;
    this.#lastWritten.set(id, now);
    void (async () => {
      const r = await this.#read(id);
      if (!r || r.key.revokedAt || r.version < version) return;
      await this.store.kv.compareAndSet(NS_KEYS, id, r.version, JSON.stringify({ ...r.key, lastUsedAt: new Date(now).toISOString() }));
    })().catch(() => {});
  }
}
