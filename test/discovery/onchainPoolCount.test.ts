// How many RPC requests discovery makes for a full pool of 100 orchestrators, against the per-read
// sequential walk go-livepeer does (≈ 6 eth_calls per orchestrator).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getAddress, keccak256, toHex, type Address, type Hash } from 'viem';
import { devnetPublicClient, devnetWalletClient, waitForSuccess } from '../../scripts/devnet/chain.ts';
import { devBondingManagerAbi, devServiceRegistryAbi } from '../../scripts/devnet/devAbi.ts';
import { OnchainPool } from '../../src/discovery/onchainPool.ts';
import { newRpcStats } from '../../src/eth/client.ts';
import { connectEth } from '../../src/eth/connect.ts';
import { readTranscoderPool, walkTranscoderPoolWithHint } from '../../src/eth/transcoderPool.ts';
import { withDevnet } from '../helpers/devnet.ts';
import { silentLogger } from '../../src/lib/log.ts';

const devnet = withDevnet();
const POOL = 100;
const LPT = 10n ** 18n;

/** Registers `n` more orchestrators (addresses only; no keys needed) with distinct stakes and URIs. */
async function registerMany(n: number): Promise<{ address: Address; stake: bigint; uri: string }[]> {
  const wallet = devnetWalletClient(devnet.rpcUrl, devnet.accounts.deployer.privateKey);
  const pub = devnetPublicClient(devnet.rpcUrl);
  let nonce = await pub.getTransactionCount({ address: wallet.account.address, blockTag: 'pending' });
  const fees = { gas: 400_000n, maxFeePerGas: 10n ** 11n, maxPriorityFeePerGas: 10n ** 9n };
  const made = Array.from({ length: n }, (_, i) => ({
    address: getAddress(keccak256(toHex(`orchestrator ${i}`)).slice(0, 42) as Address),
    stake: BigInt(10 + i) * LPT,
    uri: `https://o${i}.devnet.invalid:8935`,
  }));
  const hashes: Hash[] = [];
  for (const o of made) {
    hashes.push(
      await wallet.writeContract({
        address: devnet.contracts.bondingManager,
        abi: devBondingManagerAbi,
        functionName: 'devRegisterTranscoder',
        args: [o.address, o.stake],
        nonce: nonce++,
        ...fees,
      }),
      await wallet.writeContract({
        address: devnet.contracts.serviceRegistry,
        abi: devServiceRegistryAbi,
        functionName: 'devSetServiceURI',
        args: [o.address, o.uri],
        nonce: nonce++,
        ...fees,
      }),
    );
  }
  for (const h of hashes) await waitForSuccess(pub, h, 'register');
  return made;
}

test(`discovery of a ${POOL}-orchestrator pool costs a handful of RPC requests`, async () => {
  const extra = await registerMany(POOL - devnet.orchestrators.length);
  const stats = newRpcStats();
  const conn = await connectEth({ network: 'devnet', ethUrl: devnet.rpcUrl, ethController: devnet.contracts.controller, stats });
  const connectRequests = stats.requests;

  const before = stats.requests;
  const t0 = performance.now();
  const pool = await readTranscoderPool(conn.client, conn.contracts);
  const ms = Math.round(performance.now() - t0);
  const readRequests = stats.requests - before;

  assert.equal(pool.length, POOL);
  const expected = new Map([...devnet.orchestrators.map((o) => [o.address, o.serviceURI] as const), ...extra.map((o) => [o.address, o.uri] as const)]);
  for (const o of pool) {
    assert.equal(o.serviceURI, expected.get(o.address), o.address);
    assert.ok(o.active && o.usable);
  }
  for (let i = 1; i < pool.length; i++) assert.ok(pool[i - 1]!.stake >= pool[i]!.stake, 'pool order is by stake');

  // Through the discovery component, as the node uses it (walk hint = previous order).
  const discovery = new OnchainPool({
    log: silentLogger(),
    read: (hint) => readTranscoderPool(conn.client, conn.contracts, { hint }),
    refreshIntervalMs: 3_600_000,
  });
  const beforeRefresh = stats.requests;
  await discovery.refresh();
  const refreshRequests = stats.requests - beforeRefresh;
  assert.equal(discovery.candidates().length, POOL);
  discovery.stop();

  // The fallback walk (for nodes that refuse eth_call with creation code) leans on the previous order.
  const order = pool.map((o) => o.address);
  let mark = stats.requests;
  assert.deepEqual(await walkTranscoderPoolWithHint(conn.client, conn.contracts, order), order);
  const hintedWalk = stats.requests - mark;
  mark = stats.requests;
  assert.deepEqual(await walkTranscoderPoolWithHint(conn.client, conn.contracts, order.slice(0, 50)), order);
  const halfHintedWalk = stats.requests - mark;
  assert.equal(hintedWalk, 1);
  assert.equal(halfHintedWalk, 1 + 50);
  console.log(`fallback walk: ${hintedWalk} request with the previous order as hint, ${halfHintedWalk} with half of it`);

  const perReadCalls = POOL * 6;
  console.log(
    `pool of ${POOL} orchestrators: ${readRequests} RPC requests in ${ms} ms (walk 1 + reads ${readRequests - 1}); ` +
      `a refresh: ${refreshRequests}; connecting: ${connectRequests} (chain id + Controller look-up). ` +
      `One eth_call per read, as go-livepeer does: ≈ ${perReadCalls} requests.`,
  );
  assert.ok(readRequests <= 4, `expected at most 4 requests, got ${readRequests}`);
  assert.ok(refreshRequests <= 4);
  assert.equal(connectRequests, 2);
});
