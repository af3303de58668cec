// The gateway as a managed provider (-apiKeys required) against a devnet AI orchestrator: on PostgreSQL two
// instances share one database and enforce one key's limits together; on Level one instance does the
// same. One test per refusal (missing key, revoked key, rate limit, concurrent streams, spend cap), each
// a JSON error with nothing billed, and usage that adds up to the instances' ledgers.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_AI_MODELS } from '../../scripts/devnet/orchestrator/ai/config.ts';
import { startOrchestrator, type RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { rat } from '../../src/lib/rat.ts';
import { resolveLimits } from '../../src/tenancy/limits.ts';
import type { NodeTenancy } from '../../src/node/tenancy.ts';
import { startTestNode, type TestNode, waitUntil } from '../e2e/helpers.ts';
import { withPostgres } from '../helpers/postgres.ts';
import { makeTestClip } from '../media/testMedia.ts';

const pg = withPostgres();
const MODEL = 'SG161222/RealVisXL_V4.0_Lightning';
const PROMPT = JSON.stringify({ prompt: 'a mountain at dawn', model_id: MODEL, width: 64, height: 64 });

interface Reply {
  status: number;
  headers: Headers;
  json: { error?: { message: string; code: string } } & Record<string, unknown>;
}

async function textToImage(base: string, token?: string): Promise<Reply> {
  const r = await fetch(`${base}/text-to-image`, {
    method: 'POST',
    body: PROMPT,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
  });
  return { status: r.status, headers: r.headers, json: (await r.json()) as Reply['json'] };
}

/** Jobs and units the ledgers of these nodes hold for the model. */
async function ledgerTotals(nodes: TestNode[]): Promise<{ jobs: number; units: bigint; tickets: number }> {
  let jobs = 0;
  let units = 0n;
  let tickets = 0;
  for (const n of nodes) {
    const ai = (await n.gateway.status()).Ledger.ai as Record<string, { jobs: number; units: string; tickets: number }>;
    const e = ai[`text-to-image/${MODEL}`];
    jobs += e?.jobs ?? 0;
    units += BigInt(e?.units ?? '0');
    tickets += e?.tickets ?? 0;
  }
  return { jobs, units, tickets };
}

async function usage(controlUrl: string, query: string): Promise<{ rows: { group: string; jobs: string; units: string; tickets: string; evWei: string }[] }> {
  const r = await fetch(`${controlUrl}/usage?${query}`);
  assert.equal(r.status, 200, await r.clone().text());
  return (await r.json()) as { rows: { group: string; jobs: string; units: string; tickets: string; evWei: string }[] };
}

/** Start of a fresh minute when this one is nearly over: a per-minute count must not roll over mid-test. */
async function freshMinute(): Promise<void> {
  if (Date.now() % 60_000 > 40_000) await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 50));
}

const SETUPS = [
  { name: 'PostgreSQL, two instances', instances: 2, postgres: true },
  { name: 'Level, one instance', instances: 1, postgres: false },
];

