// TicketBroker transactions handed in at once run one after the other on the devnet: each one is checked
// against the state the one before it left, and a refused one does not hold up the rest.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectEth } from '../../src/eth/connect.ts';
import { TransactionError } from '../../src/eth/errors.ts';
import { readSenderInfo } from '../../src/eth/senderInfo.ts';
import { TransactionQueue } from '../../src/eth/transactionQueue.ts';
import { createWallet } from '../../src/eth/transactions.ts';
import { withDevnet } from '../helpers/devnet.ts';

const devnet = withDevnet();

test('sends in order, each after the previous one is mined', async () => {
  const conn = await connectEth({ network: 'devnet', ethUrl: devnet.rpcUrl, ethController: devnet.contracts.controller, pollingIntervalMs: 20 });
  const wallet = createWallet(conn.client, devnet.accounts.broadcaster.privateKey);
  const queue = new TransactionQueue({ eth: conn.client, contracts: conn.contracts, wallet });
  // Handed in together: the unlock is only possible once the deposit is mined, and the withdraw is refused
  // (the unlock period has not passed) without stopping the reserve funding behind it.
  const [fund, unlock, withdraw, reserve] = await Promise.allSettled([
    queue.send({ kind: 'fundDeposit', amount: 10n ** 17n }),
    queue.send({ kind: 'unlock' }),
    queue.send({ kind: 'withdraw' }),
    queue.send({ kind: 'fundReserve', amount: 5n * 10n ** 16n }),
  ]);
  assert.equal(fund.status, 'fulfilled');
  assert.equal(unlock.status, 'fulfilled', unlock.status === 'rejected' ? String(unlock.reason) : '');
  assert.equal(withdraw.status, 'rejected');
  assert.ok(withdraw.reason instanceof TransactionError && withdraw.reason.code === 'still-unlocking', String(withdraw.reason));
  assert.equal(reserve.status, 'fulfilled');
  if (fund.status !== 'fulfilled' || unlock.status !== 'fulfilled' || reserve.status !== 'fulfilled') return;
  assert.ok(fund.value.receipt.blockNumber < unlock.value.receipt.blockNumber);
  assert.ok(unlock.value.receipt.blockNumber < reserve.value.receipt.blockNumber);
  const info = await readSenderInfo(conn.client, conn.contracts, wallet.address);
  assert.equal(info.deposit, 10n ** 17n);
  assert.equal(info.reserve.fundsRemaining, 5n * 10n ** 16n);
  assert.equal(info.withdrawRound, 0n, 'funding cancels the unlock in progress');
});
