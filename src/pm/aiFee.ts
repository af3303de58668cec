// What an AI job costs: units (docs/ai.md, per pipeline) × the orchestrator's price, where for AI
// pricePerUnit/pixelsPerUnit is wei per pipeline unit. Exact, with no padding factor (video pads by 2 %).
import { mul, rat, type Rat } from '../lib/rat.ts';
import type { PriceInfo } from '../wire/lpRpc.ts';
import { pricePerPixel } from './ev.ts';

/** Wei per unit quoted in a PriceInfo; 0 when there is none (off-chain, or a free orchestrator). */
export function pricePerAiUnit(p: PriceInfo | undefined): Rat {
  if (!p?.pixelsPerUnit) return rat(0n);
  return pricePerPixel(p.pricePerUnit ?? 0n, p.pixelsPerUnit);
}

/** fee = units × price, wei (exact rational). */
export function aiFee(units: bigint, price: Rat): Rat {
  if (units < 0n) throw new RangeError('AI units must be ≥ 0');
  return mul(rat(units), price);
}
