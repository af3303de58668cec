// Attack 9 (the orchestrator-facing maps): every per-peer map the node keeps is bounded or reaped —
// ticket nonce counters once their params are expired for good (never early: that would restart nonces
// at 1), money lost per orchestrator, and the ledger pages /status shows.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Hex } from 'viem';
import { rat } from '../../src/lib/rat.ts';
import { MAX_LOSS_ENTRIES, PaidLosses } from '../../src/node/paidLosses.ts';
import { NONCE_REAP_MARGIN_BLOCKS, TicketSender } from '../../src/pm/sender.ts';
import { privateKeySigner } from '../../src/pm/signer.ts';
import type { SenderTicketParams } from '../../src/pm/ticketParams.ts';
import { Ledger } from '../../src/store/ledger.ts';

const params = (i: number, expirationBlock: bigint): SenderTicketParams =>
  ({
    recipient: '0x00000000000000000000000000000000000000aa',
    faceValue: 100n,
    winProb: 1n,
    recipientRandHash: `0x${i.toString(16).padStart(64, '0')}` as Hex,
    seed: 1n,
    expirationBlock,
    expirationParams: { creationRound: 1n, creationRoundBlockHash: `0x${'00'.repeat(32)}` as Hex },
  }) as unknown as SenderTicketParams;

describe('attack 9: per-orchestrator maps are bounded', () => {
  it('ticket nonce counters are dropped only once their params are expired for good; live ones keep counting', () => {
    const sender = new TicketSender(privateKeySigner(`0x${'11'.repeat(32)}`), () => ({
      creationRound: 1n,
      creationRoundBlockHash: `0x${'00'.repeat(32)}` as Hex,
    }));
    for (let i = 0; i < 200; i++) sender.createBatch(params(i, 100n), 1);
    const live = params(999, 5000n);
    sender.createBatch(live, 2);
    assert.equal(sender.size, 201);
    assert.equal(sender.reapExpired(100n + NONCE_REAP_MARGIN_BLOCKS), 0, 'not before the margin');
    assert.equal(sender.reapExpired(101n + NONCE_REAP_MARGIN_BLOCKS), 200);
    assert.equal(sender.size, 1);
    const next = sender.createBatch(live, 1);
    assert.equal(next.tickets[0]!.senderNonce, 3, 'the live params continue their nonces: none reused');
  });

  it('a stream paying each segment on fresh params keeps a bounded number of nonce counters', () => {
    const sender = new TicketSender(privateKeySigner(`0x${'11'.repeat(32)}`), () => ({
      creationRound: 1n,
      creationRoundBlockHash: `0x${'00'.repeat(32)}` as Hex,
    }));
    // two hours of one stream: a segment every 2 s, each paid on the params of the reply before it (an
    // orchestrator issues new ones, valid 40 L1 blocks, in every reply), an L1 block every 12 s, the
    // expired counters reaped every 256 payments as SegmentPayer does
    let most = 0;
    for (let seg = 0; seg < 3600; seg++) {
      const block = BigInt(Math.floor((seg * 2) / 12));
      sender.createBatch(params(seg, block + 40n), 1);
      if ((seg + 1) % 256 === 0) sender.reapExpired(block);
      most = Math.max(most, sender.size);
    }
    // (40 blocks of validity + the margin) × 6 segments a block, plus what piles up between two reaps
    assert.ok(most <= (Number(40n + NONCE_REAP_MARGIN_BLOCKS) + 1) * 6 + 256, `at most ${most} counters`);
    assert.ok(most <= 800, `a stream's counters stay in the hundreds (${most}), not thousands`);
  });

  it('money lost is kept for the most recent orchestrators only', () => {
    const losses = new PaidLosses();
    for (let i = 0; i < MAX_LOSS_ENTRIES + 500; i++) losses.add(`https://o${i}:8935`, 1, rat(1n), 'x');
    assert.equal(losses.size, MAX_LOSS_ENTRIES);
    assert.equal(losses.get('https://o0:8935'), undefined);
    assert.equal(losses.get(`https://o${MAX_LOSS_ENTRIES + 499}:8935`)?.failures, 1);
  });

  it('/status reads a page of the ledger, not every key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lpledger-'));
    const ledger = new Ledger(dir);
    await ledger.open();
    try {
      await Promise.all(Array.from({ length: 50 }, (_, i) => ledger.recordUntranscoded(`m${i}`)));
      assert.equal(Object.keys(await ledger.entries('stream', 10)).length, 10);
      assert.equal(Object.keys(await ledger.entries('stream')).length, 50);
    } finally {
      await ledger.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
