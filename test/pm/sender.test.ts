import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { zeroHash } from 'viem';
import { bytesToHex, hexToBytes } from '../../src/lib/bytes.ts';
import { buildPayment } from '../../src/pm/payment.ts';
import { MAX_PRESIGNED_PARAMS, MAX_PRESIGNED_TICKETS, MAX_SENDER_NONCES, NonceLimitError, TicketSender, type TicketBatch } from '../../src/pm/sender.ts';
import type { SenderTicketParams } from '../../src/pm/ticketParams.ts';
import { privateKeySigner, recoverPersonalSigner } from '../../src/pm/signer.ts';
import { ticketHash } from '../../src/pm/ticket.ts';
import { MalformedTicketParamsError, parseTicketParams } from '../../src/pm/ticketParams.ts';
import type { TicketParams } from '../../src/wire/lpRpc.ts';

const signer = privateKeySigner('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
const wire = (randByte: string, withExpiration = true): TicketParams => ({
  recipient: hexToBytes(`0x${'0a'.repeat(20)}`),
  faceValue: hexToBytes('0x038d7ea4c68000'),
  winProb: hexToBytes(`0x${'ff'.repeat(16)}`),
  recipientRandHash: hexToBytes(`0x${randByte.repeat(32)}`),
  seed: hexToBytes('0x0102'),
  expirationBlock: hexToBytes('0x0100'),
  ...(withExpiration ? { expirationParams: { creationRound: 7n, creationRoundBlockHash: hexToBytes(`0x${'77'.repeat(32)}`) } } : {}),
});
const fallback = () => ({ creationRound: 9n, creationRoundBlockHash: `0x${'99'.repeat(32)}` as const });

/** Every ticket of `batch` is signed by our key over the ticket `p` and `round` make with its nonce. */
function assertSignedFor(batch: TicketBatch, p: SenderTicketParams, round: { creationRound: bigint; creationRoundBlockHash: `0x${string}` }): void {
  for (const t of batch.tickets) {
    const hash = ticketHash({
      recipient: p.recipient,
      sender: signer.address,
      faceValue: p.faceValue,
      winProb: p.winProb,
      senderNonce: BigInt(t.senderNonce),
      recipientRandHash: p.recipientRandHash,
      ...round,
    });
    assert.equal(recoverPersonalSigner(hash, t.sig), signer.address, `nonce ${t.senderNonce}`);
  }
}

/** The nonces of a batch's tickets, in order. */
const nonces = (batch: TicketBatch): number[] => batch.tickets.map((t) => t.senderNonce);

describe('ticket sender: nonces and batches', () => {
  it('first nonce is 1, consecutive in a batch, continuing across batches, reset for new params', () => {
    const sender = new TicketSender(signer, fallback);
    const a = parseTicketParams(wire('aa'));
    assert.deepEqual(nonces(sender.createBatch(a, 3)), [1, 2, 3]);
    assert.deepEqual(nonces(sender.createBatch(a, 2)), [4, 5]);
    const b = parseTicketParams(wire('bb'));
    assert.deepEqual(nonces(sender.createBatch(b, 1)), [1]);
    assert.equal(sender.noncesUsed(a.recipientRandHash), 5);
  });

  it('signs each ticket over its own hash with the orchestrator creation round', () => {
    const sender = new TicketSender(signer, fallback);
    const p = parseTicketParams(wire('aa'));
    assertSignedFor(sender.createBatch(p, 2), p, { creationRound: 7n, creationRoundBlockHash: `0x${'77'.repeat(32)}` });
  });

  it('falls back to our own last initialized round when the orchestrator sends none', () => {
    const sender = new TicketSender(signer, fallback);
    assert.equal(sender.createBatch(parseTicketParams(wire('aa', false)), 1).expirationParams.creationRound, 9n);
  });

  it(`stops at ${MAX_SENDER_NONCES} nonces per params set`, () => {
    const sender = new TicketSender(signer, fallback);
    const p = parseTicketParams(wire('aa'));
    sender.createBatch(p, MAX_SENDER_NONCES - 1);
    assert.throws(() => sender.createBatch(p, 2), NonceLimitError);
    assert.equal(sender.createBatch(p, 1).tickets[0]!.senderNonce, MAX_SENDER_NONCES);
  });
});

describe('ticket params parsing', () => {
  it('keeps the raw message and reads big integers', () => {
    const p = parseTicketParams(wire('aa'));
    assert.equal(p.faceValue, 10n ** 15n);
    assert.equal(p.expirationBlock, 256n);
    assert.equal(p.recipient.toLowerCase(), `0x${'0a'.repeat(20)}`);
  });
  it('refuses hostile shapes', () => {
    assert.throws(() => parseTicketParams(undefined), /ticketParams is nil/);
    assert.throws(() => parseTicketParams({ ...wire('aa'), recipient: new Uint8Array(3) }), MalformedTicketParamsError);
    assert.throws(() => parseTicketParams({ ...wire('aa'), recipientRandHash: new Uint8Array(31) }), MalformedTicketParamsError);
    assert.throws(() => parseTicketParams({ ...wire('aa'), faceValue: new Uint8Array(33).fill(1) }), /longer than 32 bytes/);
  });
  it('treats a zero creation round or zero block hash as absent', () => {
    assert.equal(
      parseTicketParams({ ...wire('aa'), expirationParams: { creationRound: 0n, creationRoundBlockHash: hexToBytes(`0x${'77'.repeat(32)}`) } })
        .expirationParams,
      undefined,
    );
    assert.equal(
      parseTicketParams({ ...wire('aa'), expirationParams: { creationRound: 4n, creationRoundBlockHash: hexToBytes(zeroHash) } }).expirationParams,
      undefined,
    );
  });
});

describe('ticket sender: tickets signed ahead', () => {
  const round7 = { creationRound: 7n, creationRoundBlockHash: `0x${'77'.repeat(32)}` as const };

  it('a batch takes the tickets signed ahead first, then signs on from the next nonce', () => {
    const sender = new TicketSender(signer, fallback);
    const p = parseTicketParams(wire('aa'));
    sender.presign(p, 2);
    assert.equal(sender.noncesUsed(p.recipientRandHash), 2, 'their nonces are taken when they are signed');
    assert.equal(sender.presigned, 1);
    const batch = sender.createBatch(p, 3);
    assert.deepEqual(nonces(batch), [1, 2, 3]);
    assertSignedFor(batch, p, round7);
    assert.equal(sender.presigned, 0);
    assert.deepEqual(nonces(sender.createBatch(p, 1)), [4], 'taken once only');
  });

  it('tickets signed ahead and not needed are dropped, never sent later: their nonces are skipped', () => {
    const sender = new TicketSender(signer, fallback);
    const p = parseTicketParams(wire('aa'));
    sender.presign(p, 3);
    assert.deepEqual(nonces(sender.createBatch(p, 1)), [1]);
    assert.deepEqual(nonces(sender.createBatch(p, 2)), [4, 5]);
  });

  it('params that sign differently under the same recipientRandHash get tickets of their own', () => {
    // a hostile orchestrator may repeat a recipientRandHash with another face value, win probability or
    // recipient; the tickets signed ahead for the first would be refused (or pay someone else)
    const wires: TicketParams[] = [
      { ...wire('aa'), faceValue: hexToBytes('0x038d7ea4c68001') },
      { ...wire('aa'), winProb: hexToBytes(`0x${'fe'.repeat(16)}`) },
      { ...wire('aa'), recipient: hexToBytes(`0x${'0b'.repeat(20)}`) },
      { ...wire('aa'), expirationParams: { creationRound: 8n, creationRoundBlockHash: hexToBytes(`0x${'77'.repeat(32)}`) } },
    ];
    for (const w of wires) {
      const sender = new TicketSender(signer, fallback);
      sender.presign(parseTicketParams(wire('aa')), 2);
      const p = parseTicketParams(w);
      const batch = sender.createBatch(p, 2);
      assert.deepEqual(nonces(batch), [3, 4]);
      assertSignedFor(batch, p, p.expirationParams ?? fallback());
    }
    // without expiration params the fallback's round is signed: a round change between the two counts
    let round = 9n;
    const sender = new TicketSender(signer, () => ({ creationRound: round, creationRoundBlockHash: `0x${'99'.repeat(32)}` }));
    const p = parseTicketParams(wire('aa', false));
    sender.presign(p, 2);
    round = 10n;
    const batch = sender.createBatch(p, 2);
    assert.deepEqual(nonces(batch), [3, 4]);
    assertSignedFor(batch, p, { creationRound: 10n, creationRoundBlockHash: `0x${'99'.repeat(32)}` });
  });

  it('is bounded: tickets per params, params sets, and the nonce limit', () => {
    const sender = new TicketSender(signer, fallback);
    const p = parseTicketParams(wire('aa'));
    sender.presign(p, 1000);
    assert.equal(sender.noncesUsed(p.recipientRandHash), MAX_PRESIGNED_TICKETS);
    sender.presign(p, 5);
    assert.equal(sender.noncesUsed(p.recipientRandHash), MAX_PRESIGNED_TICKETS, 'once per params set until taken');
    const many = new TicketSender(signer, fallback);
    for (let i = 0; i < MAX_PRESIGNED_PARAMS + 10; i++) {
      many.presign(parseTicketParams({ ...wire('aa'), recipientRandHash: hexToBytes(`0x${i.toString(16).padStart(64, '0')}`) }), 1);
    }
    assert.equal(many.presigned, MAX_PRESIGNED_PARAMS);
    const worn = new TicketSender(signer, fallback);
    worn.createBatch(p, MAX_SENDER_NONCES - 1);
    assert.throws(() => worn.presign(p, 2), NonceLimitError);
  });

  it('goes with its params: reaped with them, or forgotten', () => {
    const sender = new TicketSender(signer, fallback);
    const p = parseTicketParams(wire('aa')); // expiration block 256
    const q = parseTicketParams(wire('bb'));
    sender.presign(p, 2);
    sender.presign(q, 2);
    sender.forget(q.recipientRandHash);
    assert.equal(sender.presigned, 1);
    sender.reapExpired(10_000n);
    assert.equal(sender.presigned, 0);
    assert.deepEqual(nonces(sender.createBatch(p, 1)), [1], 'a reaped set starts again (as its counter does)');
  });
});

describe('Payment message', () => {
  const price = { pricePerUnit: 1200n, pixelsPerUnit: 1n };
  it('with tickets: params 1–6 echoed byte for byte, expiration params used, one entry per ticket', () => {
    const sender = new TicketSender(signer, fallback);
    const w = { ...wire('aa'), faceValue: hexToBytes('0x00038d7ea4c68000') }; // non-minimal bytes survive the echo
    const batch = sender.createBatch(parseTicketParams(w), 2);
    const payment = buildPayment(signer.address, price, batch);
    assert.equal(payment.ticketParams?.expirationParams, undefined, 'field 7 is never sent');
    assert.equal(bytesToHex(payment.ticketParams!.faceValue!), '0x00038d7ea4c68000');
    assert.equal(bytesToHex(payment.sender!), signer.address.toLowerCase());
    assert.equal(payment.expirationParams?.creationRound, 7n);
    assert.equal(payment.ticketSenderParams?.length, 2);
    assert.deepEqual(payment.expectedPrice, price);
  });
  it('without tickets: only sender and expected price', () => {
    assert.deepEqual(Object.keys(buildPayment(signer.address, price)).sort(), ['expectedPrice', 'sender']);
  });
});
