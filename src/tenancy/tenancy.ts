// The managed-provider checks a face runs before it spends anything: who is calling (API key, or an
// anonymous client address), whether the spend caps leave room, one more request this minute — each an
// atomic step on the state store, so every gateway instance on one PostgreSQL enforces the same limits.
// After a paid job, its cost is charged to the caller and recorded for invoices.
import type { StateStore } from '../store/stateStore.ts';
import { ApiKeys } from './apiKeys.ts';
import type { TrustedProxies } from './clientAddress.ts';
import { ApiKeyError, LimitReachedError, SpendCapError } from './errors.ts';
import type { Limits } from './limits.ts';
import { evScaled, EV_SCALE, type PaidJob, recordPaidJob } from './usage.ts';

export type ApiKeyMode = 'off' | 'optional' | 'required';

export const API_KEY_MODES: readonly ApiKeyMode[] = ['off', 'optional', 'required'];

/** Who a request or stream is billed to. */
export interface Principal {
  /** API key id, or `anon:<client address>` */
  readonly subject: string;
  readonly keyId?: string;
  readonly name: string;
  readonly limits: Limits;
}

export interface TenancyOptions {
  store: StateStore;
  mode: Exclude<ApiKeyMode, 'off'>;
  proxies: TrustedProxies;
  /** requests per minute per anonymous client address (mode optional) */
  anonymousRequestsPerMinute: number;
}

const NS_RPM = 'tenancy.rpm';
const NS_SPEND = 'tenancy.spend';
const NS_STREAMS = 'tenancy.streams';
/** A stream's slot lives this long past its last renewal: an instance that died frees it by then. */
export const STREAM_SLOT_TTL_MS = 60_000;
const MAX_AUTH_HEADER = 1024;

const secondsUntil = (d: Date): number => Math.max(1, Math.ceil((d.getTime() - Date.now()) / 1000));

export class Tenancy {
  readonly keys: ApiKeys;
  readonly mode: Exclude<ApiKeyMode, 'off'>;

  constructor(private readonly opts: TenancyOptions) {
    this.keys = new ApiKeys(opts.store);
    this.mode = opts.mode;
  }

  get store(): StateStore {
    return this.opts.store;
  }

  /**
   * The caller: the key in `Authorization: Bearer …`, or (keys optional, no header) the anonymous tier
   * for the client address. ApiKeyError (401) otherwise.
   */
  async identify(authorization: string | undefined, remoteAddress: string, forwardedFor: string | undefined): Promise<Principal> {
    if (authorization !== undefined && authorization !== '') {
      const m = /^Bearer +(\S+) *$/i.exec(authorization.slice(0, MAX_AUTH_HEADER + 1));
      if (!m || authorization.length > MAX_AUTH_HEADER) throw new ApiKeyError('the Authorization header must be "Bearer <API key>"', 'API_KEY_INVALID');
      const key = await this.keys.verify(m[1]!);
      return { subject: key.id, keyId: key.id, name: key.name, limits: key.limits };
    }
    if (this.mode === 'required') throw new ApiKeyError('an API key is required: send "Authorization: Bearer <API key>"', 'API_KEY_MISSING');
    const address = this.opts.proxies.clientAddress(remoteAddress, forwardedFor);
    return { subject: `anon:${address}`, name: 'anonymous', limits: { requestsPerMinute: this.opts.anonymousRequestsPerMinute, concurrentStreams: 1 } };
  }

  /** Refuses with 402 when a spend cap is reached, then counts one request against the per-minute limit (429). */
  async admit(p: Principal): Promise<void> {
    await this.checkSpend(p);
    const rpm = p.limits.requestsPerMinute;
    if (rpm === undefined) return;
    const res = await this.opts.store.counters.add([{ ns: NS_RPM, key: p.subject, period: 'minute', amount: 1n, limit: BigInt(rpm) }]);
    if (!res.ok) {
      const after = secondsUntil(res.resetsAt);
      throw new LimitReachedError(`rate limit of ${rpm} requests per minute reached; retry in ${after} s`, 'RATE_LIMITED', after);
    }
  }

  async checkSpend(p: Principal): Promise<void> {
    const caps: ['day' | 'month', bigint | undefined][] = [
      ['day', p.limits.spendPerDayWei],
      ['month', p.limits.spendPerMonthWei],
    ];
    for (const [period, cap] of caps) {
      if (cap === undefined) continue;
      const c = await this.opts.store.counters.read(NS_SPEND, p.subject, period);
      if (c.total >= cap * EV_SCALE) throw new SpendCapError(period, cap, c.total / EV_SCALE, c.resetsAt);
    }
  }

  /** What a caller spent so far this day and month, wei (rounded down). */
  async spent(subject: string): Promise<{ dayWei: bigint; monthWei: bigint }> {
    const [d, m] = await Promise.all([this.opts.store.counters.read(NS_SPEND, subject, 'day'), this.opts.store.counters.read(NS_SPEND, subject, 'month')]);
    return { dayWei: d.total / EV_SCALE, monthWei: m.total / EV_SCALE };
  }

  /**
   * A paid job happened: its EV counts against the caller's caps (unconditionally — the money is
   * already sent) and the job is recorded for invoices.
   */
  async charge(p: Principal, job: Omit<PaidJob, 'subject'>): Promise<void> {
    const ev = evScaled(job.ev);
    if (ev > 0n) {
      await this.opts.store.counters.add([
        { ns: NS_SPEND, key: p.subject, period: 'day', amount: ev },
        { ns: NS_SPEND, key: p.subject, period: 'month', amount: ev },
      ]);
    }
    await recordPaidJob(this.opts.store, { ...job, subject: p.subject });
  }

  /** Takes a concurrent-stream slot for `holder` (a stream on this instance); 429 when all are taken. */
  async acquireStream(p: Principal, holder: string): Promise<void> {
    const limit = p.limits.concurrentStreams;
    if (limit === undefined) return;
    const res = await this.opts.store.gauges.acquire(NS_STREAMS, p.subject, holder, { limit, ttlMs: STREAM_SLOT_TTL_MS });
    if (!res.ok) throw new LimitReachedError(`limit of ${limit} concurrent streams reached; end one first`, 'TOO_MANY_STREAMS', 30);
  }

  async renewStream(p: Principal, holder: string): Promise<boolean> {
    if (p.limits.concurrentStreams === undefined) return true;
    return this.opts.store.gauges.renew(NS_STREAMS, p.subject, holder, STREAM_SLOT_TTL_MS);
  }

  async releaseStream(p: Principal, holder: string): Promise<void> {
    if (p.limits.concurrentStreams === undefined) return;
    await this.opts.store.gauges.release(NS_STREAMS, p.subject, holder);
  }
}
