// The managed-provider checks a face runs before it spends anything: who is calling (API key, or an
// anonymous client address), whether the spend caps leave room, one more request this minute — each an
// atomic step on the state store, so every gateway instance on one PostgreSQL enforces the same limits.
// Before money leaves for a paid job, its cost is reserved under the caller's spend caps (so concurrent
// jobs on every instance never together pass a cap); after it, the actual cost is settled, charged to the
// caller and recorded for invoices. Caps in USD become wei at check time with the ETH/USD feed's price.
import { peerBlock } from '../lib/peerBlock.ts';
import { floor, mul, type Rat, rat } from '../lib/rat.ts';
import type { StateStore } from '../store/stateStore.ts';
import { ApiKeys } from './apiKeys.ts';
import type { TrustedProxies } from './clientAddress.ts';
import { ApiKeyError, LimitReachedError, PriceUnavailableError, SpendCapError } from './errors.ts';
import { formatMicroUsd, type Limits, MICRO_USD_PER_USD } from './limits.ts';
import { evScaled, EV_SCALE, type PaidJob, recordPaidJob } from './usage.ts';

export type ApiKeyMode = 'off' | 'optional' | 'required';

export const API_KEY_MODES: readonly ApiKeyMode[] = ['off', 'optional', 'required'];

/** Who a request or stream is billed to. */
export interface Principal {
  /** API key id, or `anon:<client address>` (an IPv6 client's /64: `anon:2001:db8:1:2::/64`) */
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
  /** the ETH/USD price for caps in USD; none (off-chain) = USD caps refuse every paid job */
  ethUsd?: () => EthUsdQuote | undefined;
  /** a feed answer older than this is stale: USD caps refuse (default PRICE_MAX_AGE_MS) */
  priceMaxAgeMs?: number;
}

/** The ETH/USD price as last read from the feed. */
export interface EthUsdQuote {
  usdPerEth: Rat;
  /** the feed's own update time, unix seconds */
  updatedAt: bigint;
  /** when this gateway read it, ms */
  readAt: number;
}

/**
 * Default bound on a feed answer's age: Chainlink's ETH/USD feed on Arbitrum One updates at least every
 * 24 h (its heartbeat; more often when the price moves 0.05 %), plus an hour of slack.
 */
export const PRICE_MAX_AGE_MS = 25 * 3_600_000;
/** A price this gateway has not managed to re-read for this long is not used either (feed unreachable). */
export const PRICE_READ_MAX_AGE_MS = 10 * 60_000;
/** A reservation not settled by then no longer holds room (the instance running the job died). */
export const RESERVATION_TTL_MS = 15 * 60_000;

/** Room held under a caller's spend caps for one job, until it is settled. */
export interface SpendReservation {
  readonly holder: string;
}

interface CapInWei {
  period: 'day' | 'month';
  wei: bigint;
  /** stated in USD */
  usd?: string;
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
    // an IPv6 caller by its /64, where it may pick any address (lib/peerBlock.ts)
    const address = peerBlock(this.opts.proxies.clientAddress(remoteAddress, forwardedFor));
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

  /** Refuses with 402 when a cap has no room left (spent plus jobs under way), 503 when a USD cap has no fresh price. */
  async checkSpend(p: Principal): Promise<void> {
    const caps = this.capsInWei(p);
    if (caps.length === 0) return;
    const held = await this.opts.store.reservations.held(NS_SPEND, p.subject);
    for (const cap of caps) {
      const c = await this.opts.store.counters.read(NS_SPEND, p.subject, cap.period);
      const used = c.total + held;
      if (used >= cap.wei * EV_SCALE) throw new SpendCapError(cap.period, cap.wei, used / EV_SCALE, c.resetsAt, cap.usd ? { usd: cap.usd } : {});
    }
  }

