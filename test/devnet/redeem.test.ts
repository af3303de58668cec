// Tickets built and signed by src/pm, redeemed on the devnet TicketBroker: the winning path, the reserve
// path and every refusal with the real contract's reason string.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { bytesToBigInt, parseEventLogs, zeroAddress, zeroHash, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { bondingManagerAbi, roundsManagerAbi, ticketBrokerAbi } from '../../src/eth/abi/index.ts';
import { devnetWalletClient, waitForSuccess } from '../../scripts/devnet/chain.ts';
import { deactivateOrchestrator, fundSender, initializeRound, mineToNextRound } from '../../scripts/devnet/deploy.ts';
import { devControllerAbi } from '../../scripts/devnet/devAbi.ts';
import { privateKeySigner } from '../../src/pm/signer.ts';
import { recipientRandHash, signTicket, ticketHash, toContractTicket, type Ticket } from '../../src/pm/ticket.ts';
import { expectRevert, senderState, withDevnet } from '../helpers/devnet.ts';

const ETH = 10n ** 18n;
const MAX_WIN_PROB = 2n ** 256n - 1n;
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const devnet = withDevnet({ resetEach: true });

let nonce = 0n;

async function currentTicketRound(): Promise<{ round: bigint; blockHash: Hex }> {
  const round = await devnet.publicClient.readContract({
    address: devnet.contracts.roundsManager,
    abi: roundsManagerAbi,
    functionName: 'lastInitializedRound',
  });
  const blockHash = await devnet.publicClient.readContract({
    address: devnet.contracts.roundsManager,
    abi: roundsManagerAbi,
    functionName: 'blockHashForRound',
    args: [round],
  });
  return { round, blockHash };
}

/** A ticket from the broadcaster to orchestrator 0 that always wins, plus its recipientRand. */
async function makeTicket(over: Partial<Ticket> = {}): Promise<{ ticket: Ticket; rand: bigint }> {
  const rand = bytesToBigInt(randomBytes(32));
  const { round, blockHash } = await currentTicketRound();
  const ticket: Ticket = {
    recipient: devnet.orchestrators[0]!.address,
    sender: devnet.accounts.broadcaster.address,
    faceValue: ETH / 10n,
    winProb: MAX_WIN_PROB,
    senderNonce: ++nonce,
    recipientRandHash: recipientRandHash(rand),
    creationRound: round,
    creationRoundBlockHash: blockHash,
    ...over,
  };
  return { ticket, rand };
}

function sign(ticket: Ticket, privateKey: Hex = devnet.accounts.broadcaster.privateKey): Hex {
  return privateKeySigner(privateKey).signHash(ticketHash(ticket));
}

/** Redeems as orchestrator 0 would (anyone may submit). */
function redeem(ticket: ReturnType<typeof toContractTicket>, sig: Hex, rand: bigint, submitter: Hex = devnet.orchestrators[0]!.privateKey) {
  return devnetWalletClient(devnet.rpcUrl, submitter).writeContract({
    address: devnet.contracts.ticketBroker,
    abi: ticketBrokerAbi,
    functionName: 'redeemWinningTicket',
    args: [ticket, sig, rand],
  });
}

async function redeemOk(ticket: Ticket, sig: Hex, rand: bigint) {
  return waitForSuccess(devnet.publicClient, await redeem(toContractTicket(ticket), sig, rand), 'redeemWinningTicket');
}

const senderInfo = (sender: `0x${string}`) => senderState(devnet, sender);

const fees = (o: Address) =>
  devnet.publicClient.readContract({
    address: devnet.contracts.bondingManager,
    abi: bondingManagerAbi,
    functionName: 'pendingFees',
    args: [o, 0n],
  });

const fundBroadcaster = (deposit: bigint, reserve: bigint) =>
  fundSender(devnet.rpcUrl, devnet.contracts, devnet.accounts.broadcaster.privateKey, deposit, reserve);

