// A broadcaster's deposit and reserve on the devnet TicketBroker: funding, unlock, cancel, withdraw.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseEventLogs, type Hex, type TransactionReceipt } from 'viem';
import { ticketBrokerAbi } from '../../src/eth/abi/index.ts';
import { devnetWalletClient, waitForSuccess } from '../../scripts/devnet/chain.ts';
import { fundSender, initializeRound, mineToNextRound } from '../../scripts/devnet/deploy.ts';
import { expectRevert, senderState, withDevnet } from '../helpers/devnet.ts';

const ETH = 10n ** 18n;
const devnet = withDevnet({ resetEach: true });

function broker(privateKey: Hex) {
  const wallet = devnetWalletClient(devnet.rpcUrl, privateKey);
  const address = devnet.contracts.ticketBroker;
  const send = async (functionName: 'fundDeposit' | 'fundReserve' | 'unlock' | 'cancelUnlock' | 'withdraw', value?: bigint): Promise<TransactionReceipt> =>
    waitForSuccess(
      devnet.publicClient,
      await wallet.writeContract({ address, abi: ticketBrokerAbi, functionName, ...(value === undefined ? {} : { value }) } as never),
      functionName,
    );
  return { wallet, address, send };
}

const senderInfo = (sender: `0x${string}`) => senderState(devnet, sender);

function events(receipt: TransactionReceipt) {
  return parseEventLogs({ abi: ticketBrokerAbi, logs: receipt.logs }).map((e) => ({ name: e.eventName, args: e.args }));
}

describe('funding', () => {
  test('fundDepositAndReserve: getSenderInfo shows it, events in the real order, ETH held by the Minter', async () => {
    const b = devnet.accounts.broadcaster;
    assert.deepEqual(await senderInfo(b.address), { deposit: 0n, withdrawRound: 0n, reserve: 0n, claimed: 0n });

    const receipt = await fundSender(devnet.rpcUrl, devnet.contracts, b.privateKey, 1n * ETH, ETH / 2n);
    assert.deepEqual(await senderInfo(b.address), { deposit: ETH, withdrawRound: 0n, reserve: ETH / 2n, claimed: 0n });
    assert.deepEqual(events(receipt), [
      { name: 'ReserveFunded', args: { reserveHolder: b.address, amount: ETH / 2n } },
      { name: 'DepositFunded', args: { sender: b.address, amount: ETH } },
    ]);
    // Topic 1 is the sender, so a node can filter its own funding events.
    const [log] = await devnet.publicClient.getContractEvents({
      address: devnet.contracts.ticketBroker,
      abi: ticketBrokerAbi,
      eventName: 'DepositFunded',
      args: { sender: b.address },
      fromBlock: 0n,
    });
    assert.equal(log?.args.amount, ETH);

    assert.equal(await devnet.publicClient.getBalance({ address: devnet.contracts.minter }), ETH + ETH / 2n);
    assert.equal(await devnet.publicClient.getBalance({ address: devnet.contracts.ticketBroker }), 0n);
    const reserveInfo = await devnet.publicClient.readContract({
      address: devnet.contracts.ticketBroker,
      abi: ticketBrokerAbi,
      functionName: 'getReserveInfo',
      args: [b.address],
    });
    assert.deepEqual(reserveInfo, { fundsRemaining: ETH / 2n, claimedInCurrentRound: 0n });

    await expectRevert(
      devnetWalletClient(devnet.rpcUrl, b.privateKey).writeContract({
        address: devnet.contracts.ticketBroker,
        abi: ticketBrokerAbi,
        functionName: 'fundDepositAndReserve',
        args: [ETH, ETH],
        value: ETH,
      }),
      'msg.value does not equal sum of deposit amount and reserve amount',
    );
  });

  test('fundDeposit, fundReserve and third-party fundDepositAndReserveFor', async () => {
    const b = devnet.accounts.broadcaster;
    const me = broker(b.privateKey);
    assert.deepEqual(events(await me.send('fundDeposit', 3n)), [{ name: 'DepositFunded', args: { sender: b.address, amount: 3n } }]);
    assert.deepEqual(events(await me.send('fundReserve', 5n)), [{ name: 'ReserveFunded', args: { reserveHolder: b.address, amount: 5n } }]);

    const payer = devnetWalletClient(devnet.rpcUrl, devnet.accounts.spare[0]!.privateKey);
    await waitForSuccess(
      devnet.publicClient,
      await payer.writeContract({
        address: devnet.contracts.ticketBroker,
        abi: ticketBrokerAbi,
        functionName: 'fundDepositAndReserveFor',
        args: [b.address, 10n, 0n],
        value: 10n,
      }),
      'fundDepositAndReserveFor',
    );
    assert.deepEqual(await senderInfo(b.address), { deposit: 13n, withdrawRound: 0n, reserve: 5n, claimed: 0n });
    assert.deepEqual(await senderInfo(devnet.accounts.spare[0]!.address), { deposit: 0n, withdrawRound: 0n, reserve: 0n, claimed: 0n });
  });
});

