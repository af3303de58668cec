// Tiers and the limits a key (or the anonymous tier) runs under. A key stores its resolved limits, so
// changing a tier's defaults later does not silently change keys already handed out.
import { parseWei } from '../lib/wei.ts';
import { TenancyInputError } from './errors.ts';

export interface Limits {
  /** requests per UTC minute (AI requests and HTTP push segments each count one); none = unlimited */
  requestsPerMinute?: number;
  /** live streams at once over every instance */
  concurrentStreams?: number;
  /** spend (tickets' expected value) per UTC day / calendar month, wei */
  spendPerDayWei?: bigint;
  spendPerMonthWei?: bigint;
  /**
   * The same caps in micro-USD (10⁻⁶ USD), turned into wei at check time with the ETH/USD price feed.
   * A period has a wei cap or a USD cap, never both.
   */
  spendPerDayMicroUsd?: bigint;
  spendPerMonthMicroUsd?: bigint;
}

export const MICRO_USD_PER_USD = 1_000_000n;

/** A cap with a USD suffix ("5USD", "0.25 usd"): exact micro-USD. */
const USD_CAP = /^(\d{1,15})(?:\.(\d{1,6}))?\s*usd$/i;

/** micro-USD as "5.25USD" (trailing zeros dropped). */
export function formatMicroUsd(micro: bigint): string {
  const whole = micro / MICRO_USD_PER_USD;
  const frac = (micro % MICRO_USD_PER_USD).toString().padStart(6, '0').replace(/0+$/, '');
  return `${whole}${frac ? `.${frac}` : ''}USD`;
}

export const TIERS: Readonly<Record<string, Limits>> = {
  free: { requestsPerMinute: 10, concurrentStreams: 1, spendPerDayWei: 10n ** 16n, spendPerMonthWei: 10n ** 17n },
  standard: { requestsPerMinute: 120, concurrentStreams: 5, spendPerDayWei: 10n ** 18n, spendPerMonthWei: 10n ** 19n },
  unlimited: {},
};

export const MAX_RATE = 1_000_000;

function positiveInt(name: string, v: string): number {
  if (!/^\d{1,7}$/.test(v) || Number(v) < 1 || Number(v) > MAX_RATE)
    throw new TenancyInputError(`${name} must be a whole number from 1 to ${MAX_RATE}, got "${v}"`);
  return Number(v);
}

function wei(name: string, v: string): bigint {
  if (v.length > 78) throw new TenancyInputError(`${name} is too large`);
  try {
    return parseWei(name, v);
  } catch (err) {
    throw new TenancyInputError((err as Error).message);
  }
}

/** A spend cap: wei ("10000000000000000") or USD ("5USD", up to 6 decimals). */
function spendCap(name: string, v: string): { wei: bigint } | { microUsd: bigint } {
  const t = v.trim();
  if (/usd$/i.test(t)) {
    const m = USD_CAP.exec(t);
    if (!m) throw new TenancyInputError(`${name} "${v.slice(0, 40)}" is not an amount of USD (e.g. 5USD or 0.25USD; at most 6 decimals)`);
    return { microUsd: BigInt(m[1]!) * MICRO_USD_PER_USD + BigInt((m[2] ?? '').padEnd(6, '0')) };
  }
  return { wei: wei(name, t) };
}

function applyCap(out: Limits, period: 'Day' | 'Month', name: string, v: string): void {
  const cap = spendCap(name, v);
  delete out[`spendPer${period}Wei`];
  delete out[`spendPer${period}MicroUsd`];
  if ('wei' in cap) out[`spendPer${period}Wei`] = cap.wei;
  else out[`spendPer${period}MicroUsd`] = cap.microUsd;
}

/** A tier's limits with explicit overrides (strings from the command line; "" = keep the tier's). */
export function resolveLimits(
  tier: string,
  overrides: { requestsPerMinute?: string; concurrentStreams?: string; spendPerDay?: string; spendPerMonth?: string } = {},
): Limits {
  const base = TIERS[tier];
  if (!base || !Object.hasOwn(TIERS, tier)) throw new TenancyInputError(`unknown tier "${tier}"; tiers are ${Object.keys(TIERS).join(', ')}`);
  const out: Limits = { ...base };
  if (overrides.requestsPerMinute) out.requestsPerMinute = positiveInt('requests per minute', overrides.requestsPerMinute);
  if (overrides.concurrentStreams) out.concurrentStreams = positiveInt('concurrent streams', overrides.concurrentStreams);
  if (overrides.spendPerDay) applyCap(out, 'Day', 'the daily spend cap', overrides.spendPerDay);
  if (overrides.spendPerMonth) applyCap(out, 'Month', 'the monthly spend cap', overrides.spendPerMonth);
  return out;
}

/** JSON form (wei as decimal strings). */
export interface StoredLimits {
  requestsPerMinute?: number;
  concurrentStreams?: number;
  spendPerDayWei?: string;
  spendPerMonthWei?: string;
  spendPerDayMicroUsd?: string;
  spendPerMonthMicroUsd?: string;
}

export function limitsToJson(l: Limits): StoredLimits {
  return {
    ...(l.requestsPerMinute !== undefined ? { requestsPerMinute: l.requestsPerMinute } : {}),
    ...(l.concurrentStreams !== undefined ? { concurrentStreams: l.concurrentStreams } : {}),
    ...(l.spendPerDayWei !== undefined ? { spendPerDayWei: String(l.spendPerDayWei) } : {}),
    ...(l.spendPerMonthWei !== undefined ? { spendPerMonthWei: String(l.spendPerMonthWei) } : {}),
    ...(l.spendPerDayMicroUsd !== undefined ? { spendPerDayMicroUsd: String(l.spendPerDayMicroUsd) } : {}),
    ...(l.spendPerMonthMicroUsd !== undefined ? { spendPerMonthMicroUsd: String(l.spendPerMonthMicroUsd) } : {}),
  };
}

export function limitsFromJson(j: StoredLimits): Limits {
  return {
    ...(j.requestsPerMinute !== undefined ? { requestsPerMinute: j.requestsPerMinute } : {}),
    ...(j.concurrentStreams !== undefined ? { concurrentStreams: j.concurrentStreams } : {}),
    ...(j.spendPerDayWei !== undefined ? { spendPerDayWei: BigInt(j.spendPerDayWei) } : {}),
    ...(j.spendPerMonthWei !== undefined ? { spendPerMonthWei: BigInt(j.spendPerMonthWei) } : {}),
    ...(j.spendPerDayMicroUsd !== undefined ? { spendPerDayMicroUsd: BigInt(j.spendPerDayMicroUsd) } : {}),
    ...(j.spendPerMonthMicroUsd !== undefined ? { spendPerMonthMicroUsd: BigInt(j.spendPerMonthMicroUsd) } : {}),
  };
}