describe('ticket hash', () => {
  test('getTicketHash equals src/pm ticketHash for the fixed vector and a random ticket', async () => {
    const vector: Ticket = {
      recipient: zeroAddress,
      sender: zeroAddress,
      faceValue: 0n,
      winProb: 0n,
      senderNonce: 0n,
      recipientRandHash: zeroHash,
      creationRound: 10n,
      creationRoundBlockHash: '0x41b1a0649752af1b28b3dc29a1556eee781e4a4c3a1f7f53f90fa834de098c4d',
    };
    const expected = '0xe502907c16036ab3d11b78c5a2e93c20f3d6415c67f91de4ed01348182b3b2e2';
    assert.equal(ticketHash(vector), expected);
    const onChain = (t: Ticket) =>
      devnet.publicClient.readContract({
        address: devnet.contracts.ticketBroker,
        abi: ticketBrokerAbi,
        functionName: 'getTicketHash',
        args: [toContractTicket(t)],
      });
    assert.equal(await onChain(vector), expected);

    const random: Ticket = {
      recipient: privateKeyToAccount(`0x${randomBytes(32).toString('hex')}`).address,
      sender: privateKeyToAccount(`0x${randomBytes(32).toString('hex')}`).address,
      faceValue: bytesToBigInt(randomBytes(32)),
      winProb: bytesToBigInt(randomBytes(32)),
      senderNonce: bytesToBigInt(randomBytes(4)),
      recipientRandHash: `0x${randomBytes(32).toString('hex')}`,
      creationRound: bytesToBigInt(randomBytes(8)),
      creationRoundBlockHash: `0x${randomBytes(32).toString('hex')}`,
    };
    assert.equal(await onChain(random), ticketHash(random));
  });
});