  /**
   * Before a job's tickets leave: holds its cost (`ev`, what the tickets are worth) under every cap of
   * the caller, atomically across instances. SpendCapError (402) when it does not fit — nothing is held
   * then; undefined when the caller has no caps (charge() counts it unconditionally).
   */
  async reserve(p: Principal, holder: string, ev: Rat): Promise<SpendReservation | undefined> {
    const caps = this.capsInWei(p);
    if (caps.length === 0) return undefined;
    const amount = evScaled(ev);
    const res = await this.opts.store.reservations.reserve({
      ns: NS_SPEND,
      key: p.subject,
      holder,
      amount,
      ttlMs: RESERVATION_TTL_MS,
      limits: caps.map((c) => ({ period: c.period, limit: c.wei * EV_SCALE })),
    });
    if (!res.ok) {
      const cap = caps.find((c) => c.period === res.period)!;
      throw new SpendCapError(cap.period, cap.wei, (res.counted + res.reserved) / EV_SCALE, res.resetsAt, {
        jobWei: amount / EV_SCALE,
        ...(cap.usd ? { usd: cap.usd } : {}),
      });
    }
    return { holder };
  }

  /** The caller's caps in wei now: USD caps at the feed's current price (PriceUnavailableError without a fresh one). */
  capsInWei(p: Principal): CapInWei[] {
    const out: CapInWei[] = [];
    const l = p.limits;
    const stated: ['day' | 'month', bigint | undefined, bigint | undefined][] = [
      ['day', l.spendPerDayWei, l.spendPerDayMicroUsd],
      ['month', l.spendPerMonthWei, l.spendPerMonthMicroUsd],
    ];
    for (const [period, wei, microUsd] of stated) {
      if (microUsd !== undefined) {
        out.push({ period, wei: this.microUsdToWei(microUsd), usd: formatMicroUsd(microUsd) });
      } else if (wei !== undefined) out.push({ period, wei });
    }
    return out;
  }

  /** micro-USD → wei, rounded down (a cap never grows by rounding). */
  private microUsdToWei(microUsd: bigint): bigint {
    const quote = this.opts.ethUsd?.();
    if (!this.opts.ethUsd)
      throw new PriceUnavailableError('this key has a spend cap in USD, but this gateway has no ETH/USD price feed (it runs off-chain); give the cap in wei');
    if (!quote) throw new PriceUnavailableError('this key has a spend cap in USD and the ETH/USD price feed (-priceFeedAddr) could not be read; retry later');
    const now = Date.now();
    const maxAge = this.opts.priceMaxAgeMs ?? PRICE_MAX_AGE_MS;
    const ageMs = now - Number(quote.updatedAt) * 1000;
    if (ageMs > maxAge || now - quote.readAt > PRICE_READ_MAX_AGE_MS)
      throw new PriceUnavailableError(
        `this key has a spend cap in USD and the ETH/USD price is stale (feed updated ${new Date(Number(quote.updatedAt) * 1000).toISOString()}, bound ${maxAge / 1000} s: -priceFeedMaxAge); retry later`,
      );
    if (quote.usdPerEth.num <= 0n) throw new PriceUnavailableError('the ETH/USD price feed reports a non-positive price');
    // wei = µUSD / 10⁶ / (USD per ETH) × 10¹⁸
    return floor(mul(rat(microUsd * 10n ** 18n, MICRO_USD_PER_USD), rat(quote.usdPerEth.den, quote.usdPerEth.num)));
  }

  /** Gives a reservation back without charging (the job's tickets never left). */
  async release(p: Principal, reservation: SpendReservation): Promise<void> {
    await this.opts.store.reservations.settle({ ns: NS_SPEND, key: p.subject, holder: reservation.holder, amount: 0n, periods: ['day', 'month'] });
  }

  /** What a caller spent so far this day and month, wei (rounded down). */
  async spent(subject: string): Promise<{ dayWei: bigint; monthWei: bigint }> {
    const [d, m] = await Promise.all([this.opts.store.counters.read(NS_SPEND, subject, 'day'), this.opts.store.counters.read(NS_SPEND, subject, 'month')]);
    return { dayWei: d.total / EV_SCALE, monthWei: m.total / EV_SCALE };
  }

  /**
   * A paid job happened: its EV counts against the caller's caps (unconditionally — the money is
   * already sent; with its reservation released in the same step) and the job is recorded for invoices.
   */
  async charge(p: Principal, job: Omit<PaidJob, 'subject'>, reservation?: SpendReservation): Promise<void> {
    const ev = evScaled(job.ev);
    if (reservation) {
      await this.opts.store.reservations.settle({ ns: NS_SPEND, key: p.subject, holder: reservation.holder, amount: ev, periods: ['day', 'month'] });
    } else if (ev > 0n) {
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
