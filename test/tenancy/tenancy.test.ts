// API keys, limits and usage on the state store, on Level (one instance) and on PostgreSQL (two
// instances sharing one database: limits hold across both).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rat } from '../../src/lib/rat.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { openStateStore } from '../../src/store/openStateStore.ts';
import type { StateStore } from '../../src/store/stateStore.ts';
import { TrustedProxies } from '../../src/tenancy/clientAddress.ts';
import { ApiKeyError, LimitReachedError, SpendCapError, TenancyInputError } from '../../src/tenancy/errors.ts';
import { resolveLimits } from '../../src/tenancy/limits.ts';
import { Tenancy } from '../../src/tenancy/tenancy.ts';
import { usageLines, usageSummary } from '../../src/tenancy/usage.ts';
import { parseUsageQuery } from '../../src/tenancy/usageQuery.ts';
import { withPostgres } from '../helpers/postgres.ts';

const pg = withPostgres();

const BACKENDS = [
  {
    name: 'level',
    async setup() {
      const datadir = await mkdtemp(join(tmpdir(), 'lpgw-tenancy-'));
      return { open: () => openStateStore({ datadir, log: silentLogger() }), teardown: () => rm(datadir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres',
    async setup() {
      const storeUrl = await pg.createDatabase();
      return { open: () => openStateStore({ storeUrl, datadir: '/nonexistent', log: silentLogger() }), teardown: async () => {} };
    },
  },
];

const tenancy = (store: StateStore, mode: 'optional' | 'required' = 'required', proxies = '') =>
  new Tenancy({ store, mode, proxies: new TrustedProxies(proxies), anonymousRequestsPerMinute: 3 });

for (const backend of BACKENDS) {
  describe(`tenancy on ${backend.name}`, () => {
    let sa: StateStore;
    let sb: StateStore;
    let a: Tenancy;
    let b: Tenancy;
    let teardown: () => Promise<void>;
    before(async () => {
      const s = await backend.setup();
      teardown = s.teardown;
      sa = await s.open();
      sb = await s.open();
      a = tenancy(sa);
      b = tenancy(sb);
    });
    after(async () => {
      await sa?.close();
      await sb?.close();
      await teardown?.();
    });

    it('a key is shown once, stored only as a hash, listed, shown and revoked', async () => {
      const { token, key } = await a.keys.create({ name: 'acme prod', tier: 'standard', limits: resolveLimits('standard', { requestsPerMinute: '7' }) });
      assert.match(token, /^lpgw_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      const stored = await sa.kv.get('tenancy.keys', key.id);
      // the secret is everything after the id (base64url, which may itself hold '_')
      const secret = token.slice('lpgw_'.length + 16 + 1);
      assert.ok(stored && !stored.value.includes(secret), 'the secret is not stored');
      assert.equal(key.limits.requestsPerMinute, 7);
      assert.equal(key.limits.concurrentStreams, 5, "the tier's other limits");
      const p = await b.identify(`Bearer ${token}`, '10.0.0.1', undefined);
      assert.equal(p.keyId, key.id);
      assert.ok((await b.keys.list()).some((k) => k.id === key.id && k.name === 'acme prod'));
      assert.equal(await b.keys.revoke(key.id), true);
      await assert.rejects(
        a.identify(`Bearer ${token}`, '10.0.0.1', undefined),
        (e) => e instanceof ApiKeyError && e.code === 'API_KEY_REVOKED' && e.status === 401,
      );
      assert.ok((await a.keys.get(key.id))?.revokedAt);
      assert.equal(await a.keys.revoke('0000000000000000'), false);
    });

    it('missing, malformed and wrong keys are 401 with the reason', async () => {
      const { token } = await a.keys.create({ name: 'k', tier: 'free', limits: resolveLimits('free') });
      await assert.rejects(a.identify(undefined, '10.0.0.1', undefined), (e) => e instanceof ApiKeyError && e.code === 'API_KEY_MISSING');
      await assert.rejects(a.identify('Basic abc', '10.0.0.1', undefined), (e) => e instanceof ApiKeyError && e.code === 'API_KEY_INVALID');
      const wrong = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
      await assert.rejects(a.identify(`Bearer ${wrong}`, '10.0.0.1', undefined), (e) => e instanceof ApiKeyError && e.code === 'API_KEY_INVALID');
      await assert.rejects(a.identify(`Bearer ${'x'.repeat(5000)}`, '10.0.0.1', undefined), (e) => e instanceof ApiKeyError);
    });

    it('requests per minute hold across instances: 10 allowed over both, the 11th is 429 on either', async () => {
      const { token } = await a.keys.create({ name: 'rl', tier: 'unlimited', limits: resolveLimits('unlimited', { requestsPerMinute: '10' }) });
      const pa = await a.identify(`Bearer ${token}`, '10.0.0.1', undefined);
      const pb = await b.identify(`Bearer ${token}`, '10.0.0.2', undefined);
      // near the end of a minute the window may roll over mid-test: start in a fresh one
      if (Date.now() % 60_000 > 50_000) await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 50));
      await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a.admit(pa) : b.admit(pb))));
      for (const t of [a, b]) {
        await assert.rejects(
          t.admit(pa),
          (e) => e instanceof LimitReachedError && e.status === 429 && Number(e.headers['Retry-After']) >= 1 && Number(e.headers['Retry-After']) <= 60,
        );
      }
    });

    it('spend caps hold across instances: EV charged on one refuses with 402 on the other, with the figures', async () => {
      const { token } = await a.keys.create({ name: 'cap', tier: 'unlimited', limits: resolveLimits('unlimited', { spendPerDay: '1000' }) });
      const p = await a.identify(`Bearer ${token}`, '10.0.0.1', undefined);
      await b.admit(p);
      await a.charge(p, {
        kind: 'ai',
        orchestrator: 'https://o1:8935',
        ev: rat(1999n, 2n),
        faceValue: 5000n,
        tickets: 1,
        units: 10n,
        ok: true,
        pipeline: 'text-to-image',
        model: 'm',
      });
      await b.admit(p); // 999.5 wei < 1000
      await b.charge(p, {
        kind: 'ai',
        orchestrator: 'https://o2:8935',
        ev: rat(1n, 2n),
        faceValue: 5000n,
        tickets: 1,
        units: 10n,
        ok: true,
        pipeline: 'text-to-image',
        model: 'm',
      });
      for (const t of [a, b]) {
        await assert.rejects(
          t.admit(p),
          (e) => e instanceof SpendCapError && e.status === 402 && e.capWei === 1000n && e.spentWei === 1000n && /1000 wei/.test(e.message),
        );
      }
      assert.deepEqual(await a.spent(p.subject), { dayWei: 1000n, monthWei: 1000n });
    });

    it('concurrent streams hold across instances (429), and a released slot is free again', async () => {
      const { token } = await a.keys.create({ name: 'st', tier: 'unlimited', limits: resolveLimits('unlimited', { concurrentStreams: '2' }) });
      const p = await a.identify(`Bearer ${token}`, '10.0.0.1', undefined);
      await a.acquireStream(p, 'a/s1');
      await b.acquireStream(p, 'b/s2');
      await assert.rejects(a.acquireStream(p, 'a/s3'), (e) => e instanceof LimitReachedError && e.code === 'TOO_MANY_STREAMS');
      await b.releaseStream(p, 'b/s2');
      await a.acquireStream(p, 'a/s3');
      assert.equal(await a.renewStream(p, 'a/s1'), true);
    });

    it('usage sums per day, model and key equal what was charged, to the wei', async () => {
      const { token } = await a.keys.create({ name: 'bill', tier: 'unlimited', limits: {} });
      const p = await a.identify(`Bearer ${token}`, '10.0.0.1', undefined);
      const from = new Date(Date.now() - 1000);
      await a.charge(p, {
        kind: 'ai',
        orchestrator: 'o1',
        ev: rat(10n ** 15n + 1n, 3n),
        faceValue: 10n ** 16n,
        tickets: 2,
        units: 512n * 512n,
        ok: true,
        pipeline: 'text-to-image',
        model: 'sdxl',
      });
      await b.charge(p, {
        kind: 'segment',
        orchestrator: 'o2',
        ev: rat(2n * 10n ** 15n, 3n),
        faceValue: 10n ** 16n,
        tickets: 1,
        units: 0n,
        ok: true,
        stream: 'abc',
      });
      await b.charge(p, { kind: 'ai', orchestrator: 'o2', ev: rat(0n), faceValue: 0n, tickets: 0, units: 0n, ok: false, pipeline: 'llm', model: 'llama' });
      const to = new Date(Date.now() + 1000);
      const [day] = await usageSummary(sb, { key: p.subject, from, to, groupBy: 'key' });
      assert.equal(day!.evWei, '1000000000000000', '(10^15+1)/3 + 2·10^15/3 = 10^15 + 1/3 → 10^15 wei');
      assert.equal(day!.faceValueWei, String(3n * 10n ** 16n));
      assert.equal(day!.tickets, '3');
      assert.equal(day!.jobs, '2');
      assert.equal(day!.failures, '1');
      const byModel = await usageSummary(sa, { key: p.subject, from, to, groupBy: 'model' });
      assert.deepEqual(
        byModel.map((r) => [r.group, r.units]),
        [
          ['', '0'],
          ['llama', '0'],
          ['sdxl', String(512n * 512n)],
        ],
      );
      const byStream = await usageSummary(sa, { key: p.subject, from, to, groupBy: 'stream' });
      assert.ok(byStream.some((r) => r.group === 'abc' && r.tickets === '1'));
      const lines = [];
      for await (const l of usageLines(sa, { key: p.subject, from, to })) lines.push(l);
      assert.equal(lines.length, 3);
      assert.equal(lines[0]!.ev_wei, '333333333333333.666666666666666666');
    });

    it('optional keys: anonymous callers are limited per client address; X-Forwarded-For only from trusted proxies', async () => {
      const t = tenancy(sa, 'optional', '127.0.0.1, 10.1.0.0/16');
      const direct = await t.identify(undefined, '192.0.2.7', '198.51.100.1');
      assert.equal(direct.subject, 'anon:192.0.2.7', 'an untrusted peer cannot choose its address');
      const proxied = await t.identify(undefined, '::ffff:127.0.0.1', '198.51.100.9, 10.1.2.3');
      assert.equal(proxied.subject, 'anon:198.51.100.9');
      const garbage = await t.identify(undefined, '10.1.0.5', 'not-an-ip');
      assert.equal(garbage.subject, 'anon:10.1.0.5');
      const p = await t.identify(undefined, '127.0.0.1', '203.0.113.1');
      if (Date.now() % 60_000 > 55_000) await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 50));
      for (let i = 0; i < 3; i++) await t.admit(p);
      await assert.rejects(t.admit(p), (e) => e instanceof LimitReachedError);
      const other = await t.identify(undefined, '127.0.0.1', '203.0.113.200');
      await t.admit(other);
    });

    it('optional keys: an anonymous IPv6 caller is limited per /64, not per address it picks in it', async () => {
      const t = tenancy(sa, 'optional', '::1');
      const first = await t.identify(undefined, '2001:db8:1:2::7', undefined);
      assert.equal(first.subject, 'anon:2001:db8:1:2::/64');
      const proxied = await t.identify(undefined, '::1', '2001:db8:1:2:aaaa::1');
      assert.equal(proxied.subject, 'anon:2001:db8:1:2::/64', 'the address a trusted proxy names too');
      if (Date.now() % 60_000 > 55_000) await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 50));
      for (let i = 0; i < 3; i++) await t.admit(await t.identify(undefined, `2001:db8:1:2::${100 + i}`, undefined));
      await assert.rejects(
        t.admit(await t.identify(undefined, '2001:db8:1:2:ffff:ffff:ffff:fffe', undefined)),
        (e) => e instanceof LimitReachedError,
        'a fresh address of the same /64 is refused',
      );
      await t.admit(await t.identify(undefined, '2001:db8:1:3::7', undefined));
    });
  });
}

describe('trusted proxies flag', () => {
  it('refuses what is not an address or range', () => {
    assert.throws(() => new TrustedProxies('10.0.0.0/33'), /prefix/);
    assert.throws(() => new TrustedProxies('example.com'), /not an IP/);
    assert.equal(new TrustedProxies('').size, 0);
  });
});

describe('usage query key', () => {
  const query = (key: string) => parseUsageQuery((name) => (name === 'key' ? key : undefined));
  it('names an anonymous caller as the anonymous tier keys it: an IPv4 address or an IPv6 /64', () => {
    assert.equal(query('anon:192.0.2.7').key, 'anon:192.0.2.7');
    assert.equal(query('anon:2001:db8:1:2::/64').key, 'anon:2001:db8:1:2::/64');
    assert.throws(() => query('anon:2001:db8::/48'), TenancyInputError);
    assert.throws(() => query('anon:192.0.2.7/64x'), TenancyInputError);
  });
});
