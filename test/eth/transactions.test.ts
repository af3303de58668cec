// TicketBroker transactions below the CLI: reserve claims per orchestrator, a receipt that never comes
// (-transactionTimeout), a transaction that simulates fine but reverts on chain, progress reports.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseEther } from 'viem';
import { devnetTestClient, devnetWalletClient } from '../../scripts/devnet/chain.ts';
import { fundSender } from '../../scripts/devnet/deploy.ts';
import { devControllerAbi } from '../../scripts/devnet/devAbi.ts';
import { connectEth } from '../../src/eth/connect.ts';
import { TransactionError } from '../../src/eth/errors.ts';
import { readReserveClaims, readSenderState } from '../../src/eth/senderInfo.ts';
import { prepareBrokerTx, runBrokerAction, sendBrokerTx, type BrokerContext } from '../../src/eth/ticketBroker.ts';
import { createWallet, type TxProgress } from '../../src/eth/transactions.ts';
import { withDevnet } from '../helpers/devnet.ts';

const devnet = withDevnet({ resetEach: true });

async function context(): Promise<BrokerContext> {
  const conn = await connectEth({ network: 'devnet', ethUrl: devnet.rpcUrl, ethController: devnet.contracts.controller, pollingIntervalMs: 20 });
  return { eth: conn.client, contracts: conn.contracts, wallet: createWallet(conn.client, devnet.accounts.broadcaster.privateKey) };
}

describe('sender state', () => {
  test('reserve share per active orchestrator; 0 for an address that is not one', async () => {
    const ctx = await context();
    await fundSender(devnet.rpcUrl, devnet.contracts, devnet.accounts.broadcaster.privateKey, parseEther('1'), parseEther('0.3'));
    const s = await readSenderState(ctx.eth, ctx.contracts, ctx.wallet.address);
    assert.equal(s.status, 'Locked');
    assert.equal(s.poolSize, 3n);
    assert.equal(s.reserveShare, parseEther('0.1'));
    const claims = await readReserveClaims(ctx.eth, ctx.contracts, ctx.wallet.address, [
      ...devnet.orchestrators.map((o) => o.address),
      devnet.accounts.spare[0]!.address,
    ]);
    assert.deepEqual(
      claims.map((c) => [c.claimable, c.claimed]),
      [
        [parseEther('0.1'), 0n],
        [parseEther('0.1'), 0n],
        [parseEther('0.1'), 0n],
        [0n, 0n],
      ],
    );
  });
});

describe('transactions', () => {
  test('progress: sent, then mined', async () => {
    const ctx = await context();
    const seen: TxProgress['stage'][] = [];
    const r = await runBrokerAction(ctx, { kind: 'fundDeposit', amount: 1000n }, { onProgress: (p) => seen.push(p.stage) });
    assert.deepEqual(seen, ['sent', 'mined']);
    assert.equal(r.state.info.deposit, 1000n);
    assert.equal(r.receipt.status, 'success');
  });

  test('no receipt within -transactionTimeout: a timeout error with the hash', async () => {
    const ctx = await context();
    const test = devnetTestClient(devnet.rpcUrl);
    const prepared = await prepareBrokerTx(ctx, { kind: 'fundReserve', amount: 5n });
    await test.setAutomine(false);
    const stages: string[] = [];
    try {
      await assert.rejects(sendBrokerTx(ctx, prepared, { timeoutMs: 400, progressIntervalMs: 100, onProgress: (p) => stages.push(p.stage) }), (e: Error) => {
        assert.ok(e instanceof TransactionError && e.code === 'timeout');
        assert.match(
          e.message,
          /^no receipt for transaction 0x[0-9a-f]{64} after 400 ms \(-transactionTimeout\); it may still be mined: check `livepeer-gateway deposit info` before sending it again$/,
        );
        assert.equal(e.hash?.length, 66);
        return true;
      });
      assert.equal(stages[0], 'sent');
      assert.ok(stages.includes('pending'));
    } finally {
      await test.setAutomine(true);
    }
  });

  test('simulated fine, reverted on chain: a plain error naming the transaction', async () => {
    const ctx = await context();
    await fundSender(devnet.rpcUrl, devnet.contracts, devnet.accounts.broadcaster.privateKey, 10n, 10n);
    await runBrokerAction(ctx, { kind: 'unlock' });
    const prepared = await prepareBrokerTx(ctx, { kind: 'cancelUnlock' });
    // Funding from the account itself cancels the unlock before the prepared transaction is sent.
    await fundSender(devnet.rpcUrl, devnet.contracts, devnet.accounts.broadcaster.privateKey, 1n, 0n);
    await assert.rejects(sendBrokerTx(ctx, prepared), (e: Error) => {
      assert.ok(e instanceof TransactionError && e.code === 'reverted');
      assert.match(e.message, /^transaction 0x[0-9a-f]{64} was mined in block \d+ but reverted: nothing changed except the gas spent \([\d.]+ ETH\); /);
      return true;
    });
  });

  test('a paused protocol is refused before sending', async () => {
    const ctx = await context();
    const owner = devnetWalletClient(devnet.rpcUrl, devnet.accounts.deployer.privateKey);
    // pause() is the Controller owner's; the gateway's ABI leaves it out.
    await devnet.publicClient.waitForTransactionReceipt({
      hash: await owner.writeContract({ address: devnet.contracts.controller, abi: devControllerAbi, functionName: 'pause' }),
    });
    await assert.rejects(prepareBrokerTx(ctx, { kind: 'fundDeposit', amount: 1n }), (e: Error) => {
      assert.ok(e instanceof TransactionError && e.code === 'paused');
      assert.equal(e.message, 'the Livepeer protocol is paused (system is paused); nothing was sent: try again later');
      return true;
    });
  });
});
