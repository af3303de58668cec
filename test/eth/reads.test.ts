// The control API's chain reads against the devnet: current round, ETH and LPT balances, protocol parameters.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { parseAbi } from 'viem';
import { devnetWalletClient, waitForSuccess } from '../../scripts/devnet/chain.ts';
import { devControllerAbi } from '../../scripts/devnet/devAbi.ts';
import { mineToNextRound } from '../../scripts/devnet/deploy.ts';
import { connectEth, type EthConnection } from '../../src/eth/connect.ts';
import { readCurrentRound } from '../../src/eth/readCurrentRound.ts';
import { readEthBalance } from '../../src/eth/readEthBalance.ts';
import { readProtocolParameters } from '../../src/eth/readProtocolParameters.ts';
import { readTokenBalance } from '../../src/eth/readTokenBalance.ts';
import { withDevnet } from '../helpers/devnet.ts';

const devnet = withDevnet({ resetEach: true });
const LPT = 10n ** 18n;

describe('chain reads', () => {
  let conn: EthConnection;
  before(async () => {
    conn = await connectEth({ network: 'devnet', ethUrl: devnet.rpcUrl, ethController: devnet.contracts.controller, pollingIntervalMs: 20 });
  });

  test('readCurrentRound follows the RoundsManager', async () => {
    assert.equal(await readCurrentRound(conn.client, conn.contracts), devnet.round);
    await mineToNextRound(devnet.rpcUrl, devnet.contracts);
    assert.equal(await readCurrentRound(conn.client, conn.contracts), devnet.round + 1n);
  });

  test('readEthBalance is the account balance at the latest block', async () => {
    const { broadcaster, spare } = devnet.accounts;
    assert.equal(await readEthBalance(conn.client, broadcaster.address), await devnet.publicClient.getBalance({ address: broadcaster.address }));
    const wallet = devnetWalletClient(devnet.rpcUrl, broadcaster.privateKey);
    const before = await readEthBalance(conn.client, spare[0]!.address);
    await waitForSuccess(devnet.publicClient, await wallet.sendTransaction({ to: spare[0]!.address, value: 12345n }), 'send ETH');
    assert.equal(await readEthBalance(conn.client, spare[0]!.address), before + 12345n);
  });

  test('readTokenBalance reads LPT balanceOf', async () => {
    const who = devnet.accounts.spare[1]!.address;
    assert.equal(await readTokenBalance(conn.client, conn.contracts, who), 0n);
    const owner = devnetWalletClient(devnet.rpcUrl, devnet.accounts.deployer.privateKey);
    const mint = await owner.writeContract({
      address: devnet.contracts.livepeerToken,
      abi: parseAbi(['function mint(address to, uint256 amount) returns (bool)']),
      functionName: 'mint',
      args: [who, 7n * LPT],
    });
    await waitForSuccess(devnet.publicClient, mint, 'mint LPT');
    assert.equal(await readTokenBalance(conn.client, conn.contracts, who), 7n * LPT);
  });

  test('readProtocolParameters: one request; what the devnet lacks is null; paused follows the Controller', async () => {
    const requests = conn.client.stats.requests;
    const p = await readProtocolParameters(conn.client, conn.contracts);
    assert.equal(conn.client.stats.requests - requests, 1, 'one Multicall3 request');
    assert.deepEqual(p, {
      numActiveTranscoders: 100n,
      roundLength: 20n,
      roundLockAmount: 100_000n,
      // The devnet's BondingManager has no unbondingPeriod and its Minter no inflation parameters.
      unbondingPeriod: null,
      inflation: null,
      inflationChange: null,
      targetBondingRate: null,
      totalBonded: 6_000n * LPT,
      totalSupply: null,
      paused: false,
    });
    const owner = devnetWalletClient(devnet.rpcUrl, devnet.accounts.deployer.privateKey);
    await waitForSuccess(
      devnet.publicClient,
      await owner.writeContract({ address: devnet.contracts.controller, abi: devControllerAbi, functionName: 'pause' }),
      'pause',
    );
    assert.equal((await readProtocolParameters(conn.client, conn.contracts)).paused, true);
  });
});
