// A managed gateway on the devnet (real tickets, the devnet's ETH/USD feed behind -priceFeedAddr) with a
// key whose daily cap is in USD and worth exactly one ticket: concurrent paid AI requests never spend
// more than the cap together — the first ticket is reserved before it leaves, every other request is
// refused with 402 — and the usage billed equals what the ledger sent.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEVNET_TICKET_EV, type LocalNetwork, startLocalNetwork } from '../../scripts/devnet/network.ts';
import { resolveLimits } from '../../src/tenancy/limits.ts';
import { post } from '../ai/aiTestKit.ts';
import { startTestNode, type TestNode } from '../e2e/helpers.ts';
import { makeTestClip } from '../media/testMedia.ts';

const KEYSTORE = new URL('../../keystore', import.meta.url).pathname;
const MODEL = 'SG161222/RealVisXL_V4.0_Lightning';
const BODY = JSON.stringify({ prompt: 'a mountain at dawn', model_id: MODEL, width: 64, height: 64 });

describe('USD spend cap on an on-chain managed gateway', () => {
  let net: LocalNetwork;
  let node: TestNode;
  before(async () => {
    net = await startLocalNetwork();
    node = await startTestNode({
      ...net.gatewayFlags,
      ethKeystorePath: KEYSTORE,
      ethPassword: 'devnet',
      blockPollingInterval: '1',
      apiKeys: 'required',
      // a loaded machine answers discovery slowly: no request may fail for want of an orchestrator
      discoveryTimeout: '5s',
      aiProcessingRetryTimeout: '60s',
    });
  });
  after(async () => {
    await node?.stop();
    await net?.stop();
  });

  it('a cap of one ticket in USD: concurrent requests spend at most the cap, the rest are 402, usage equals the ledger', async () => {
    // the devnet feed says 2000 USD/ETH: one ticket's EV (1e10 wei) is 0.00002 USD
    assert.equal(DEVNET_TICKET_EV, 10_000_000_000n);
    const tenancy = node.gateway.tenancy!.tenancy;
    const { token, key } = await tenancy.keys.create({ name: 'usd', tier: 'unlimited', limits: resolveLimits('unlimited', { spendPerDay: '0.00002USD' }) });
    const principal = { subject: key.id, keyId: key.id, name: key.name, limits: key.limits };
    assert.deepEqual(tenancy.capsInWei(principal), [{ period: 'day', wei: DEVNET_TICKET_EV, usd: '0.00002USD' }]);

    const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` };
    // enough at once that several orchestrators (each wanting a first ticket) are asked together
    const replies = await Promise.all(Array.from({ length: 9 }, () => post(node.gateway.httpUrl, 'text-to-image', { body: BODY, headers })));

    // jobs are billed just after their answer: wait until every reservation is settled and the usage
    // has caught up with the ledger, then nothing may be over the cap
    const ledgerSent = async (): Promise<bigint> => {
      const ledger = (await node.gateway.status()).Ledger.aiOrchestrators as Record<string, { evPaid: string }>;
      let sent = 0n;
      for (const e of Object.values(ledger)) {
        const [num, den] = e.evPaid.split('/').map(BigInt);
        sent += num! / den!;
      }
      return sent;
    };
    const deadline = Date.now() + 60_000;
    for (;;) {
      const settled = (await tenancy.store.reservations.held('tenancy.spend', key.id)) === 0n && (await tenancy.spent(key.id)).dayWei === (await ledgerSent());
      if (settled) break;
      assert.ok(Date.now() < deadline, 'usage never caught up with the ledger');
      await new Promise((r) => setTimeout(r, 100));
    }
    const spent = await tenancy.spent(key.id);
    assert.ok(spent.dayWei > 0n, 'a ticket was sent');
    assert.ok(spent.dayWei <= DEVNET_TICKET_EV, `spent ${spent.dayWei} wei over a cap of ${DEVNET_TICKET_EV}`);

    // each request ran, was refused for the cap, or (a loaded devnet whose round moved on) failed without
    // passing it; jobs that found credit at their orchestrator cost nothing
    assert.ok(
      replies.every((r) => r.status === 200 || r.status === 503 || (r.status === 402 && /spend cap of 0\.00002USD/.test(JSON.stringify(r.json)))),
      JSON.stringify(replies.map((r) => [r.status, r.json])),
    );
    // the cap is reached now: refused before anything is prepared
    const again = await post(node.gateway.httpUrl, 'text-to-image', { body: BODY, headers });
    assert.equal(again.status, 402);
    assert.equal((again.json.error as { code?: string }).code, 'SPEND_CAP_REACHED');
  });

  it('a segment whose first ticket does not fit the cap is refused with 402 before it is sent: nothing paid, billed or held, the orchestrators not blamed', async () => {
    const tenancy = node.gateway.tenancy!.tenancy;
    // half a ticket at 2000 USD/ETH
    const { token, key } = await tenancy.keys.create({ name: 'seg', tier: 'unlimited', limits: resolveLimits('unlimited', { spendPerDay: '0.00001USD' }) });
    const dir = mkdtempSync(join(tmpdir(), 'lpgw-usdcap-'));
    try {
      makeTestClip(join(dir, 'seg.ts'), { seconds: 1, gopSeconds: 1, size: '160x90' });
      const received = () => net.orchestrators.reduce((n, o) => n + o.stats.ticketsReceived, 0);
      const before = received();
      const r = await fetch(`${node.gateway.httpUrl}/live/capped/0.ts`, {
        method: 'PUT',
        body: readFileSync(join(dir, 'seg.ts')),
        headers: { Authorization: `Bearer ${token}` },
      });
      // HTTP push answers errors as text, as go-livepeer does
      const text = await r.text();
      assert.equal(r.status, 402, text);
      assert.match(text, /^the daily spend cap of 0\.00001USD \(5000000000 wei at the current ETH\/USD price\) has no room for this job's \d+ wei/);
      assert.equal(received(), before, 'no ticket reached an orchestrator');
      assert.equal((await tenancy.spent(key.id)).dayWei, 0n);
      assert.equal(await tenancy.store.reservations.held('tenancy.spend', key.id), 0n);
      const suspended = JSON.stringify((await node.gateway.status()).OrchestratorPool ?? {});
      assert.doesNotMatch(suspended, /spend cap/, 'a spend cap is not an orchestrator failure');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
