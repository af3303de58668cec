// What a live-payment call bills and the price ceilings it must respect (docs/remote-signer.md §3):
// units per billing type on the signer's clock, the `maxPrice` objects of callers and of the auth
// webhook, and the lowest of all ceilings against the orchestrator's price.
import { cmp, rat, ratToDecimal, type Rat } from '../lib/rat.ts';

/** 1280 × 720 × 30: the pixels per second of live video-to-video. */
export const LV2V_PIXELS_PER_SECOND = 27_648_000n;

/** Billing types go-livepeer's clients send; "" = `inPixels` units (AI jobs; our video extension). */
export const BILLING_TYPES = ['lv2v', 'live', 'fixed', ''] as const;
export type BillingType = (typeof BILLING_TYPES)[number];

export function isBillingType(t: string): t is BillingType {
  return (BILLING_TYPES as readonly string[]).includes(t);
}

/**
 * Units to bill now. `elapsedMs` = now − the state's LastUpdate, undefined for a new session (or one
 * whose clock went backwards): lv2v then prepays 60 s, live 10 s.
 */
export function billableUnits(type: BillingType, elapsedMs: number | undefined, inPixels: bigint): bigint {
  const ms = elapsedMs !== undefined && elapsedMs > 0 ? BigInt(Math.floor(elapsedMs)) : undefined;
  switch (type) {
    case 'lv2v':
      // 27 648 000 pixels per second is exactly 27 648 per millisecond
      return ms === undefined ? LV2V_PIXELS_PER_SECOND * 60n : (LV2V_PIXELS_PER_SECOND / 1000n) * ms;
    case 'live':
      return ms === undefined ? 10n : (ms + 999n) / 1000n;
    case 'fixed':
      return 1n;
    case '':
      return inPixels;
  }
}

const UNITS: Record<string, string> = { lv2v: '720p-pixel-seconds', live: 'seconds', fixed: 'fixed' };

export class MaxPriceFieldError extends Error {}

/** big.Rat.SetString's forms: "12", "1.5", "3/2", "1e3". */
export function parseDecimalRat(text: string): Rat | undefined {
  const t = text.trim();
  let m = /^(-?\d+)\/(\d+)$/.exec(t);
  if (m) return BigInt(m[2]!) === 0n ? undefined : rat(BigInt(m[1]!), BigInt(m[2]!));
  m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/.exec(t);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const digits = BigInt(`${m[1]}${m[2] || '0'}${m[3] ?? ''}`);
  const exp = Number(m[4] ?? '0') - (m[3]?.length ?? 0);
  return exp >= 0 ? rat(digits * 10n ** BigInt(exp)) : rat(digits, 10n ** BigInt(-exp));
}

/** A caller's or the webhook's `maxPrice` as wei per unit; throws MaxPriceFieldError with go-livepeer's words. */
export function parseMaxPriceField(maxPrice: { price: string; currency: string; unit: string }, type: string): Rat {
  const price = parseDecimalRat(maxPrice.price);
  if (!price || price.num <= 0n) throw new MaxPriceFieldError('maxPrice.price must be a positive decimal');
  if (maxPrice.currency.trim().toLowerCase() !== 'wei') throw new MaxPriceFieldError('maxPrice.currency must be wei');
  const expected = UNITS[type];
  if (!expected) throw new MaxPriceFieldError('maxPrice requires payment type live, lv2v, or fixed');
  if (maxPrice.unit.trim().toLowerCase() !== expected) throw new MaxPriceFieldError(`maxPrice.unit must be ${expected} for payment type ${type}`);
  return price;
}

export interface PriceCeiling {
  source: string;
  price: Rat | undefined;
}

/** The message of the lowest ceiling the price is above, or undefined when it is within all of them. */
export function priceAboveCeiling(orchPrice: Rat, ceilings: readonly PriceCeiling[]): string | undefined {
  let lowest: PriceCeiling | undefined;
  for (const c of ceilings) {
    if (!c.price || c.price.num <= 0n) continue;
    if (!lowest || cmp(c.price, lowest.price!) < 0) lowest = c;
  }
  if (lowest && cmp(orchPrice, lowest.price!) > 0) {
    return `orchestrator price ${ratToDecimal(orchPrice, 3)} exceeds ${lowest.source} ceiling ${ratToDecimal(lowest.price!, 3)}`;
  }
  return undefined;
}
