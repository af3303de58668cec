// The AI gateway on-chain on the devnet (the network `npm start` runs): orchestrators found in the
// on-chain pool, every job paid with tickets for units × price, the orchestrators' balances for
// (sender, "<cap>_<model>") credited with the tickets and debited by exactly the job's units.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setServiceURI } from '../../scripts/devnet/deploy.ts';
import { DEVNET_TICKET_EV, startLocalNetwork, type LocalNetwork } from '../../scripts/devnet/network.ts';
import { AI_SERVICE_REGISTRY } from '../../src/node/aiGateway.ts';
import { add, mul, rat, ZERO, type Rat } from '../../src/lib/rat.ts';
import { checkImages, PIPELINE_CASES, post } from '../ai/aiTestKit.ts';
import { startTestNode, type TestNode } from './helpers.ts';

const KEYSTORE = new URL('../../keystore', import.meta.url).pathname;
const DOCS_MODEL = 'SG161222/RealVisXL_V4.0_Lightning';
const MAX_PRICE = 1300; // wei per unit: orchestrator 3 (1500) is above it for the docs' model

const eq = (a: Rat, b: Rat) => a.num * b.den === b.num * a.den;

describe('AI gateway on-chain on the devnet', () => {
  let net: LocalNetwork;
  let node: TestNode;
  let base: string;
  before(async () => {
    net = await startLocalNetwork();
    node = await startTestNode({
      ...net.gatewayFlags,
      ethKeystorePath: KEYSTORE,
      ethPassword: 'devnet',
      blockPollingInterval: '1',
      maxPricePerCapability: JSON.stringify({
        capabilities_prices: [{ pipeline: 'text-to-image', model_id: DOCS_MODEL, price_per_unit: MAX_PRICE, pixels_per_unit: 1 }],
      }),
    });
    base = node.gateway.httpUrl;
  });
  after(async () => {
    await node?.stop();
    await net?.stop();
  });

  it('every pipeline once: right output, tickets sent = tickets received, balances credited and debited by exactly the units', async () => {
    for (const c of PIPELINE_CASES) {
      const r = await post(base, c.pipeline, c.body());
      if (r.status !== 200) assert.fail(`${c.pipeline}: ${JSON.stringify(r.json)} ${JSON.stringify((await node.gateway.status()).AI)}`);
      await c.check(r.json, base);
    }
    const status = await node.gateway.status();
    const ledger = status.Ledger.ai as Record<string, { jobs: number; failures: number; units: string; tickets: number }>;
    const ledgerByOrch = status.Ledger.aiOrchestrators as Record<string, { tickets: number; evPaid: string }>;
    const broadcaster = net.broadcaster.address.toLowerCase();

    // tickets: what the gateway sent is what the orchestrators took
    const sent = Object.values(ledger).reduce((s, e) => s + e.tickets, 0);
    const received = net.orchestrators.reduce((s, o) => s + (o.ai?.stats.ticketsReceived ?? 0), 0);
    assert.ok(sent > 0);
    assert.equal(sent, received);
    for (const o of net.orchestrators) assert.equal(ledgerByOrch[o.uri]?.tickets ?? 0, o.ai!.stats.ticketsReceived, `tickets of ${o.uri}`);

    for (const c of PIPELINE_CASES) {
      const key = `${c.cap}_${c.model}`;
      // units: the job's units exactly once over all orchestrators, and what the gateway recorded
      const units = net.orchestrators.reduce((s, o) => s + (o.ai!.stats.unitsDebited[key] ?? 0n), 0n);
      assert.equal(units, c.units, `${c.pipeline} units`);
      assert.equal(BigInt(ledger[`${c.pipeline}/${c.model}`]!.units), c.units);
    }
    for (const [i, o] of net.orchestrators.entries()) {
      const price = rat([1000n, 1200n, 1500n][i]!);
      let credited = ZERO;
      for (const acct of o.stats.credits.filter((a) => a.sender.toLowerCase() === broadcaster && /^\d+_/.test(a.sessionId))) {
        const units = o.ai!.stats.unitsDebited[acct.sessionId] ?? 0n;
        assert.ok(eq(acct.debited, mul(price, rat(units))), `${o.uri} ${acct.sessionId}: debited units × price`);
        credited = add(credited, acct.credited);
      }
      // the EV the gateway sent to this orchestrator, exactly
      const [num, den] = (ledgerByOrch[o.uri]?.evPaid ?? '0/1').split('/').map(BigInt);
      assert.ok(eq(credited, rat(num!, den!)), `${o.uri}: credited the EV of the tickets sent`);
      if (o.ai!.stats.ticketsReceived > 0) assert.ok(credited.num >= BigInt(o.ai!.stats.ticketsReceived) * DEVNET_TICKET_EV * credited.den);
    }
  });

  it("the docs' request returns {images:[{url}]} with a real image, and an orchestrator above -maxPricePerCapability is never used", async () => {
    const o3 = net.orchestrators[2]!;
    const before = o3.ai!.stats.jobs['text-to-image'] ?? 0;
    for (let i = 0; i < 5; i++) {
      const r = await post(base, 'text-to-image', {
        body: JSON.stringify({ prompt: 'a mountain at dawn', model_id: DOCS_MODEL }),
        headers: { 'Content-Type': 'application/json' },
      });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      await checkImages(r.json, base);
    }
    assert.equal(o3.ai!.stats.jobs['text-to-image'] ?? 0, before);
    const ai = (await node.gateway.status()).AI as { model: string; candidates: { uri: string; state: string; reason?: string }[] }[];
    const c3 = ai.find((s) => s.model === DOCS_MODEL)!.candidates.find((c) => c.uri === o3.uri)!;
    assert.equal(c3.state, 'excluded');
    assert.match(c3.reason ?? '', /maxPricePerCapability/);
  });

  it('/setMaxPriceForCapability changes the max price while the node runs', async () => {
    const form = (o: Record<string, string>) => ({ method: 'POST', body: new URLSearchParams(o) });
    const bad = await fetch(`${node.controlUrl}/setMaxPriceForCapability`, form({ pipeline: 'text-to-banana', maxPricePerUnit: '1' }));
    assert.equal(bad.status, 400);
    const ok = await fetch(
      `${node.controlUrl}/setMaxPriceForCapability`,
      form({ pipeline: 'text-to-image', modelID: DOCS_MODEL, maxPricePerUnit: '1100', pixelsPerUnit: '1' }),
    );
    assert.equal(ok.status, 200);
    const [o1, o2] = net.orchestrators;
    const before = [o1!.ai!.stats.jobs['text-to-image'] ?? 0, o2!.ai!.stats.jobs['text-to-image'] ?? 0];
    for (let i = 0; i < 3; i++) {
      const r = await post(base, 'text-to-image', { body: JSON.stringify({ prompt: `cheap ${i}`, model_id: DOCS_MODEL, width: 64, height: 64 }) });
      assert.equal(r.status, 200, JSON.stringify(r.json));
    }
    // only orchestrator 1 (1000 wei/unit) is within 1100
    assert.equal(o1!.ai!.stats.jobs['text-to-image'] ?? 0, before[0]! + 3);
    assert.equal(o2!.ai!.stats.jobs['text-to-image'] ?? 0, before[1]);
  });

  it('/status on the control API shows the AI candidates per pipeline and model', async () => {
    const r = await fetch(`${node.controlUrl}/status`);
    const s = (await r.json()) as { AI: { pipeline: string; model: string; candidates: { state: string }[] }[] };
    assert.ok(s.AI.length >= PIPELINE_CASES.length);
    for (const c of PIPELINE_CASES) {
      const e = s.AI.find((x) => x.pipeline === c.pipeline && x.model === c.model);
      assert.ok(e && e.candidates.length === 3, c.pipeline);
    }
  });

  it("-aiServiceRegistry: orchestrators come from the AI subnet registry, not the Controller's", async () => {
    const rpc = async (method: string, params: unknown[]): Promise<unknown> => {
      const r = await fetch(net.devnet.rpcUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      });
      const j = (await r.json()) as { result?: unknown; error?: { message: string } };
      if (j.error) throw new Error(`${method}: ${j.error.message}`);
      return j.result;
    };
    // A registry at the AI subnet's Arbitrum One address (its code and Controller slot copied from the
    // devnet's own registry) that lists only orchestrator 2; the Controller's registry lists all three.
    const registry = net.devnet.contracts.serviceRegistry;
    await rpc('anvil_setCode', [AI_SERVICE_REGISTRY, await rpc('eth_getCode', [registry, 'latest'])]);
    const slot0 = `0x${'0'.repeat(64)}`;
    await rpc('anvil_setStorageAt', [AI_SERVICE_REGISTRY, slot0, await rpc('eth_getStorageAt', [registry, slot0, 'latest'])]);
    const [o1, o2, o3] = net.orchestrators;
    await setServiceURI(net.devnet.rpcUrl, { ...net.devnet.contracts, serviceRegistry: AI_SERVICE_REGISTRY }, o2!.address, o2!.uri);

    const aiNode = await startTestNode({ ...net.gatewayFlags, ethKeystorePath: KEYSTORE, ethPassword: 'devnet', aiServiceRegistry: 'true' });
    try {
      const jobs = () => [o1, o2, o3].map((o) => o!.ai!.stats.jobs['text-to-image'] ?? 0);
      const before = jobs();
      for (let i = 0; i < 4; i++) {
        const r = await post(aiNode.gateway.httpUrl, 'text-to-image', {
          body: JSON.stringify({ prompt: `registry ${i}`, model_id: DOCS_MODEL, width: 64, height: 64 }),
        });
        assert.equal(r.status, 200, JSON.stringify(r.json));
      }
      assert.deepEqual(jobs(), [before[0], before[1]! + 4, before[2]], 'every job on the one orchestrator the AI registry lists');
      const ai = (await aiNode.gateway.status()).AI as { model: string; candidates: { uri: string }[] }[];
      assert.deepEqual(
        ai.find((s) => s.model === DOCS_MODEL)!.candidates.map((c) => c.uri),
        [o2!.uri],
      );
    } finally {
      await aiNode.stop();
    }
  });
});
