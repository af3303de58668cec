// Choosing an orchestrator for a stream among untried ones (go-livepeer's ProbabilitySelectionAlgorithm):
// filter by max price, then draw by a weighted mix of stake, price and chance.
// Probabilities are floats: they steer a random draw, they never count money.
import { cmp, type Rat } from '../lib/rat.ts';
import { GatewayError } from '../lib/errors.ts';

export interface SelectionWeights {
  stake: number;
  price: number;
  random: number;
  /** -selectPriceExpFactor */
  priceExpFactor: number;
}

export const DEFAULT_SELECTION_WEIGHTS: SelectionWeights = { stake: 0.7, price: 0, random: 0.3, priceExpFactor: 100 };

export class SelectionWeightsError extends GatewayError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { code: 'SELECTION_WEIGHTS_INVALID', cause: opts.cause });
  }
}

export function checkWeights(w: SelectionWeights): void {
  for (const [k, v] of Object.entries(w)) {
    if (!Number.isFinite(v) || v < 0) throw new SelectionWeightsError(`selection weight ${k} must be a number ≥ 0, got ${v}`);
  }
  const sum = w.stake + w.price + w.random;
  if (Math.abs(sum - 1) > 1e-4) {
    throw new SelectionWeightsError(
      `-selectStakeWeight (${w.stake}) + -selectPriceWeight (${w.price}) + -selectRandFreq (${w.random}) must sum to 1, got ${sum}`,
    );
  }
}

export interface SelectionCandidate {
  key: string;
  /** LPT wei */
  stake: bigint;
  /** wei per pixel; undefined = unknown */
  price?: Rat;
}

export interface PriceFilterResult<T> {
  kept: T[];
  /** candidate key → why it was dropped */
  dropped: Map<string, string>;
}

/**
 * Keeps candidates whose price ≤ maxPrice (inclusive). Applies only when a max price is set and at
 * least one price is known; unknown prices are dropped then. If nothing is left and
 * ignoreMaxPriceIfNeeded is set, everything is kept.
 */
export function filterByMaxPrice<T extends SelectionCandidate>(
  cands: readonly T[],
  maxPrice: Rat | undefined,
  ignoreMaxPriceIfNeeded = false,
): PriceFilterResult<T> {
  const dropped = new Map<string, string>();
  if (!maxPrice || maxPrice.num <= 0n || !cands.some((c) => c.price)) return { kept: [...cands], dropped };
  const kept = cands.filter((c) => {
    if (!c.price) dropped.set(c.key, 'price unknown while a max price is set');
    else if (cmp(c.price, maxPrice) > 0) dropped.set(c.key, 'price above -maxPricePerUnit/-pixelsPerUnit');
    else return true;
    return false;
  });
  if (kept.length === 0 && ignoreMaxPriceIfNeeded) return { kept: [...cands], dropped: new Map() };
  return { kept, dropped };
}

const ratToFloat = (r: Rat): number => Number(r.num) / Number(r.den);

/** LPT × 10^5 as an integer, as go-livepeer weighs stake. */
const stakeUnits = (stake: bigint): number => Number(stake / 10n ** 13n);

export function selectionProbabilities(cands: readonly SelectionCandidate[], w: SelectionWeights): Map<string, number> {
  const priceNorm = cands.map((c) => Math.exp(-(c.price ? ratToFloat(c.price) : 0) / w.priceExpFactor));
  const priceSum = priceNorm.reduce((a, b) => a + b, 0);
  const stakes = cands.map((c) => stakeUnits(c.stake));
  const stakeSum = stakes.reduce((a, b) => a + b, 0);
  const probs = new Map<string, number>();
  cands.forEach((c, i) => {
    const priceProb = priceSum !== 0 ? priceNorm[i]! / priceSum : 1;
    const stakeProb = stakeSum !== 0 ? stakes[i]! / stakeSum : 1;
    probs.set(c.key, w.price * priceProb + w.stake * stakeProb + w.random / cands.length);
  });
  return probs;
}

/** Roulette wheel over the probabilities; `rand` in [0, 1). Falls back to the first candidate. */
export function drawCandidate<T extends SelectionCandidate>(cands: readonly T[], w: SelectionWeights, rand: number = Math.random()): T | undefined {
  if (cands.length === 0) return undefined;
  const probs = selectionProbabilities(cands, w);
  let cumulative = 0;
  for (const c of cands) {
    cumulative += probs.get(c.key) ?? 0;
    if (rand <= cumulative) return c;
  }
  return cands[0];
}
