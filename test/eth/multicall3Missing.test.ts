// A chain without Multicall3 at its canonical address: the multi-reads (Controller look-up, rounds, pool
// walk, sender state with its ETH balance) fall back to plain eth_calls, with one message saying so.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEther } from 'viem';
import { MULTICALL3_ADDRESS } from '../../src/eth/abi/multicall3.ts';
import { connectEth } from '../../src/eth/connect.ts';
import { RoundsWatcher } from '../../src/eth/rounds.ts';
import { readSenderState } from '../../src/eth/senderInfo.ts';
import { readTranscoderPool } from '../../src/eth/transcoderPool.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { withDevnet } from '../helpers/devnet.ts';

const devnet = withDevnet({ resetEach: true });

async function clearMulticall3(rpcUrl: string): Promise<void> {
  const res = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_setCode', params: [MULTICALL3_ADDRESS, '0x'] }),
  });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { error?: unknown }).error, undefined);
}

test('no Multicall3: contracts, rounds, the pool and the sender state are read with plain calls; said once', async () => {
  await clearMulticall3(devnet.rpcUrl);
  const said: string[] = [];
  const conn = await connectEth({
    network: 'devnet',
    ethUrl: devnet.rpcUrl,
    ethController: devnet.contracts.controller,
    pollingIntervalMs: 20,
    onPlainReads: (m) => said.push(m),
  });
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
  assert.equal(said.length, 1);
  assert.match(said[0]!, new RegExp(`no Multicall3 contract at its canonical address ${MULTICALL3_ADDRESS}: chain reads go out as plain eth_calls`));

  // discovery: the pool walk and the per-orchestrator reads
  const pool = await readTranscoderPool(conn.client, conn.contracts);
  const registered = devnet.orchestrators.map((o) => o.address.toLowerCase()).sort();
  assert.deepEqual(pool.map((o) => o.address.toLowerCase()).sort(), registered);
  assert.ok(
    pool.every((o) => o.serviceURI.startsWith('https://')),
    JSON.stringify(pool, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
  );

  // Multicall3's getEthBalance becomes eth_getBalance
  const state = await readSenderState(conn.client, conn.contracts, devnet.accounts.broadcaster.address);
  assert.ok(state.balance > parseEther('1'), String(state.balance));

  const rounds = new RoundsWatcher(conn.client, conn.contracts, { intervalMs: 60_000, log: silentLogger() });
  await rounds.start();
  try {
    assert.equal(rounds.snapshot()?.lastInitializedRound, devnet.round);
  } finally {
    rounds.stop();
  }
  assert.equal(said.length, 1, 'said once, not at every read');
});

test('with Multicall3: one request for the contracts, nothing said', async () => {
  const said: string[] = [];
  const conn = await connectEth({
    network: 'devnet',
    ethUrl: devnet.rpcUrl,
    ethController: devnet.contracts.controller,
    pollingIntervalMs: 20,
    onPlainReads: (m) => said.push(m),
  });
  assert.equal(conn.contracts.ticketBroker, devnet.contracts.ticketBroker);
  assert.equal(conn.client.stats.requests, 2, 'eth_chainId + one multicall');
  assert.deepEqual(said, []);
});
