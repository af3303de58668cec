// Expected value of tickets and the fee a segment is expected to cost (go-livepeer's estimateFee).
import { GatewayError } from '../lib/errors.ts';
import { ceil, cmp, div, isZero, mul, rat, ratFromFloat64, sub, type Rat, ZERO } from '../lib/rat.ts';

/** Both go-livepeer and the contract docs scale winProb to 2^256 − 1. */
export const MAX_WIN_PROB = (1n << 256n) - 1n;

/** go-livepeer pads the pixel estimate by 2% (a float64 1.02, kept exact here). */
export const PIXEL_ESTIMATE_MULTIPLIER: Rat = ratFromFloat64(1.02);

/** A frame rate of 0 means "pass the source rate through"; the estimate then assumes 60 fps. */
export const ASSUMED_FPS_WHEN_UNSET = 60n;

/** EV = faceValue × winProb / (2^256 − 1), exact. */
export function ticketEV(faceValue: bigint, winProb: bigint): Rat {
  return rat(faceValue * winProb, MAX_WIN_PROB);
}

/** A quoted price that means nothing: per zero pixels, or negative. */
export class PriceError extends GatewayError {
  constructor(message: string) {
    super(message, { code: 'INVALID_PRICE' });
  }
}

/** Price per pixel = pricePerUnit / pixelsPerUnit, exact. */
export function pricePerPixel(pricePerUnit: bigint, pixelsPerUnit: bigint): Rat {
  if (pixelsPerUnit === 0n) throw new PriceError('pixels per unit is 0');
  // int64 on the wire: an orchestrator can send either sign; a negative price is no price
  if (pixelsPerUnit < 0n || pricePerUnit < 0n) throw new PriceError(`negative price: ${pricePerUnit} wei per ${pixelsPerUnit} pixels`);
  return rat(pricePerUnit, pixelsPerUnit);
}

export interface FeeProfile {
  width: number;
  height: number;
  /** numerator; 0 = source rate */
  fps: number;
  /** 0 = integer fps */
  fpsDen: number;
}

/** Output pixels go-livepeer expects for a segment: Σ W×H×ceil(fps/fpsDen)×ceil(duration s). */
export function estimatePixels(profiles: readonly FeeProfile[], durationMs: number): bigint {
  const seconds = ceil(rat(BigInt(Math.max(0, Math.round(durationMs))), 1000n));
  let pixels = 0n;
  for (const p of profiles) {
    const fps = p.fps === 0 ? ASSUMED_FPS_WHEN_UNSET : BigInt(p.fps);
    const den = p.fpsDen === 0 ? 1n : BigInt(p.fpsDen);
    pixels += BigInt(p.width) * BigInt(p.height) * ceil(rat(fps, den)) * seconds;
  }
  return pixels;
}

/** Fee estimate in wei (rational): pixels × 1.02 × price per pixel. */
export function estimateFee(profiles: readonly FeeProfile[], durationMs: number, price: Rat): Rat {
  return mul(mul(rat(estimatePixels(profiles, durationMs)), PIXEL_ESTIMATE_MULTIPLIER), price);
}

/**
 * How many tickets cover `minCredit` on top of `existingCredit`, given each ticket's EV.
 * The orchestrator wants at least one ticket's EV, so minCredit is raised to ev.
 */
export function ticketsNeeded(minCredit: Rat, existingCredit: Rat, ev: Rat): number {
  if (isZero(ev)) return 0;
  const need = cmp(minCredit, ev) < 0 ? ev : minCredit;
  if (cmp(existingCredit, need) >= 0) return 0;
  const n = ceil(div(sub(need, existingCredit), ev));
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('ticket count out of range');
  return Number(n);
}

export { ZERO };
