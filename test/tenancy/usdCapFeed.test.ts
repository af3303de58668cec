// USD spend caps against the devnet's ETH/USD feed (a Chainlink AggregatorV3 whose answer the deployer
// sets): the cap follows the feed's price, and a feed that answers 0, a negative price or a stale one
// refuses the caller's jobs (503) with nothing reserved or billed.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { devnetWalletClient, waitForSuccess } from '../../scripts/devnet/chain.ts';
import { devPriceFeedAbi } from '../../scripts/devnet/devAbi.ts';
import { connectEth, type EthConnection } from '../../src/eth/connect.ts';
import { EthPriceWatcher } from '../../src/eth/priceFeed.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { rat } from '../../src/lib/rat.ts';
import { openStateStore } from '../../src/store/openStateStore.ts';
import type { StateStore } from '../../src/store/stateStore.ts';
import { TrustedProxies } from '../../src/tenancy/clientAddress.ts';
import { PriceUnavailableError, SpendCapError } from '../../src/tenancy/errors.ts';
import { resolveLimits } from '../../src/tenancy/limits.ts';
import { type Principal, Tenancy } from '../../src/tenancy/tenancy.ts';
import { withDevnet } from '../helpers/devnet.ts';

const devnet = withDevnet();
const USD = 10n ** 8n; // the feed's 8 decimals

async function waitFor(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!cond()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('USD spend caps on the devnet price feed', () => {
  let conn: EthConnection;
  let watcher: EthPriceWatcher;
  let store: StateStore;
  let datadir: string;
  let tenancy: Tenancy;
  const setAnswer = async (answer: bigint) => {
    const owner = devnetWalletClient(devnet.rpcUrl, devnet.accounts.deployer.privateKey);
    // A fixed gas limit, not anvil's estimate. The estimate runs in the last block's second, where writing
    // the same timestamp again is nearly free; mined in the next second the write costs ~2,700 gas more,
    // and the transaction ran out of gas (seen when the machine was busy).
    const hash = await owner.writeContract({
      address: devnet.contracts.priceFeed,
      abi: devPriceFeedAbi,
      functionName: 'setAnswer',
      args: [answer],
      gas: 200_000n,
    });
    await waitForSuccess(devnet.publicClient, hash, 'setAnswer');
  };
  const usdPerEth = () => watcher.quote()?.usdPerEth;
  const principal = async (spendPerDay: string): Promise<Principal> => {
    const { key } = await tenancy.keys.create({ name: 'usd', tier: 'unlimited', limits: resolveLimits('unlimited', { spendPerDay }) });
    return { subject: key.id, keyId: key.id, name: key.name, limits: key.limits };
  };

  before(async () => {
    conn = await connectEth({ network: 'devnet', ethUrl: devnet.rpcUrl, ethController: devnet.contracts.controller, pollingIntervalMs: 20 });
    watcher = new EthPriceWatcher(conn.client, devnet.contracts.priceFeed, { intervalMs: 100, log: silentLogger() });
    await watcher.start();
    datadir = await mkdtemp(join(tmpdir(), 'lpgw-usdfeed-'));
    store = await openStateStore({ datadir, log: silentLogger() });
    tenancy = new Tenancy({ store, mode: 'required', proxies: new TrustedProxies(''), anonymousRequestsPerMinute: 1, ethUsd: () => watcher.quote() });
  });
  after(async () => {
    watcher?.stop();
    await store?.close();
    if (datadir) await rm(datadir, { recursive: true, force: true });
  });

  it("a 5USD cap is 2.5e15 wei at the devnet's 2000 USD/ETH and follows the feed; jobs that fit run, the next is 402", async () => {
    const p = await principal('5USD');
    assert.deepEqual(tenancy.capsInWei(p), [{ period: 'day', wei: 2_500_000_000_000_000n, usd: '5USD' }]);
    await setAnswer(2500n * USD);
    await waitFor('the new price', () => {
      const q = usdPerEth();
      return q !== undefined && q.num === 2500n * q.den;
    });
    const cap = 2_000_000_000_000_000n; // 5 / 2500 ETH
    assert.equal(tenancy.capsInWei(p)[0]!.wei, cap);
    const ev = rat(cap / 4n);
    for (let i = 0; i < 4; i++) {
      const r = await tenancy.reserve(p, `job-${i}`, ev);
      await tenancy.charge(p, { kind: 'ai', orchestrator: 'o', ev, faceValue: 1n, tickets: 1, units: 1n, ok: true }, r);
    }
    await assert.rejects(tenancy.reserve(p, 'job-5', rat(1n)), SpendCapError);
    assert.equal((await tenancy.spent(p.subject)).dayWei, cap);
    await setAnswer(2000n * USD);
  });

  it('hostile feed: an answer of 0 or below voids the price — 503, nothing reserved or billed — until a real price is back', async () => {
    const p = await principal('5USD');
    for (const answer of [0n, -2000n * USD]) {
      await setAnswer(answer);
      await waitFor(`the feed's answer ${answer} to void the price`, () => watcher.quote() === undefined);
      await assert.rejects(tenancy.reserve(p, `bad-${answer}`, rat(1000n)), (err: unknown) => err instanceof PriceUnavailableError && err.status === 503);
      await assert.rejects(tenancy.checkSpend(p), PriceUnavailableError);
    }
    assert.equal(await store.reservations.held('tenancy.spend', p.subject), 0n);
    assert.equal((await tenancy.spent(p.subject)).dayWei, 0n);
    await setAnswer(2000n * USD);
    await waitFor('a real price again', () => watcher.quote() !== undefined);
    assert.ok(await tenancy.reserve(p, 'good', rat(1000n)));
  });

  it('a stale answer (older than the bound) refuses with 503 and names the bound', async () => {
    const strict = new Tenancy({
      store,
      mode: 'required',
      proxies: new TrustedProxies(''),
      anonymousRequestsPerMinute: 1,
      ethUsd: () => watcher.quote(),
      priceMaxAgeMs: 2000,
    });
    const p = await principal('5USD');
    await setAnswer(2000n * USD);
    await waitFor('a fresh read', () => watcher.quote() !== undefined);
    // the feed is not updated again: after the bound its answer is stale, though it is still read
    await waitFor('the answer to age', () => Date.now() - Number(watcher.quote()!.updatedAt) * 1000 > 2500);
    await assert.rejects(strict.reserve(p, 'stale', rat(1n)), (err: unknown) => err instanceof PriceUnavailableError && /stale.*bound 2 s/.test(err.message));
    assert.equal(await store.reservations.held('tenancy.spend', p.subject), 0n);
  });
});
