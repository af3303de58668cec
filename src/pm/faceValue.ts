// The face value an orchestrator offers a sender and the win probability that goes with it, as
// go-livepeer's recipient and sender monitor compute them (docs/payments.md, max float). Written
// once: the deposit command explains it to broadcasters, the devnet orchestrator hands it out.
import { MAX_WIN_PROB } from './ev.ts';

/** Gas of one ticket redemption as orchestrators estimate it (go-livepeer `-redeemGas` defaults). */
export const REDEEM_GAS_ARBITRUM = 1_200_000n;
export const REDEEM_GAS_L1 = 350_000n;
/** Orchestrators aim for face values of 100 × one redemption's cost… */
export const TX_COST_MULTIPLIER = 100n;
/** …or 100 × their ticket EV when that cost is below the EV. */
export const EV_MULTIPLIER = 100n;
/** A face value below both the redemption cost and redeemGas × 3 gwei is refused (go-livepeer's avgGasPrice). */
export const MIN_GAS_PRICE_FLOOR = 3_000_000_000n;
/** While deposit ÷ pending redemptions stays at or above this, pending tickets do not shrink the float. */
export const MIN_DEPOSIT_PENDING_RATIO = 3n;

/** go-livepeer's default `-redeemGas` for the chain. */
export function redeemGasFor(arbitrum: boolean): bigint {
  return arbitrum ? REDEEM_GAS_ARBITRUM : REDEEM_GAS_L1;
}

/** What one redemption costs in wei. */
export function redemptionCost(redeemGas: bigint, gasPrice: bigint): bigint {
  return redeemGas * gasPrice;
}

/** The face value aimed for before any reserve cap: cost × 100, or EV × 100 when that is below the EV. */
export function targetFaceValue(redeemGas: bigint, gasPrice: bigint, ticketEV = 0n): bigint {
  const faceValue = redemptionCost(redeemGas, gasPrice) * TX_COST_MULTIPLIER;
  return faceValue < ticketEV ? ticketEV * EV_MULTIPLIER : faceValue;
}

/** The smallest face value worth redeeming: min(redemption cost, redeemGas × 3 gwei). */
export function minRedeemableFaceValue(redeemGas: bigint, gasPrice: bigint): bigint {
  const txCost = redemptionCost(redeemGas, gasPrice);
  const floor = redeemGas * MIN_GAS_PRICE_FLOOR;
  return txCost < floor ? txCost : floor;
}

/** The sender monitor's max float: the reserve share, less pending redemptions once they weigh on the deposit. */
export function maxFloat(reserveShare: bigint, deposit: bigint, pending: bigint): bigint {
  if (pending === 0n || deposit / pending >= MIN_DEPOSIT_PENDING_RATIO) return reserveShare;
  return reserveShare - pending;
}

export interface FaceValueInput {
  /** -ticketEV, wei */
  ticketEV: bigint;
  redeemGas: bigint;
  gasPrice: bigint;
  /** maxFloat() for this sender */
  maxFloat: bigint;
  /** -maxFaceValue, wei; 0 = no cap */
  maxFaceValue?: bigint;
}

/** The face value to offer, or why none can be (go-livepeer answers both with "insufficient sender reserve"). */
export type FaceValueOffer = { ok: true; faceValue: bigint } | { ok: false; faceValue: bigint; reason: 'below-ticket-ev' | 'below-redemption-cost' };

export function offerFaceValue(input: FaceValueInput): FaceValueOffer {
  let faceValue = targetFaceValue(input.redeemGas, input.gasPrice, input.ticketEV);
  if (faceValue > input.maxFloat) faceValue = input.maxFloat;
  if (input.maxFaceValue && input.maxFaceValue > 0n && faceValue > input.maxFaceValue) faceValue = input.maxFaceValue;
  if (faceValue < input.ticketEV) return { ok: false, faceValue, reason: 'below-ticket-ev' };
  if (faceValue < minRedeemableFaceValue(input.redeemGas, input.gasPrice)) {
    return { ok: false, faceValue, reason: 'below-redemption-cost' };
  }
  return { ok: true, faceValue };
}

/** go-livepeer's winProb for a face value: EV × ceil((2^256 − 1) / faceValue); 2^256 − 1 when faceValue = EV. */
export function winProbFor(faceValue: bigint, ticketEV: bigint): bigint {
  if (faceValue === 0n) return 0n;
  if (faceValue === ticketEV) return MAX_WIN_PROB;
  const q = MAX_WIN_PROB / faceValue;
  return MAX_WIN_PROB % faceValue !== 0n ? ticketEV * (q + 1n) : ticketEV * q;
}
