// Spend caps without overshoot, and caps in USD: each paid job reserves its cost before its tickets
// leave, so concurrent jobs on two instances sharing PostgreSQL (or one on Level) never together pass
// a cap; a USD cap is turned into wei with the ETH/USD price, and refuses (nothing billed) without a
// fresh one.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/lib/log.ts';
import { rat, type Rat } from '../../src/lib/rat.ts';
import { openStateStore } from '../../src/store/openStateStore.ts';
import type { StateStore } from '../../src/store/stateStore.ts';
import { TrustedProxies } from '../../src/tenancy/clientAddress.ts';
import { PriceUnavailableError, SpendCapError, TenancyInputError } from '../../src/tenancy/errors.ts';
import { formatMicroUsd, limitsFromJson, limitsToJson, resolveLimits } from '../../src/tenancy/limits.ts';
import { type EthUsdQuote, type Principal, Tenancy } from '../../src/tenancy/tenancy.ts';
import { usageSummary } from '../../src/tenancy/usage.ts';
import { withPostgres } from '../helpers/postgres.ts';

const pg = withPostgres();

const BACKENDS = [
  {
    name: 'Level, one instance',
    instances: 1,
    async setup() {
      const datadir = await mkdtemp(join(tmpdir(), 'lpgw-spendcap-'));
      return { open: () => openStateStore({ datadir, log: silentLogger() }), teardown: () => rm(datadir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'PostgreSQL, two instances',
    instances: 2,
    async setup() {
      const storeUrl = await pg.createDatabase();
      return { open: () => openStateStore({ storeUrl, datadir: '/nonexistent', log: silentLogger() }), teardown: async () => {} };
    },
  },
];

/** 2000 USD per ETH, as an 8-decimal feed answers it, updated just now. */
const freshQuote = (usdPerEth = 2000n): EthUsdQuote => ({
  usdPerEth: rat(usdPerEth * 10n ** 8n, 10n ** 8n),
  updatedAt: BigInt(Math.floor(Date.now() / 1000)),
  readAt: Date.now(),
});

describe('spend caps in wei or USD: parsing', () => {
  it('takes wei or a USD suffix, exact to the micro-USD, one of them per period', () => {
    const l = resolveLimits('free', { spendPerDay: '5USD', spendPerMonth: '0.000001 usd' });
    assert.equal(l.spendPerDayMicroUsd, 5_000_000n);
    assert.equal(l.spendPerDayWei, undefined, "the tier's wei cap gives way to the USD one");
    assert.equal(l.spendPerMonthMicroUsd, 1n);
    assert.equal(formatMicroUsd(l.spendPerDayMicroUsd!), '5USD');
    assert.equal(formatMicroUsd(1_250_000n), '1.25USD');
    assert.deepEqual(limitsFromJson(limitsToJson(l)), l);
    const w = resolveLimits('standard', { spendPerDay: '12345' });
    assert.equal(w.spendPerDayWei, 12345n);
    assert.equal(w.spendPerDayMicroUsd, undefined);
  });

  it('refuses what is no amount of USD', () => {
    for (const bad of ['5.0000001USD', '-5USD', 'USD', '1e3USD', '5 EUR', `${'9'.repeat(16)}USD`, '5USDT', '0x10USD']) {
      assert.throws(() => resolveLimits('free', { spendPerDay: bad }), TenancyInputError, bad);
    }
  });
});

for (const backend of BACKENDS) {
  describe(`spend caps on ${backend.name}`, () => {
    let stores: StateStore[];
    let teardown: () => Promise<void>;
    let quote: EthUsdQuote | undefined;
    const tenancy = (store: StateStore, ethUsd?: () => EthUsdQuote | undefined) =>
      new Tenancy({ store, mode: 'required', proxies: new TrustedProxies(''), anonymousRequestsPerMinute: 3, ...(ethUsd ? { ethUsd } : {}) });
    let instances: Tenancy[];
    const at = (i: number) => instances[i % instances.length]!;

    before(async () => {
      const s = await backend.setup();
      teardown = s.teardown;
      stores = [];
      for (let i = 0; i < backend.instances; i++) stores.push(await s.open());
      instances = stores.map((st) => tenancy(st, () => quote));
    });
    after(async () => {
      for (const s of stores ?? []) await s.close();
      await teardown?.();
    });

    async function principalWith(spendPerDay: string): Promise<Principal> {
      const { key } = await at(0).keys.create({ name: 'cap', tier: 'unlimited', limits: resolveLimits('unlimited', { spendPerDay }) });
      return { subject: key.id, keyId: key.id, name: key.name, limits: key.limits };
    }

    /** One paid job as the faces run it: reserve its EV, "send" it, charge what was sent. */
    async function job(t: Tenancy, p: Principal, ev: Rat, i: number): Promise<'done' | 'refused'> {
      let r: Awaited<ReturnType<Tenancy['reserve']>>;
      try {
        r = await t.reserve(p, `job-${i}`, ev);
      } catch (err) {
        if (err instanceof SpendCapError) return 'refused';
        throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
      await t.charge(p, { kind: 'ai', orchestrator: 'https://o:8935', ev, faceValue: 1000n, tickets: 1, units: 1n, ok: true }, r);
      return 'done';
    }

    it('a cap that fits exactly N jobs: 2N concurrent jobs over every instance, exactly N run and the spend is the cap', async () => {
      const N = 8;
      const ev = rat(2500n, 2n); // 1250 wei
      const p = await principalWith(String(1250 * N));
      const outcomes = await Promise.all(Array.from({ length: 2 * N }, (_, i) => job(at(i), p, ev, i)));
      assert.equal(outcomes.filter((o) => o === 'done').length, N);
      const spent = await at(1).spent(p.subject);
      assert.equal(spent.dayWei, 1250n * BigInt(N));
      const rows = await usageSummary(stores[0]!, {
        key: p.subject,
        from: new Date(Date.now() - 3_600_000),
        to: new Date(Date.now() + 60_000),
        groupBy: 'key',
      });
      assert.equal(rows[0]?.jobs, String(N), 'only the jobs that ran are billed');
      // the cap is reached: the face's check refuses before anything is prepared
      await assert.rejects(at(1).checkSpend(p), (err: unknown) => err instanceof SpendCapError && /is reached \(10000 wei spent\)/.test(err.message));
    });

    it('a job that costs less than it reserved gives the rest back; one whose tickets never left gives all of it back', async () => {
      const p = await principalWith('1000');
      const r1 = await at(0).reserve(p, 'big', rat(900n));
      await assert.rejects(
        at(1).reserve(p, 'other', rat(200n)),
        (err: unknown) => err instanceof SpendCapError && /no room for this job's 200 wei/.test(err.message),
      );
      await at(0).charge(p, { kind: 'segment', orchestrator: 'o', ev: rat(300n), faceValue: 1n, tickets: 1, units: 0n, ok: true }, r1);
      const r2 = await at(1).reserve(p, 'other', rat(700n));
      assert.ok(r2);
      await at(1).release(p, r2);
      assert.equal((await at(0).spent(p.subject)).dayWei, 300n);
      await at(0).checkSpend(p);
    });

    it('a USD cap becomes wei at the current ETH/USD price: 5USD at 2000 USD/ETH is 2.5e15 wei', async () => {
      quote = freshQuote(2000n);
      const p = await principalWith('5USD');
      assert.deepEqual(at(0).capsInWei(p), [{ period: 'day', wei: 2_500_000_000_000_000n, usd: '5USD' }]);
      const r = await at(0).reserve(p, 'usd-1', rat(2_000_000_000_000_000n));
      await assert.rejects(
        at(1).reserve(p, 'usd-2', rat(600_000_000_000_000n)),
        (err: unknown) => err instanceof SpendCapError && err.status === 402 && /5USD \(2500000000000000 wei at the current ETH\/USD price\)/.test(err.message),
      );
      // ETH falls to 1000 USD: the same 5USD buys twice the wei
      quote = freshQuote(1000n);
      assert.ok(await at(1).reserve(p, 'usd-2', rat(600_000_000_000_000n)));
      assert.ok(r);
    });

    it('hostile price: none, stale, unread for too long or non-positive → 503, nothing reserved or billed', async () => {
      const p = await principalWith('5USD');
      const now = Date.now();
      const cases: [string, EthUsdQuote | undefined][] = [
        ['no price', undefined],
        ['stale answer', { ...freshQuote(), updatedAt: BigInt(Math.floor(now / 1000) - 26 * 3600) }],
        ['updatedAt 0', { ...freshQuote(), updatedAt: 0n }],
        ['not read for an hour', { ...freshQuote(), readAt: now - 3_600_000 }],
        ['zero', { ...freshQuote(), usdPerEth: rat(0n) }],
      ];
      for (const [what, q] of cases) {
        quote = q;
        await assert.rejects(at(0).reserve(p, `h-${what}`, rat(1n)), (err: unknown) => err instanceof PriceUnavailableError && err.status === 503, what);
        await assert.rejects(at(1).checkSpend(p), PriceUnavailableError, what);
      }
      // an off-chain gateway has no feed at all
      const offchain = tenancy(stores[0]!);
      await assert.rejects(
        offchain.reserve(p, 'off', rat(1n)),
        (err: unknown) => err instanceof PriceUnavailableError && /no ETH\/USD price feed/.test(err.message),
      );
      quote = freshQuote();
      assert.equal(await stores[0]!.reservations.held('tenancy.spend', p.subject), 0n);
      assert.equal((await at(0).spent(p.subject)).dayWei, 0n);
    });
  });
}