describe('redeemWinningTicket', () => {
  test('a winning ticket signed with src/pm is redeemed: deposit drops, orchestrator is paid, ticket is used', async () => {
    await fundBroadcaster(ETH, ETH);
    const o = devnet.orchestrators[0]!;
    const { ticket, rand } = await makeTicket();
    const sig = signTicket(privateKeySigner(devnet.accounts.broadcaster.privateKey), ticket);
    const feesBefore = await fees(o.address);

    const receipt = await redeemOk(ticket, sig, rand);

    assert.deepEqual(await senderInfo(ticket.sender), { deposit: ETH - ticket.faceValue, withdrawRound: 0n, reserve: ETH, claimed: 0n });
    assert.equal((await fees(o.address)) - feesBefore, ticket.faceValue);
    const t = await devnet.publicClient.readContract({
      address: devnet.contracts.bondingManager,
      abi: bondingManagerAbi,
      functionName: 'getTranscoder',
      args: [o.address],
    });
    assert.equal(t[8], ticket.faceValue, 'cumulativeFees');
    assert.equal(
      await devnet.publicClient.readContract({
        address: devnet.contracts.ticketBroker,
        abi: ticketBrokerAbi,
        functionName: 'usedTickets',
        args: [ticketHash(ticket)],
      }),
      true,
    );
    const evs = parseEventLogs({ abi: ticketBrokerAbi, logs: receipt.logs });
    assert.deepEqual(
      evs.map((e) => [e.eventName, e.args]),
      [
        ['WinningTicketTransfer', { sender: ticket.sender, recipient: o.address, amount: ticket.faceValue }],
        [
          'WinningTicketRedeemed',
          {
            sender: ticket.sender,
            recipient: o.address,
            faceValue: ticket.faceValue,
            winProb: ticket.winProb,
            senderNonce: ticket.senderNonce,
            recipientRand: rand,
            auxData: toContractTicket(ticket).auxData,
          },
        ],
      ],
    );

    // The orchestrator's ETH balance moves when it withdraws its fees from the Minter.
    const wallet = devnetWalletClient(devnet.rpcUrl, o.privateKey);
    const before = await devnet.publicClient.getBalance({ address: o.address });
    const w = await waitForSuccess(
      devnet.publicClient,
      await wallet.writeContract({
        address: devnet.contracts.bondingManager,
        abi: bondingManagerAbi,
        functionName: 'withdrawFees',
        args: [o.address, ticket.faceValue],
      }),
      'withdrawFees',
    );
    const after = await devnet.publicClient.getBalance({ address: o.address });
    assert.equal(after - before, ticket.faceValue - w.gasUsed * w.effectiveGasPrice);
    assert.equal(await devnet.publicClient.getBalance({ address: devnet.contracts.minter }), 2n * ETH - ticket.faceValue);
    await expectRevert(
      wallet.writeContract({
        address: devnet.contracts.bondingManager,
        abi: bondingManagerAbi,
        functionName: 'withdrawFees',
        args: [o.address, 1n],
      }),
      'insufficient fees to withdraw',
    );
  });

  test('deposit short: the rest comes from the recipient’s share of the reserve, then nothing more', async () => {
    const deposit = 1000n;
    const reserve = 3n * ETH; // 3 orchestrators in the pool: 1 ETH each per round
    await fundBroadcaster(deposit, reserve);
    const o = devnet.orchestrators[0]!.address;
    const claimable = () =>
      devnet.publicClient.readContract({
        address: devnet.contracts.ticketBroker,
        abi: ticketBrokerAbi,
        functionName: 'claimableReserve',
        args: [devnet.accounts.broadcaster.address, o],
      });
    assert.equal(await claimable(), ETH);

    const first = await makeTicket({ faceValue: deposit + ETH / 2n });
    const r1 = await redeemOk(first.ticket, sign(first.ticket), first.rand);
    assert.deepEqual(
      parseEventLogs({ abi: ticketBrokerAbi, logs: r1.logs })
        .map((e) => [e.eventName, e.args])
        .slice(0, 2),
      [
        ['ReserveClaimed', { reserveHolder: devnet.accounts.broadcaster.address, claimant: o, amount: ETH / 2n }],
        ['WinningTicketTransfer', { sender: devnet.accounts.broadcaster.address, recipient: o, amount: deposit + ETH / 2n }],
      ],
    );
    assert.deepEqual(await senderInfo(devnet.accounts.broadcaster.address), {
      deposit: 0n,
      withdrawRound: 0n,
      reserve: reserve - ETH / 2n,
      claimed: ETH / 2n,
    });
    assert.equal(await claimable(), ETH / 2n);
    assert.equal(
      await devnet.publicClient.readContract({
        address: devnet.contracts.ticketBroker,
        abi: ticketBrokerAbi,
        functionName: 'claimedReserve',
        args: [devnet.accounts.broadcaster.address, o],
      }),
      ETH / 2n,
    );

    // Asks for 1 ETH, gets only the remaining 0.5 ETH of its share.
    const second = await makeTicket({ faceValue: ETH });
    await redeemOk(second.ticket, sign(second.ticket), second.rand);
    assert.equal(await claimable(), 0n);
    assert.equal(await fees(o), deposit + ETH);

    // Share used up: the ticket still redeems (the reserve is not empty) but transfers nothing.
    const third = await makeTicket({ faceValue: ETH });
    const r3 = await redeemOk(third.ticket, sign(third.ticket), third.rand);
    assert.deepEqual(
      parseEventLogs({ abi: ticketBrokerAbi, logs: r3.logs }).map((e) => e.eventName),
      ['WinningTicketRedeemed'],
    );
    assert.equal(await fees(o), deposit + ETH);

    // Another orchestrator still has its own share; an inactive one has none.
    const other = devnet.orchestrators[1]!.address;
    const share = (claimant: Address) =>
      devnet.publicClient.readContract({
        address: devnet.contracts.ticketBroker,
        abi: ticketBrokerAbi,
        functionName: 'claimableReserve',
        args: [devnet.accounts.broadcaster.address, claimant],
      });
    assert.equal(await share(other), ETH);
    await deactivateOrchestrator(devnet.rpcUrl, devnet.contracts, other);
    assert.equal(await share(other), 0n);
  });

  test('batchRedeemWinningTickets redeems the good tickets and skips the bad ones', async () => {
    await fundBroadcaster(ETH, ETH);
    const a = await makeTicket();
    const b = await makeTicket();
    const bad = await makeTicket();
    const wallet = devnetWalletClient(devnet.rpcUrl, devnet.orchestrators[0]!.privateKey);
    await waitForSuccess(
      devnet.publicClient,
      await wallet.writeContract({
        address: devnet.contracts.ticketBroker,
        abi: ticketBrokerAbi,
        functionName: 'batchRedeemWinningTickets',
        args: [
          [toContractTicket(a.ticket), toContractTicket(bad.ticket), toContractTicket(b.ticket)],
          [sign(a.ticket), sign(bad.ticket, devnet.accounts.spare[0]!.privateKey), sign(b.ticket)],
          [a.rand, bad.rand, b.rand],
        ],
        gas: 3_000_000n,
      }),
      'batchRedeemWinningTickets',
    );
    assert.equal((await senderInfo(devnet.accounts.broadcaster.address)).deposit, ETH - 2n * (ETH / 10n));
    const used = (t: Ticket) =>
      devnet.publicClient.readContract({
        address: devnet.contracts.ticketBroker,
        abi: ticketBrokerAbi,
        functionName: 'usedTickets',
        args: [ticketHash(t)],
      });
    assert.deepEqual(await Promise.all([used(a.ticket), used(bad.ticket), used(b.ticket)]), [true, false, true]);
  });
});

