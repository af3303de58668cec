// Rounds watcher and contract look-up against the devnet: snapshot values, round events, the
// creation-round fallback, and the one-request Controller look-up.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { zeroHash, type Hex } from 'viem';
import { initializeRound, mineBlocks, mineToNextRound } from '../../scripts/devnet/deploy.ts';
import { connectEth } from '../../src/eth/connect.ts';
import { connectEthClient, newRpcStats } from '../../src/eth/client.ts';
import { ContractNotFoundError } from '../../src/eth/errors.ts';
import { resolveNetwork, type OnchainNetwork } from '../../src/eth/networks.ts';
import { expirationFor, latestL1Block, RoundsWatcher, type RoundSnapshot } from '../../src/eth/rounds.ts';
import { withDevnet } from '../helpers/devnet.ts';
import { silentLogger } from '../../src/lib/log.ts';

const devnet = withDevnet({ resetEach: true });

const settings = () => ({
  network: 'devnet',
  ethUrl: devnet.rpcUrl,
  ethController: devnet.contracts.controller,
  pollingIntervalMs: 20,
});

describe('contracts', () => {
  test('all six addresses come from the Controller in one request', async () => {
    const stats = newRpcStats();
    const conn = await connectEth({ ...settings(), stats });
    const c = devnet.contracts;
    assert.deepEqual(conn.contracts, {
      controller: c.controller,
      ticketBroker: c.ticketBroker,
      bondingManager: c.bondingManager,
      roundsManager: c.roundsManager,
      serviceRegistry: c.serviceRegistry,
      livepeerToken: c.livepeerToken,
      minter: c.minter,
    });
    assert.equal(stats.requests, 2, 'eth_chainId + one multicall');
  });

  test('a wrong -ethController is a clear error', async () => {
    await assert.rejects(
      connectEth({ ...settings(), ethController: devnet.accounts.spare[0]!.address }),
      (e: Error) => e instanceof ContractNotFoundError && /no Livepeer Controller at 0x9965.* check -ethController/.test(e.message),
    );
  });
});

describe('RoundsWatcher', () => {
  test('snapshot: rounds, hash, last L1 block, pool size, validity period', async () => {
    const conn = await connectEth(settings());
    const w = new RoundsWatcher(conn.client, conn.contracts, { intervalMs: 60_000, log: silentLogger() });
    try {
      const s = await w.start();
      const block = await devnet.publicClient.getBlockNumber({ cacheTime: 0 });
      assert.equal(s.currentRound, devnet.round);
      assert.equal(s.lastInitializedRound, devnet.round);
      assert.equal(s.currentRoundInitialized, true);
      assert.notEqual(s.lastInitializedBlockHash, zeroHash);
      assert.deepEqual(s.expiration, { creationRound: devnet.round, creationRoundBlockHash: s.lastInitializedBlockHash });
      assert.equal(s.lastSeenL1Block, block, 'anvil has no l1BlockNumber: the block number is used');
      assert.equal(s.poolSize, 3n);
      assert.equal(s.ticketValidityPeriod, 2n);
      assert.equal(s.roundLength, 20n);
      assert.deepEqual(w.chainView(), { lastSeenL1Block: block, lastInitializedRound: devnet.round, ticketValidityPeriod: 2n });
      assert.deepEqual(w.expirationParams(), s.expiration);
    } finally {
      w.stop();
    }
  });

  test('emits round on a new round and on its initialization; an unchanged block costs one request', async () => {
    const stats = newRpcStats();
    const conn = await connectEth({ ...settings(), stats });
    const w = new RoundsWatcher(conn.client, conn.contracts, { intervalMs: 60_000, log: silentLogger() });
    const events: [bigint, bigint][] = [];
    w.on('round', (s: RoundSnapshot) => events.push([s.currentRound, s.lastInitializedRound]));
    try {
      await w.start();
      const before = stats.requests;
      await w.poll();
      assert.equal(stats.requests - before, 1, 'same L1 block: only eth_getBlockByNumber');

      const next = await mineToNextRound(devnet.rpcUrl, devnet.contracts);
      let s = await w.poll();
      assert.equal(s.currentRound, next);
      assert.equal(s.currentRoundInitialized, false);
      assert.equal(s.lastInitializedRound, devnet.round);

      await initializeRound(devnet.rpcUrl, devnet.contracts);
      s = await w.poll();
      assert.equal(s.lastInitializedRound, next);
      assert.deepEqual(events, [
        [devnet.round, devnet.round],
        [next, devnet.round],
        [next, next],
      ]);
      await mineBlocks(devnet.rpcUrl, 1);
      await w.poll();
      assert.equal(events.length, 3, 'a block within the round is no event');
    } finally {
      w.stop();
    }
  });

  test('idle polling is rare; speeding up polls at once, so a round change during the idle stretch is seen', async () => {
    const stats = newRpcStats();
    const conn = await connectEth({ ...settings(), stats });
    const w = new RoundsWatcher(conn.client, conn.contracts, { intervalMs: 3_600_000, log: silentLogger() });
    try {
      await w.start();
      const idle = stats.requests;
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(stats.requests, idle, 'no request between idle polls');

      const next = await mineToNextRound(devnet.rpcUrl, devnet.contracts);
      w.setIntervalMs(100);
      assert.equal(w.intervalMs, 100);
      for (let i = 0; i < 200 && w.snapshot()?.currentRound !== next; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(w.snapshot()?.currentRound, next, 'the new round is seen as soon as polling speeds up');
      const fast = stats.requests;
      for (let i = 0; i < 200 && stats.requests < fast + 2; i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(stats.requests >= fast + 2, 'polls at the fast rate');

      w.setIntervalMs(3_600_000);
      await new Promise((r) => setTimeout(r, 300)); // a poll already under way finishes
      const slow = stats.requests;
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(stats.requests, slow, 'slow again');
    } finally {
      w.stop();
    }
  });

  test('chainView before the first poll is a clear error', async () => {
    const conn = await connectEth(settings());
    const w = new RoundsWatcher(conn.client, conn.contracts, { log: silentLogger() });
    assert.throws(() => w.chainView(), /round information is not available yet/);
  });
});

test('expirationFor: round − 1 when the stored hash is zero (Arbitrum)', () => {
  const h = `0x${'ab'.repeat(32)}` as Hex;
  const p = `0x${'cd'.repeat(32)}` as Hex;
  assert.deepEqual(expirationFor(10n, h, p), { creationRound: 10n, creationRoundBlockHash: h });
  assert.deepEqual(expirationFor(10n, zeroHash, p), { creationRound: 9n, creationRoundBlockHash: p });
  assert.deepEqual(expirationFor(0n, zeroHash, zeroHash), { creationRound: 0n, creationRoundBlockHash: zeroHash });
});

test("last seen block: Arbitrum's l1BlockNumber of the latest block, else its number", async () => {
  let block: Record<string, string> = { number: '0x10000', l1BlockNumber: '0x1234' };
  // A minimal JSON-RPC node standing in for an Arbitrum RPC (anvil blocks have no l1BlockNumber).
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const { id, method } = JSON.parse(body) as { id: number; method: string };
      const result = method === 'eth_chainId' ? '0xa4b1' : method === 'eth_getBlockByNumber' ? block : null;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id, result }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = await connectEthClient({ urls: [url], network: resolveNetwork('arbitrum-one-mainnet') as OnchainNetwork });
    assert.equal(await latestL1Block(client), 0x1234n);
    block = { number: '0x10000' };
    assert.equal(await latestL1Block(client), 0x10000n);
  } finally {
    server.close();
  }
});
