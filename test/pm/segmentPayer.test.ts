import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OrchestratorInfo } from '../../src/wire/lpRpc.ts';
import { bigintToMinimalBytes, hexToBytes } from '../../src/lib/bytes.ts';
import { estimateFee, MAX_WIN_PROB, ticketEV } from '../../src/pm/ev.ts';
import { ceil, div, rat } from '../../src/lib/rat.ts';
import { SegmentPayer } from '../../src/pm/segmentPayer.ts';
import { TicketSender } from '../../src/pm/sender.ts';
import { privateKeySigner } from '../../src/pm/signer.ts';
import { DEFAULT_PAYMENT_LIMITS, SenderValidationError } from '../../src/pm/validate.ts';

const signer = privateKeySigner('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
const ETH = 10n ** 18n;
const profiles = [
  { width: 426, height: 240, fps: 30, fpsDen: 0 },
  { width: 640, height: 360, fps: 30, fpsDen: 0 },
];
const face = 10n ** 15n;
const winProb = MAX_WIN_PROB / 100_000n; // EV ≈ 1e10 wei
let deposit = ETH;

function info(rand: string): OrchestratorInfo {
  return {
    transcoder: 'https://o:8935',
    priceInfo: { pricePerUnit: 100n, pixelsPerUnit: 1n },
    authToken: { sessionId: 'sess', token: new Uint8Array([1]), expiration: 9999999999n },
    ticketParams: {
      recipient: hexToBytes(`0x${'0a'.repeat(20)}`),
      faceValue: bigintToMinimalBytes(face),
      winProb: bigintToMinimalBytes(winProb),
      recipientRandHash: hexToBytes(`0x${rand.repeat(32)}`),
      seed: hexToBytes('0x01'),
      expirationBlock: bigintToMinimalBytes(1000n),
      expirationParams: { creationRound: 5n, creationRoundBlockHash: hexToBytes(`0x${'cd'.repeat(32)}`) },
    },
  };
}

const payer = () =>
  new SegmentPayer(new TicketSender(signer, () => ({ creationRound: 5n, creationRoundBlockHash: `0x${'cd'.repeat(32)}` })), DEFAULT_PAYMENT_LIMITS, {
    senderInfo: () => ({ deposit, withdrawRound: 0n, reserve: { fundsRemaining: ETH, claimedInCurrentRound: 0n } }),
    chain: () => ({ lastSeenL1Block: 900n, lastInitializedRound: 5n, ticketValidityPeriod: 2n }),
  });

describe('segment payer', () => {
  it('buys ceil(fee / EV) tickets and settles against the pixels debited', () => {
    const p = payer();
    const fee = estimateFee(profiles, 2000, rat(100n));
    const ev = ticketEV(face, winProb);
    const first = p.prepare(info('aa'), profiles, 2000);
    assert.equal(first.numTickets, Number(ceil(div(fee, ev))));
    assert.equal(first.payment.ticketSenderParams?.length, first.numTickets);
    assert.deepEqual(
      first.payment.ticketSenderParams?.map((t) => t.senderNonce),
      Array.from({ length: first.numTickets }, (_, i) => i + 1),
    );
    p.markSent(first);
    // the orchestrator debits less than the 1.02-padded estimate: the surplus is credit for the next segment
    const pixels = (426n * 240n + 640n * 360n) * 60n;
    p.settle(first, pixels);
    const second = p.prepare(info('bb'), profiles, 2000);
    assert.ok(second.numTickets <= first.numTickets);
    assert.equal(second.payment.ticketSenderParams?.[0]?.senderNonce, 1, 'new params, nonce restarts');
  });

  it('a sender-validation failure throws before anything is signed and keeps the credit', () => {
    const p = payer();
    deposit = 0n;
    try {
      assert.throws(() => p.prepare(info('aa'), profiles, 2000), SenderValidationError);
    } finally {
      deposit = ETH;
    }
    const ok = p.prepare(info('aa'), profiles, 2000);
    assert.equal(ok.payment.ticketSenderParams?.[0]?.senderNonce, 1, 'no nonce was burnt by the refused attempt');
  });

  it("signs the next segment's tickets ahead from a reply's params; the payment is the same as without", () => {
    const ahead = payer();
    const plain = payer();
    ahead.presign(info('aa'), profiles, 2000);
    assert.equal(ahead.ticketParamsTracked, 1, 'signed ahead: their nonces are counted');
    const a = ahead.prepare(info('aa'), profiles, 2000);
    const b = plain.prepare(info('aa'), profiles, 2000);
    assert.deepEqual(a.payment, b.payment, 'the same tickets, nonces and signatures (ECDSA here is deterministic)');
    assert.equal(a.numTickets, b.numTickets);
    // params it cannot use are passed over, never thrown at the reply
    assert.doesNotThrow(() => ahead.presign({ ...info('bb'), ticketParams: { ...info('bb').ticketParams!, recipient: new Uint8Array(3) } }, profiles, 2000));
    assert.doesNotThrow(() => ahead.presign({ ...info('bb'), ticketParams: undefined }, profiles, 2000));
    // nor are params the payment would refuse signed for: a face value above the deposit's share
    const before = ahead.ticketParamsTracked;
    const greedy = info('cc');
    ahead.presign({ ...greedy, ticketParams: { ...greedy.ticketParams!, faceValue: bigintToMinimalBytes(deposit * 2n) } }, profiles, 2000);
    assert.equal(ahead.ticketParamsTracked, before, 'nothing signed for them');
  });

  it('an orchestrator without ticket params gets a payment without tickets', () => {
    const { ticketParams: _t, ...free } = info('aa');
    const prepared = payer().prepare(free, profiles, 2000);
    assert.equal(prepared.numTickets, 0);
    assert.equal(prepared.payment.ticketParams, undefined);
  });
});