for (const setup of SETUPS) {
  describe(`managed provider on ${setup.name}`, () => {
    let orch: RunningOrchestrator;
    let nodes: TestNode[];
    let tenancy: NodeTenancy;
    let clipDir: string;
    let segment: Buffer;
    const at = (i: number) => nodes[i % nodes.length]!;

    before(async () => {
      orch = await startOrchestrator({ logLevel: 'silent', ai: { models: DEFAULT_AI_MODELS } });
      const storeUrl = setup.postgres ? await pg.createDatabase() : '';
      nodes = [];
      for (let i = 0; i < setup.instances; i++) {
        nodes.push(await startTestNode({ orchAddr: orch.uri, apiKeys: 'required', ...(storeUrl ? { storeUrl } : {}) }));
      }
      tenancy = nodes[0]!.gateway.tenancy!;
      clipDir = mkdtempSync(join(tmpdir(), 'lpgw-managed-'));
      makeTestClip(join(clipDir, 'seg.ts'), { seconds: 1, gopSeconds: 1, size: '160x90' });
      segment = readFileSync(join(clipDir, 'seg.ts'));
    });
    after(async () => {
      for (const n of nodes ?? []) await n.stop();
      await orch?.stop();
      if (clipDir) rmSync(clipDir, { recursive: true, force: true });
    });

    it('no key: 401 with a JSON error, nothing run or billed', async () => {
      const before = await ledgerTotals(nodes);
      for (let i = 0; i < nodes.length; i++) {
        const r = await textToImage(at(i).gateway.httpUrl);
        assert.equal(r.status, 401);
        assert.equal(r.json.error?.code, 'API_KEY_MISSING');
        assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
        const wrong = await textToImage(at(i).gateway.httpUrl, 'lpgw_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
        assert.equal(wrong.status, 401);
        assert.equal(wrong.json.error?.code, 'API_KEY_INVALID');
      }
      assert.deepEqual(await ledgerTotals(nodes), before);
    });

    it('a key works on every instance; its jobs are billed to it and the usage equals the ledgers', async () => {
      const { token, key } = await tenancy.tenancy.keys.create({ name: 'billing', tier: 'unlimited', limits: {} });
      const before = await ledgerTotals(nodes);
      for (let i = 0; i < 2; i++) {
        const r = await textToImage(at(i).gateway.httpUrl, token);
        assert.equal(r.status, 200, JSON.stringify(r.json));
      }
      const after = await ledgerTotals(nodes);
      assert.equal(after.jobs - before.jobs, 2);
      const u = await waitUntil(
        async () => {
          const res = await usage(nodes[0]!.controlUrl, `key=${key.id}&groupBy=model`);
          return res.rows[0]?.jobs === '2' ? res : undefined;
        },
        30_000,
        'usage of both jobs',
      );
      assert.deepEqual(
        u.rows.map((r) => r.group),
        [MODEL],
      );
      assert.equal(BigInt(u.rows[0]!.units), after.units - before.units, 'units billed = units in the ledgers');
      assert.equal(Number(u.rows[0]!.tickets), after.tickets - before.tickets);
      const last = nodes[nodes.length - 1]!;
      const byKey = await usage(last.controlUrl, 'groupBy=key');
      assert.ok(
        byKey.rows.some((r) => r.group === key.id && r.jobs === '2'),
        'every instance reads the same usage',
      );
      const bad = await fetch(`${last.controlUrl}/usage?groupBy=color`);
      assert.equal(bad.status, 400);
    });

    it('revoked key: 401 on every instance, nothing billed', async () => {
      const { token, key } = await tenancy.tenancy.keys.create({ name: 'revoked', tier: 'unlimited', limits: {} });
      assert.equal((await textToImage(at(1).gateway.httpUrl, token)).status, 200);
      await tenancy.tenancy.keys.revoke(key.id);
      const before = await ledgerTotals(nodes);
      for (let i = 0; i < nodes.length; i++) {
        const r = await textToImage(at(i).gateway.httpUrl, token);
        assert.equal(r.status, 401);
        assert.equal(r.json.error?.code, 'API_KEY_REVOKED');
      }
      assert.deepEqual(await ledgerTotals(nodes), before);
    });

    it('rate limit: 10 requests a minute over all instances, the 11th is 429 with Retry-After on either', async () => {
      const { token, key } = await tenancy.tenancy.keys.create({
        name: 'rate',
        tier: 'unlimited',
        limits: resolveLimits('unlimited', { requestsPerMinute: '10' }),
      });
      await freshMinute();
      for (let i = 0; i < 10; i++) {
        const r = await textToImage(at(i).gateway.httpUrl, token);
        assert.equal(r.status, 200, `request ${i + 1}: ${JSON.stringify(r.json)}`);
      }
      const before = await ledgerTotals(nodes);
      for (let i = 0; i < nodes.length; i++) {
        const r = await textToImage(at(i).gateway.httpUrl, token);
        assert.equal(r.status, 429);
        assert.equal(r.json.error?.code, 'RATE_LIMITED');
        const retry = Number(r.headers.get('retry-after'));
        assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
      }
      assert.deepEqual(await ledgerTotals(nodes), before, 'nothing billed on a refusal');
      const u = await waitUntil(
        async () => {
          const res = await usage(nodes[0]!.controlUrl, `key=${key.id}&groupBy=day`);
          return res.rows[0]?.jobs === '10' ? res : undefined;
        },
        30_000,
        'usage of the ten jobs',
      );
      assert.equal(u.rows.length, 1);
    });

    it('spend cap: EV charged on one instance refuses with 402 and the figures on every instance', async () => {
      const { token, key } = await tenancy.tenancy.keys.create({ name: 'cap', tier: 'unlimited', limits: resolveLimits('unlimited', { spendPerDay: '5000' }) });
      assert.equal((await textToImage(at(1).gateway.httpUrl, token)).status, 200);
      // off-chain jobs cost nothing: this is the charge a paid job makes (its tickets' EV)
      const principal = { subject: key.id, keyId: key.id, name: key.name, limits: key.limits };
      await tenancy.tenancy.charge(principal, {
        kind: 'ai',
        orchestrator: orch.uri,
        ev: rat(10001n, 2n),
        faceValue: 10n ** 12n,
        tickets: 1,
        units: 1n,
        ok: true,
        model: MODEL,
      });
      const before = await ledgerTotals(nodes);
      for (let i = 0; i < nodes.length; i++) {
        const r = await textToImage(at(i).gateway.httpUrl, token);
        assert.equal(r.status, 402);
        assert.equal(r.json.error?.code, 'SPEND_CAP_REACHED');
        assert.match(r.json.error?.message ?? '', /daily spend cap of 5000 wei is reached \(5000 wei spent\)/);
      }
      assert.deepEqual(await ledgerTotals(nodes), before);
    });

    it('concurrent streams: a second HTTP push stream of the key is 429 on any instance; another key can still stream', async () => {
      const { token } = await tenancy.tenancy.keys.create({
        name: 'streams',
        tier: 'unlimited',
        limits: resolveLimits('unlimited', { concurrentStreams: '1' }),
      });
      const push = (i: number, name: string, auth?: string) =>
        fetch(`${at(i).gateway.httpUrl}/live/${name}/0.ts`, {
          method: 'PUT',
          body: segment,
          headers: { 'Livepeer-Transcode-Configuration': '{"profiles":[]}', ...(auth ? { Authorization: `Bearer ${auth}` } : {}) },
        });
      const tag = setup.postgres ? 'pg' : 'level';
      const anonymous = await push(0, `anon-${tag}`);
      assert.equal(anonymous.status, 401);
      assert.equal(((await anonymous.json()) as Reply['json']).error?.code, 'API_KEY_MISSING');
      const first = await push(0, `first-${tag}`, token);
      assert.equal(first.status, 200, await first.text());
      const second = await push(1, `second-${tag}`, token);
      assert.equal(second.status, 429);
      assert.equal(((await second.json()) as Reply['json']).error?.code, 'TOO_MANY_STREAMS');
      assert.ok(Number(second.headers.get('retry-after')) >= 1);
      const other = await tenancy.tenancy.keys.create({ name: 'other', tier: 'unlimited', limits: {} });
      const hijack = await push(0, `first-${tag}`, other.token);
      assert.equal(hijack.status, 403, "another key cannot push into this key's stream");
      assert.equal((await push(1, `other-${tag}`, other.token)).status, 200);
    });
  });
}
