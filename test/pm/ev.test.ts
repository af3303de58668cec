import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateFee, estimatePixels, MAX_WIN_PROB, PIXEL_ESTIMATE_MULTIPLIER, pricePerPixel, ticketEV, ticketsNeeded } from '../../src/pm/ev.ts';
import { ceil, rat, ratFromFloat64, ratString, ZERO } from '../../src/lib/rat.ts';

const P240 = { width: 426, height: 240, fps: 30, fpsDen: 0 };
const P360 = { width: 640, height: 360, fps: 30, fpsDen: 0 };

describe('expected value and fees', () => {
  it('EV = faceValue × winProb / (2^256 − 1), exact', () => {
    assert.deepEqual(ticketEV(1000n, MAX_WIN_PROB), rat(1000n));
    assert.deepEqual(ticketEV(0n, MAX_WIN_PROB), ZERO);
    // an orchestrator's winProb for EV 8e9 and faceValue 1e15 (docs/payments.md §2.4): EV is slightly ≥ 8e9
    const face = 10n ** 15n;
    const q = MAX_WIN_PROB / face;
    const winProb = 8_000_000_000n * (MAX_WIN_PROB % face === 0n ? q : q + 1n);
    const ev = ticketEV(face, winProb);
    assert.equal(ceil(ev), 8_000_000_001n);
    assert.ok(ev.num >= 8_000_000_000n * ev.den);
  });

  it('the 1.02 pixel multiplier is the exact float64 go-livepeer multiplies by', () => {
    assert.equal(ratString(PIXEL_ESTIMATE_MULTIPLIER), '2296835809958953/2251799813685248' /* Python: Fraction(1.02) */);
    assert.deepEqual(ratFromFloat64(0.5), rat(1n, 2n));
    assert.deepEqual(ratFromFloat64(3), rat(3n));
  });

  it('pixels: W×H×ceil(fps/fpsDen)×ceil(seconds), fps 0 counts as 60', () => {
    assert.equal(estimatePixels([P240, P360], 2000), (426n * 240n + 640n * 360n) * 30n * 2n);
    assert.equal(estimatePixels([P240], 2001), 426n * 240n * 30n * 3n);
    assert.equal(estimatePixels([{ width: 10, height: 10, fps: 0, fpsDen: 0 }], 1000), 100n * 60n);
    assert.equal(estimatePixels([{ width: 10, height: 10, fps: 30000, fpsDen: 1001 }], 1000), 100n * 30n);
  });

  it('fee = pixels × 1.02 × price per pixel', () => {
    const price = pricePerPixel(1200n, 1n);
    const fee = estimateFee([P240, P360], 2000, price);
    const pixels = (426n * 240n + 640n * 360n) * 60n;
    assert.deepEqual(fee, rat(pixels * 1200n * 2296835809958953n, 2251799813685248n));
    assert.throws(() => pricePerPixel(1n, 0n), /pixels per unit is 0/);
  });

  it('ticket count covers max(fee, EV) beyond existing credit', () => {
    const ev = rat(100n);
    assert.equal(ticketsNeeded(rat(250n), ZERO, ev), 3);
    assert.equal(ticketsNeeded(rat(250n), rat(50n), ev), 2);
    assert.equal(ticketsNeeded(rat(250n), rat(250n), ev), 0);
    assert.equal(ticketsNeeded(rat(10n), ZERO, ev), 1, 'at least one ticket EV is always owed');
    assert.equal(ticketsNeeded(rat(10n), rat(-95n), ev), 2);
    assert.equal(ticketsNeeded(rat(10n), rat(-101n), ev), 3);
    assert.equal(ticketsNeeded(rat(250n), ZERO, ZERO), 0, 'free orchestrator');
  });
});