describe('unlock, cancelUnlock, withdraw', () => {
  test('revert strings of an empty or locked sender', async () => {
    const empty = broker(devnet.accounts.spare[1]!.privateKey);
    const call = (functionName: 'unlock' | 'cancelUnlock' | 'withdraw') =>
      empty.wallet.writeContract({ address: empty.address, abi: ticketBrokerAbi, functionName });
    await expectRevert(call('unlock'), 'sender deposit and reserve are zero');
    await expectRevert(call('withdraw'), 'sender deposit and reserve are zero');
    await expectRevert(call('cancelUnlock'), 'no unlock request in progress');

    await empty.send('fundDeposit', ETH);
    await expectRevert(call('withdraw'), 'no unlock request in progress');
    await empty.send('unlock');
    await expectRevert(call('unlock'), 'unlock already initiated');
    await expectRevert(call('withdraw'), 'account is locked');
  });

  test('unlock then cancelUnlock; self-funding cancels an unlock, funding by someone else does not', async () => {
    const b = devnet.accounts.broadcaster;
    const me = broker(b.privateKey);
    await fundSender(devnet.rpcUrl, devnet.contracts, b.privateKey, ETH, ETH);
    const round = devnet.round;

    assert.deepEqual(events(await me.send('unlock')), [{ name: 'Unlock', args: { sender: b.address, startRound: round, endRound: round + 2n } }]);
    assert.equal((await senderInfo(b.address)).withdrawRound, round + 2n);
    const inProgress = () =>
      devnet.publicClient.readContract({ address: me.address, abi: ticketBrokerAbi, functionName: 'isUnlockInProgress', args: [b.address] });
    assert.equal(await inProgress(), true);

    assert.deepEqual(events(await me.send('cancelUnlock')), [{ name: 'UnlockCancelled', args: { sender: b.address } }]);
    assert.equal(await inProgress(), false);
    assert.equal((await senderInfo(b.address)).withdrawRound, 0n);

    // Someone else topping up does not cancel.
    await me.send('unlock');
    const payer = devnetWalletClient(devnet.rpcUrl, devnet.accounts.spare[0]!.privateKey);
    await waitForSuccess(
      devnet.publicClient,
      await payer.writeContract({
        address: me.address,
        abi: ticketBrokerAbi,
        functionName: 'fundDepositAndReserveFor',
        args: [b.address, 1n, 1n],
        value: 2n,
      }),
      'fundDepositAndReserveFor',
    );
    assert.equal(await inProgress(), true);

    // The sender topping up itself does, before the funding events.
    const receipt = await fundSender(devnet.rpcUrl, devnet.contracts, b.privateKey, 1n, 1n);
    assert.deepEqual(
      events(receipt).map((e) => e.name),
      ['UnlockCancelled', 'ReserveFunded', 'DepositFunded'],
    );
    assert.equal(await inProgress(), false);
  });

  test('withdraw after the unlock period pays deposit and reserve back out of the Minter', async () => {
    const b = devnet.accounts.broadcaster;
    const me = broker(b.privateKey);
    await fundSender(devnet.rpcUrl, devnet.contracts, b.privateKey, 2n * ETH, ETH);
    await me.send('unlock');

    // One round later it is still locked; withdraw needs the round to have started, not to be initialized.
    await mineToNextRound(devnet.rpcUrl, devnet.contracts);
    await expectRevert(me.wallet.writeContract({ address: me.address, abi: ticketBrokerAbi, functionName: 'withdraw' }), 'account is locked');
    await mineToNextRound(devnet.rpcUrl, devnet.contracts);

    const before = await devnet.publicClient.getBalance({ address: b.address });
    const receipt = await me.send('withdraw');
    assert.deepEqual(events(receipt), [{ name: 'Withdrawal', args: { sender: b.address, deposit: 2n * ETH, reserve: ETH } }]);
    const after = await devnet.publicClient.getBalance({ address: b.address });
    assert.equal(after - before, 3n * ETH - receipt.gasUsed * receipt.effectiveGasPrice);
    assert.deepEqual(await senderInfo(b.address), { deposit: 0n, withdrawRound: 2n + devnet.round, reserve: 0n, claimed: 0n });
    assert.equal(await devnet.publicClient.getBalance({ address: devnet.contracts.minter }), 0n);

    // Funding again afterwards starts a new, locked life (the stale withdrawRound is cancelled by self-funding).
    await initializeRound(devnet.rpcUrl, devnet.contracts);
    await fundSender(devnet.rpcUrl, devnet.contracts, b.privateKey, ETH, 0n);
    assert.equal((await senderInfo(b.address)).withdrawRound, 0n);
  });
});
