import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_WIN_PROB, ticketEV } from '../../src/pm/ev.ts';
import {
  maxFloat,
  minRedeemableFaceValue,
  offerFaceValue,
  REDEEM_GAS_ARBITRUM,
  redeemGasFor,
  redemptionCost,
  targetFaceValue,
  winProbFor,
} from '../../src/pm/faceValue.ts';

const GWEI = 1_000_000_000n;
const EV = 8_000_000_000n;

describe('face value economics', () => {
  it('redemption gas per chain and its cost', () => {
    assert.equal(redeemGasFor(true), 1_200_000n);
    assert.equal(redeemGasFor(false), 350_000n);
    assert.equal(redemptionCost(REDEEM_GAS_ARBITRUM, GWEI / 100n), 12_000_000_000_000n);
  });

  it('aims at 100 × the redemption cost, or 100 × the EV when the cost is below the EV', () => {
    // docs/payments.md example: 0.01 gwei ⇒ txCost 1.2·10^13, target 1.2·10^15
    assert.equal(targetFaceValue(REDEEM_GAS_ARBITRUM, GWEI / 100n, EV), 1_200_000_000_000_000n);
    assert.equal(targetFaceValue(1n, 1n, EV), EV * 100n);
    // without an EV (the deposit command's estimate) only the cost counts
    assert.equal(targetFaceValue(1n, 1n), 100n);
  });

  it('the smallest redeemable face value is min(cost, redeemGas × 3 gwei)', () => {
    assert.equal(minRedeemableFaceValue(10n, GWEI), 10n * GWEI);
    assert.equal(minRedeemableFaceValue(10n, 5n * GWEI), 30n * GWEI);
  });

  it('pending redemptions shrink the float only once deposit ÷ pending drops below 3', () => {
    assert.equal(maxFloat(1000n, 300n, 0n), 1000n);
    assert.equal(maxFloat(1000n, 300n, 100n), 1000n);
    assert.equal(maxFloat(1000n, 299n, 100n), 900n);
  });

  it('caps by the float and -maxFaceValue, then refuses below the EV or the redemption cost', () => {
    const base = { ticketEV: EV, redeemGas: REDEEM_GAS_ARBITRUM, gasPrice: GWEI / 100n };
    assert.deepEqual(offerFaceValue({ ...base, maxFloat: 10n ** 18n }), { ok: true, faceValue: 1_200_000_000_000_000n });
    assert.deepEqual(offerFaceValue({ ...base, maxFloat: 10n ** 15n }), { ok: true, faceValue: 10n ** 15n });
    assert.deepEqual(offerFaceValue({ ...base, maxFloat: 10n ** 18n, maxFaceValue: 10n ** 14n }), { ok: true, faceValue: 10n ** 14n });
    assert.deepEqual(offerFaceValue({ ...base, maxFloat: 10n ** 18n, maxFaceValue: 0n }), { ok: true, faceValue: 1_200_000_000_000_000n });
    assert.deepEqual(offerFaceValue({ ...base, maxFloat: EV - 1n }), { ok: false, faceValue: EV - 1n, reason: 'below-ticket-ev' });
    // above the EV but below one redemption's cost (1.2·10^13)
    assert.deepEqual(offerFaceValue({ ...base, maxFloat: 10n ** 13n }), { ok: false, faceValue: 10n ** 13n, reason: 'below-redemption-cost' });
    // a nominal redeemGas (the devnet's) accepts small face values
    assert.deepEqual(offerFaceValue({ ...base, redeemGas: 1n, maxFloat: 2n * EV }), { ok: true, faceValue: 2n * EV });
  });

  it('win probability: EV × ceil((2^256 − 1) / faceValue), so the ticket EV is never below the configured EV', () => {
    assert.equal(winProbFor(0n, EV), 0n);
    assert.equal(winProbFor(EV, EV), MAX_WIN_PROB);
    for (const face of [10n ** 15n, 2n * EV, 3n * EV + 1n, 1n << 200n]) {
      const wp = winProbFor(face, EV);
      const q = MAX_WIN_PROB / face;
      assert.equal(wp, EV * (MAX_WIN_PROB % face === 0n ? q : q + 1n));
      const ev = ticketEV(face, wp);
      assert.ok(ev.num >= EV * ev.den, `EV of face ${face} below ${EV}`);
    }
    // 2^256 − 1 = 3 × 5 × 17 × 257 × …: an exact divisor takes the floor
    assert.equal(winProbFor(5n, 1n), MAX_WIN_PROB / 5n);
  });
});
