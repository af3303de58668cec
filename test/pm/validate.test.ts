import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_WIN_PROB } from '../../src/pm/ev.ts';
import { rat } from '../../src/lib/rat.ts';
import type { SenderInfo } from '../../src/pm/senderInfo.ts';
import type { SenderTicketParams } from '../../src/pm/ticketParams.ts';
import {
  PriceIncreaseError,
  SenderValidationError,
  TicketParamsError,
  validatePriceIncrease,
  validateTicketParams,
  type ChainView,
} from '../../src/pm/validate.ts';

const ETH = 10n ** 18n;
const funded: SenderInfo = { deposit: ETH, withdrawRound: 0n, reserve: { fundsRemaining: ETH, claimedInCurrentRound: 0n } };
const chain: ChainView = { lastSeenL1Block: 1000n, lastInitializedRound: 50n, ticketValidityPeriod: 2n };
// faceValue 1e15 wei, EV ≈ 1e9 wei
const good: SenderTicketParams = {
  recipient: '0x0000000000000000000000000000000000000001',
  faceValue: 10n ** 15n,
  winProb: MAX_WIN_PROB / 10n ** 6n,
  recipientRandHash: `0x${'ab'.repeat(32)}`,
  seed: 1n,
  expirationBlock: 1040n,
  expirationParams: { creationRound: 50n, creationRoundBlockHash: `0x${'cd'.repeat(32)}` },
  wire: {},
};

function refusal(
  params: Partial<SenderTicketParams>,
  opts: { n?: number; info?: SenderInfo; chain?: Partial<ChainView>; limits?: Parameters<typeof validateTicketParams>[4] } = {},
) {
  try {
    validateTicketParams({ ...good, ...params }, opts.n ?? 1, opts.info ?? funded, { ...chain, ...opts.chain }, opts.limits);
    return undefined;
  } catch (err) {
    if (err instanceof TicketParamsError || err instanceof SenderValidationError) return err;
    throw err;
  }
}

describe('sender-side ticket params validation', () => {
  it('accepts sane params, and a free orchestrator (EV 0) whatever the funding', () => {
    assert.equal(refusal({}), undefined);
    const empty: SenderInfo = { deposit: 0n, withdrawRound: 0n, reserve: { fundsRemaining: 0n, claimedInCurrentRound: 0n } };
    assert.equal(refusal({ faceValue: 0n, winProb: 0n }, { info: empty }), undefined);
  });

  it('accepts params created one round after our view: a round change not read yet (poll not due, RPC down)', () => {
    assert.equal(refusal({ expirationParams: { creationRound: 51n, creationRoundBlockHash: `0x${'cd'.repeat(32)}` } }), undefined);
  });

  const cases: [string, Partial<SenderTicketParams>, Parameters<typeof refusal>[1], string, RegExp][] = [
    ['expiration block 0', { expirationBlock: 0n }, {}, 'expiration-block-zero', /expiration block is 0/],
    ['about to expire', { expirationBlock: 1001n }, {}, 'params-expired', /expired .*refresh/],
    ['winProb 0 with a face value', { winProb: 0n }, {}, 'win-prob-zero', /winProb is 0/],
    ['EV ≥ faceValue', { faceValue: 5n, winProb: MAX_WIN_PROB }, {}, 'face-value-too-low', /faceValue too low/],
    ['EV above -maxTicketEV', { winProb: MAX_WIN_PROB / 10n }, {}, 'ticket-ev-too-high', /max ticket EV .*-maxTicketEV/],
    ['EV × n above -maxTotalEV', {}, { n: 20_001 }, 'total-ev-too-high', /for 20001 tickets > max total ticket EV .*-maxTotalEV/],
    [
      'faceValue above deposit / multiplier',
      {},
      { limits: { maxTicketEV: rat(3n * 10n ** 12n), maxTotalEV: rat(2n * 10n ** 13n), depositMultiplier: 2000n } },
      'face-value-above-max',
      /max faceValue 500000000000000 wei .*-depositMultiplier 2000/,
    ],
    [
      'creation round more than one round in the future',
      { expirationParams: { creationRound: 52n, creationRoundBlockHash: `0x${'cd'.repeat(32)}` } },
      {},
      'creation-round-in-future',
      /more than one round after the last initialized round/,
    ],
    [
      'creation round too old to redeem',
      { expirationParams: { creationRound: 48n, creationRoundBlockHash: `0x${'cd'.repeat(32)}` } },
      {},
      'creation-round-expired',
      /validity period/,
    ],
  ];
  for (const [name, params, opts, code, message] of cases) {
    it(`refuses: ${name}`, () => {
      const err = refusal(params, opts);
      assert.ok(err instanceof TicketParamsError, `expected a refusal, got ${err}`);
      assert.equal(err.code, code);
      assert.match(err.message, message);
    });
  }

  const senderCases: [string, SenderInfo, string, RegExp][] = [
    ['no reserve', { ...funded, reserve: { fundsRemaining: 0n, claimedInCurrentRound: 0n } }, 'no-reserve', /no sender reserve.*deposit fund --reserve/],
    ['no deposit', { ...funded, deposit: 0n }, 'no-deposit', /no sender deposit/],
    ['unlock ends by next round', { ...funded, withdrawRound: 51n }, 'sender-unlocking', /unlock soon.*cancel-unlock/],
  ];
  for (const [name, info, code, message] of senderCases) {
    it(`sender validation: ${name}`, () => {
      const err = refusal({}, { info });
      assert.ok(err instanceof SenderValidationError);
      assert.equal(err.code, code);
      assert.match(err.message, message);
    });
  }
  it('an unlock two rounds away still pays (go-livepeer rule)', () => {
    assert.equal(refusal({}, { info: { ...funded, withdrawRound: 52n } }), undefined);
  });

  it('refuses a price more than twice the session start price', () => {
    validatePriceIncrease(rat(10n), rat(20n));
    assert.throws(() => validatePriceIncrease(rat(10n), rat(21n)), PriceIncreaseError);
  });
});
