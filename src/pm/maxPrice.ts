// The most a gateway pays per pixel: -maxPricePerUnit / -pixelsPerUnit, in wei or in a fiat currency
// converted at the current ETH price.
import { div, mul, rat, type Rat } from '../lib/rat.ts';
import { GatewayError } from '../lib/errors.ts';

export interface MaxPriceSpec {
  /** price per unit, in wei or in `currency` */
  amount: Rat;
  /** undefined = wei */
  currency?: 'USD';
  pixelsPerUnit: bigint;
}

export class MaxPriceError extends GatewayError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { code: 'MAX_PRICE_INVALID', cause: opts.cause });
  }
}

const WEI_PER_ETH = rat(10n ** 18n);

/** "1200" (wei), "0.5USD", "0.0000026 usd"; decimal amounts are kept exact. */
export function parseMaxPricePerUnit(value: string, pixelsPerUnit: bigint): MaxPriceSpec {
  const m = /^\s*(\d+)(?:\.(\d+))?\s*([A-Za-z]*)\s*$/.exec(value);
  if (!m) throw new MaxPriceError(`"${value}" is not a price (examples: 1200 for wei, 0.5USD)`);
  if (pixelsPerUnit <= 0n) throw new MaxPriceError('-pixelsPerUnit must be > 0');
  const amount = rat(BigInt(m[1]! + (m[2] ?? '')), 10n ** BigInt(m[2]?.length ?? 0));
  const currency = m[3]!.toUpperCase();
  // livepeer_cli sends currency "Wei" unless the operator types another
  if (!currency || currency === 'WEI') {
    if (m[2]) throw new MaxPriceError(`"${value}": a price in wei must be a whole number`);
    return { amount, pixelsPerUnit };
  }
  if (currency !== 'USD') throw new MaxPriceError(`"${value}": only USD prices are supported (through the ETH/USD feed); give other prices in wei`);
  return { amount, currency: 'USD', pixelsPerUnit };
}

/** Wei per pixel; undefined when there is no cap (0) or a currency price has no ETH price yet. */
export function maxPricePerPixel(spec: MaxPriceSpec, usdPerEth?: Rat): Rat | undefined {
  if (spec.amount.num === 0n) return undefined;
  const perPixel = div(spec.amount, rat(spec.pixelsPerUnit));
  if (!spec.currency) return perPixel;
  if (!usdPerEth || usdPerEth.num <= 0n) return undefined;
  return mul(div(perPixel, usdPerEth), WEI_PER_ETH);
}