describe('refusals carry the real reason strings', () => {
  test('signature problems', async () => {
    await fundBroadcaster(ETH, ETH);
    const { ticket, rand } = await makeTicket();
    const good = sign(ticket);
    const c = toContractTicket(ticket);

    // Signed by someone else.
    await expectRevert(redeem(c, sign(ticket, devnet.accounts.spare[0]!.privateKey), rand), 'invalid signature over ticket hash');
    // The classic bug: personal-sign over the 66-character hex text of the hash instead of its 32 bytes.
    const overText = await privateKeyToAccount(devnet.accounts.broadcaster.privateKey).signMessage({ message: ticketHash(ticket) });
    await expectRevert(redeem(c, overText, rand), 'invalid signature over ticket hash');
    // v as 0/1 instead of 27/28.
    const v = parseInt(good.slice(-2), 16);
    const withV = (x: number) => `${good.slice(0, -2)}${x.toString(16).padStart(2, '0')}` as Hex;
    await expectRevert(redeem(c, withV(v - 27), rand), 'ECDSA: invalid signature');
    await expectRevert(redeem(c, withV(v === 27 ? 0 : 1), rand), 'ECDSA: invalid signature');
    // The malleable twin (n - s, flipped v) recovers the same key but is refused.
    const s = BigInt(`0x${good.slice(66, 130)}`);
    const highS = `${good.slice(0, 66)}${(SECP256K1_N - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}` as Hex;
    await expectRevert(redeem(c, highS, rand), "ECDSA: invalid signature 's' value");
    // 64-byte compact signature.
    await expectRevert(redeem(c, good.slice(0, 130) as Hex, rand), 'INVALID_SIGNATURE_LENGTH');

    await redeemOk(ticket, good, rand);
  });

  test('replay, wrong recipientRand, losing ticket, null addresses', async () => {
    await fundBroadcaster(ETH, ETH);
    const { ticket, rand } = await makeTicket();
    const sig = sign(ticket);
    await expectRevert(redeem(toContractTicket(ticket), sig, rand + 1n), 'recipientRand does not match recipientRandHash');
    await redeemOk(ticket, sig, rand);
    await expectRevert(redeem(toContractTicket(ticket), sig, rand), 'ticket is used');

    const losing = await makeTicket({ winProb: 0n });
    await expectRevert(redeem(toContractTicket(losing.ticket), sign(losing.ticket), losing.rand), 'ticket did not win');

    const noRecipient = await makeTicket({ recipient: zeroAddress });
    await expectRevert(redeem(toContractTicket(noRecipient.ticket), sign(noRecipient.ticket), noRecipient.rand), 'ticket recipient is null address');
    const noSender = await makeTicket({ sender: zeroAddress });
    await expectRevert(redeem(toContractTicket(noSender.ticket), sign(noSender.ticket), noSender.rand), 'ticket sender is null address');
  });

  test('auxData: short, unknown round, wrong block hash, expired creation round', async () => {
    await fundBroadcaster(ETH, ETH);
    // Round 0 with a zero hash encodes as empty auxData (go-livepeer's format), which the contract refuses.
    const empty = await makeTicket({ creationRound: 0n, creationRoundBlockHash: zeroHash });
    assert.equal(toContractTicket(empty.ticket).auxData, '0x');
    await expectRevert(redeem(toContractTicket(empty.ticket), sign(empty.ticket), empty.rand), 'invalid length for ticket auxData: must be 64 bytes');
    const short = await makeTicket();
    const c = { ...toContractTicket(short.ticket), auxData: toContractTicket(short.ticket).auxData.slice(0, 66) as Hex };
    await expectRevert(redeem(c, sign(short.ticket), short.rand), 'invalid length for ticket auxData: must be 64 bytes');

    const future = await makeTicket({ creationRound: devnet.round + 5n });
    await expectRevert(redeem(toContractTicket(future.ticket), sign(future.ticket), future.rand), 'ticket creationRound does not have a block hash');
    const wrongHash = await makeTicket({ creationRoundBlockHash: `0x${'ab'.repeat(32)}` });
    await expectRevert(
      redeem(toContractTicket(wrongHash.ticket), sign(wrongHash.ticket), wrongHash.rand),
      'ticket creationRoundBlockHash invalid for creationRound',
    );

    // Valid during its round and the next one (ticketValidityPeriod 2), expired two rounds later.
    const old = await makeTicket();
    await initializeRound(devnet.rpcUrl, devnet.contracts);
    const stillValid = await makeTicket({ creationRound: old.ticket.creationRound, creationRoundBlockHash: old.ticket.creationRoundBlockHash });
    await redeemOk(stillValid.ticket, sign(stillValid.ticket), stillValid.rand);
    await initializeRound(devnet.rpcUrl, devnet.contracts);
    await expectRevert(redeem(toContractTicket(old.ticket), sign(old.ticket), old.rand), 'ticket is expired');
  });

  test('sender state: unfunded, unlocked; recipient not registered; round not initialized; paused', async () => {
    // Unfunded sender.
    const unfunded = await makeTicket();
    await expectRevert(redeem(toContractTicket(unfunded.ticket), sign(unfunded.ticket), unfunded.rand), 'sender deposit and reserve are zero');

    await fundBroadcaster(ETH, ETH);
    // Recipient that is not a registered orchestrator.
    const stranger = await makeTicket({ recipient: devnet.accounts.spare[2]!.address });
    await expectRevert(redeem(toContractTicket(stranger.ticket), sign(stranger.ticket), stranger.rand), 'transcoder must be registered');

    // Round started but not initialized.
    const pending = await makeTicket();
    await mineToNextRound(devnet.rpcUrl, devnet.contracts);
    await expectRevert(redeem(toContractTicket(pending.ticket), sign(pending.ticket), pending.rand), 'current round is not initialized');
    await initializeRound(devnet.rpcUrl, devnet.contracts);
    await redeemOk(pending.ticket, sign(pending.ticket), pending.rand);

    // Unlocked sender: unlock, then once the unlock period has passed no ticket redeems.
    const wallet = devnetWalletClient(devnet.rpcUrl, devnet.accounts.broadcaster.privateKey);
    await waitForSuccess(
      devnet.publicClient,
      await wallet.writeContract({ address: devnet.contracts.ticketBroker, abi: ticketBrokerAbi, functionName: 'unlock' }),
      'unlock',
    );
    await initializeRound(devnet.rpcUrl, devnet.contracts);
    const during = await makeTicket();
    await redeemOk(during.ticket, sign(during.ticket), during.rand); // still locked one round after unlock()
    await initializeRound(devnet.rpcUrl, devnet.contracts);
    const late = await makeTicket();
    await expectRevert(redeem(toContractTicket(late.ticket), sign(late.ticket), late.rand), 'sender is unlocked');

    // Paused system.
    const owner = devnetWalletClient(devnet.rpcUrl, devnet.accounts.deployer.privateKey);
    await waitForSuccess(
      devnet.publicClient,
      await owner.writeContract({ address: devnet.contracts.controller, abi: devControllerAbi, functionName: 'pause' }),
      'pause',
    );
    await expectRevert(redeem(toContractTicket(late.ticket), sign(late.ticket), late.rand), 'system is paused');
  });

  test('the earliest failing check wins, in the real contract’s order', async () => {
    await fundBroadcaster(ETH, ETH);
    const { ticket, rand } = await makeTicket();
    const sig = sign(ticket);
    await redeemOk(ticket, sig, rand);
    const otherSig = sign(ticket, devnet.accounts.spare[0]!.privateKey);
    // used + bad signature ⇒ "ticket is used"; bad rand + used ⇒ rand first; bad auxData + bad rand ⇒ auxData first.
    await expectRevert(redeem(toContractTicket(ticket), otherSig, rand), 'ticket is used');
    await expectRevert(redeem(toContractTicket(ticket), otherSig, rand + 1n), 'recipientRand does not match recipientRandHash');
    await expectRevert(redeem({ ...toContractTicket(ticket), auxData: '0x' }, otherSig, rand + 1n), 'invalid length for ticket auxData: must be 64 bytes');
    // bad signature + losing ticket ⇒ signature first.
    const losing = await makeTicket({ winProb: 0n });
    await expectRevert(
      redeem(toContractTicket(losing.ticket), sign(losing.ticket, devnet.accounts.spare[0]!.privateKey), losing.rand),
      'invalid signature over ticket hash',
    );
  });
});
