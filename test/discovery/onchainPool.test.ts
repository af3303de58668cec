// On-chain discovery against the devnet: every registered orchestrator with stake and URI, inactive and
// unusable ones skipped (never fatal), and the level cache serving the pool after a restart with the RPC down.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Address } from 'viem';
import { deactivateOrchestrator, mineToNextRound, setServiceURI } from '../../scripts/devnet/deploy.ts';
import { OnchainPool, type RoundSource } from '../../src/discovery/onchainPool.ts';
import { connectEth, lazyConnection, type EthSettings } from '../../src/eth/connect.ts';
import { EthUnreachableError } from '../../src/eth/errors.ts';
import { RoundsWatcher } from '../../src/eth/rounds.ts';
import { readTranscoderPool, type PoolOrchestrator } from '../../src/eth/transcoderPool.ts';
import { DatadirChainMismatchError } from '../../src/store/errors.ts';
import { PoolCache } from '../../src/store/poolCache.ts';
import { withDevnet, type DevnetOrchestrator } from '../helpers/devnet.ts';
import { closedPort } from '../eth/helpers.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { captureLog } from '../helpers/logCapture.ts';

const devnet = withDevnet({ resetEach: true });
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function datadir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'lpgw-pool-'));
  dirs.push(d);
  return d;
}

const settings = (): EthSettings => ({ network: 'devnet', ethUrl: devnet.rpcUrl, ethController: devnet.contracts.controller, pollingIntervalMs: 20 });

/** A pool wired as the node wires it: lazy connection, cache, rounds watcher. */
async function startPool(s: EthSettings, cache: PoolCache, rounds?: RoundSource): Promise<OnchainPool> {
  const eth = lazyConnection(s);
  const pool = new OnchainPool({
    log: silentLogger(),
    read: async (hint) => {
      const c = await eth();
      return readTranscoderPool(c.client, c.contracts, { hint });
    },
    cache,
    ...(rounds ? { rounds } : {}),
    refreshIntervalMs: 3_600_000,
  });
  await pool.start();
  return pool;
}

describe('on-chain discovery', () => {
  test('all registered orchestrators, in stake order, with stake, URI and rounds', async () => {
    const conn = await connectEth(settings());
    const pool = await readTranscoderPool(conn.client, conn.contracts);
    const byStake = [...devnet.orchestrators].sort((a, b) => (a.stake > b.stake ? -1 : 1));
    assert.deepEqual(
      pool.map((o) => [o.address, o.serviceURI, o.stake, o.active, o.status, o.usable]),
      byStake.map((o) => [o.address, o.serviceURI, o.stake, true, 'Registered', true]),
    );
    for (const o of pool) {
      assert.ok(o.activationRound <= devnet.round);
      assert.equal(o.deactivationRound, 2n ** 256n - 1n);
    }
  });

  test('inactive orchestrators are skipped; empty and malformed URIs are kept but unusable', async () => {
    const [o1, o2, o3] = devnet.orchestrators as [DevnetOrchestrator, DevnetOrchestrator, DevnetOrchestrator];
    await setServiceURI(devnet.rpcUrl, devnet.contracts, o1.address, '');
    await setServiceURI(devnet.rpcUrl, devnet.contracts, o2.address, 'not a url :://');
    await deactivateOrchestrator(devnet.rpcUrl, devnet.contracts, o3.address);

    const conn = await connectEth(settings());
    const rounds = new RoundsWatcher(conn.client, conn.contracts, { intervalMs: 60_000, log: silentLogger() });
    await rounds.start();
    const cache = await PoolCache.open(await datadir(), { chainId: conn.client.chainId });
    const pool = await startPool(settings(), cache, rounds);
    try {
      await pool.refresh();
      const all = pool.orchestrators();
      assert.deepEqual(all.map((o) => o.address).sort(), [o1.address, o2.address].sort(), 'the deactivated one left the pool');
      const empty = all.find((o) => o.address === o1.address)!;
      const garbage = all.find((o) => o.address === o2.address)!;
      assert.deepEqual([empty.usable, empty.unusableReason], [false, 'no service URI registered']);
      assert.deepEqual([garbage.usable, garbage.unusableReason, garbage.serviceURI], [false, 'service URI is not a URL', 'not a url :://']);
      assert.deepEqual(pool.candidates(), []);

      await setServiceURI(devnet.rpcUrl, devnet.contracts, o1.address, 'https://o1.example:8935');
      await mineToNextRound(devnet.rpcUrl, devnet.contracts);
      await rounds.poll(); // the new round triggers a refresh
      await pool.refresh();
      assert.deepEqual(pool.candidates(), [{ address: o1.address, serviceURI: 'https://o1.example:8935', stake: o1.stake }]);
      const source = pool.asCandidateSource();
      assert.equal(source.kind, 'onchain');
      assert.deepEqual(await source.candidates(), [{ uri: 'https://o1.example:8935', score: 0, address: o1.address, stake: o1.stake }]);
    } finally {
      pool.stop();
      rounds.stop();
      await cache.close();
    }
  });

  test('restart with a dead RPC: the cached pool is served at once', async () => {
    const dir = await datadir();
    const first = await PoolCache.open(dir, { chainId: 42161 });
    const p1 = await startPool(settings(), first);
    await p1.refresh();
    const before = p1.candidates();
    assert.equal(before.length, 3);
    p1.stop();
    await first.close();

    const dead = { ...settings(), ethUrl: `http://127.0.0.1:${await closedPort()}` };
    const second = await PoolCache.open(dir);
    const p2 = await startPool(dead, second);
    try {
      assert.deepEqual(p2.candidates(), before, 'candidates come from the cache');
      assert.equal(p2.status().source, 'cache');
      await assert.rejects(p2.refresh(), (e: Error) => e instanceof EthUnreachableError);
      assert.deepEqual(p2.candidates(), before, 'a failed refresh keeps the cached pool');
      assert.match(p2.status().lastError ?? '', /cannot reach the Ethereum RPC/);
    } finally {
      p2.stop();
      await second.close();
    }
  });

  test("a data directory of another chain is refused with go-livepeer's message", async () => {
    const dir = await datadir();
    await (await PoolCache.open(dir, { chainId: 42161 })).close();
    await assert.rejects(PoolCache.open(dir, { chainId: 1 }), (e: Error) => {
      assert.ok(e instanceof DatadirChainMismatchError);
      assert.equal(e.message, 'expecting chainID of 42161, but got 1. Did you change networks without changing network name or datadir?');
      return true;
    });
    const again = await PoolCache.open(dir, { chainId: 42161 });
    await again.close();
  });
});

describe('candidate rules (no chain)', () => {
  const o = (addr: string, extra: Partial<PoolOrchestrator>): PoolOrchestrator => ({
    address: addr as Address,
    serviceURI: 'https://o.example:8935',
    stake: 1n,
    active: true,
    activationRound: 1n,
    deactivationRound: 2n ** 256n - 1n,
    lastRewardRound: 0n,
    lastActiveStakeUpdateRound: 0n,
    rewardCut: 0n,
    feeShare: 0n,
    status: 'Registered',
    usable: true,
    ...extra,
  });

  test('activation rounds decide against the current round; the read-time flag only without one', async () => {
    const list = [
      o('0x0000000000000000000000000000000000000001', {}),
      o('0x0000000000000000000000000000000000000002', { activationRound: 6n, active: false }), // joins next round
      o('0x0000000000000000000000000000000000000003', { deactivationRound: 5n }), // leaves this round
      o('0x0000000000000000000000000000000000000004', { usable: false, unusableReason: 'service URI is not a URL' }),
    ];
    let round = 5n;
    const listeners: (() => void)[] = [];
    const rounds: RoundSource = {
      snapshot: () => ({ currentRound: round }),
      on: (_e, l) => listeners.push(l as () => void),
      off: () => undefined,
    };
    const pool = new OnchainPool({ log: silentLogger(), read: async () => list, rounds, refreshIntervalMs: 3_600_000 });
    await pool.start();
    await pool.refresh();
    assert.deepEqual(
      pool.candidates().map((c) => c.address.slice(-1)),
      ['1'],
    );
    round = 6n;
    assert.deepEqual(
      pool.candidates().map((c) => c.address.slice(-1)),
      ['1', '2'],
    );
    pool.stop();

    const noRounds = new OnchainPool({ log: silentLogger(), read: async () => list, refreshIntervalMs: 3_600_000 });
    await noRounds.start();
    await noRounds.refresh();
    assert.deepEqual(
      noRounds.candidates().map((c) => c.address.slice(-1)),
      ['1', '3'],
    );
    noRounds.stop();
  });
});

describe('stopping', () => {
  test('a chain read still running when the pool stops is neither cached nor logged: the node closes its store next', async () => {
    const cache = await PoolCache.open(await datadir());
    const { log, lines } = captureLog();
    let answer: (list: PoolOrchestrator[]) => void = () => undefined;
    const pool = new OnchainPool({ log, read: () => new Promise((r) => (answer = r)), cache, refreshIntervalMs: 3_600_000 });
    await pool.start(); // its first refresh is now waiting on the chain
    const inFlight = pool.refresh();
    pool.stop();
    await cache.close();
    answer([]);
    await inFlight;
    assert.deepEqual(
      lines().filter((l) => (l.level as number) >= 40),
      [],
    );
    assert.equal(pool.status().source, 'none');
  });
});
