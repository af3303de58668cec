// The gateway on the devnet, as an operator runs it: orchestrators found in the on-chain pool, every
// segment paid with tickets, winning tickets redeemed on the TicketBroker, renditions served as HLS.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startLocalNetwork, type LocalNetwork } from '../../scripts/devnet/network.ts';
import { startOrchestrator, type RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import type { GatewayEvents } from '../../src/node/events.ts';
import {
  latePort,
  getBytes,
  getText,
  killAllPublishers,
  mediaSeqs,
  probeSize,
  publish720p,
  sleep,
  startTestNode,
  waitUntil,
  type TestNode,
} from './helpers.ts';

const KEYSTORE = new URL('../../keystore', import.meta.url).pathname;

function startDevnetGateway(net: LocalNetwork, extra: Record<string, string> = {}): Promise<TestNode> {
  return startTestNode({ ...net.gatewayFlags, ethKeystorePath: KEYSTORE, ethPassword: 'devnet', blockPollingInterval: '1', ...extra });
}

const deposit = (net: LocalNetwork): Promise<bigint> => net.broadcasterDeposit();

describe('on-chain gateway on the devnet', () => {
  let net: LocalNetwork;
  const nodes: { stop(): Promise<void> }[] = [];
  before(async () => {
    net = await startLocalNetwork();
  });
  after(async () => {
    killAllPublishers();
    for (const n of nodes) await n.stop();
    await net?.stop();
  });

  it('20 s of 720p: renditions as HLS, every segment paid, winners redeemed, deposit down by exactly their face values', async () => {
    const node = await startDevnetGateway(net);
    nodes.push(node);
    const { gateway } = node;
    const depositBefore = await deposit(net);
    const mid = 'paid';
    const payments: GatewayEvents['payment.sent'][] = [];
    gateway.events.on('payment.sent', (p) => payments.push(p));
    const pub = publish720p(`${gateway.rtmpUrl}/live/${mid}`, 20);

    const seen: Record<string, Set<number>> = { source: new Set(), P240p30fps16x9: new Set(), P360p30fps16x9: new Set() };
    const probed: Record<string, { width: number; height: number }> = {};
    let master = '';
    let gatewayOutcomes: unknown[] = [];
    const poll = async () => {
      const runner = gateway.stream(mid);
      if (runner) gatewayOutcomes = runner.outcomes.map((o) => ({ ...o, renditions: undefined }));
      const m = await getText(`${gateway.httpUrl}/stream/${mid}.m3u8`);
      if (m.status === 200 && m.text.length > master.length) master = m.text;
      for (const name of Object.keys(seen)) {
        const r = await getText(`${gateway.httpUrl}/stream/${mid}/${name}.m3u8`);
        if (r.status !== 200) continue;
        const seqs = mediaSeqs(r.text);
        for (const s of seqs) seen[name]!.add(s);
        if (!probed[name] && seqs.length > 0) probed[name] = await probeSize(await getBytes(`${gateway.httpUrl}/stream/${mid}/${name}/${seqs[0]}.ts`));
      }
    };
    const ended = pub.exited.then(() => true);
    while (!(await Promise.race([ended, sleep(500).then(() => false)]))) await poll().catch(() => {});
    // On a slow machine the stream lags behind its publisher: follow it until its last segment is done.
    await waitUntil(
      async () => {
        await poll().catch(() => {});
        return gateway.stream(mid) ? undefined : true;
      },
      60_000,
      'stream end',
    );

    // master: source first, then the two default renditions
    const variants = master.split('\n').filter((l) => l && !l.startsWith('#'));
    assert.deepEqual(variants, [`${mid}/source.m3u8`, `${mid}/P240p30fps16x9.m3u8`, `${mid}/P360p30fps16x9.m3u8`]);
    assert.deepEqual(probed.source, { width: 1280, height: 720 });
    assert.deepEqual(probed.P240p30fps16x9?.height, 240);
    assert.deepEqual(probed.P360p30fps16x9?.height, 360);
    // no gap in any playlist's sequence numbers
    for (const [name, set] of Object.entries(seen)) {
      const seqs = [...set].sort((a, b) => a - b);
      assert.ok(seqs.length >= 8, `${name}: ${seqs.length} segments; outcomes: ${JSON.stringify(gatewayOutcomes)}`);
      assert.deepEqual(
        seqs,
        Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i),
        `${name} has no gap`,
      );
    }

    // every segment carried tickets
    await waitUntil(async () => (gateway.stream(mid) ? undefined : true), 15_000, 'stream end');
    const status = await gateway.status();
    const ledger = (status.Ledger.streams as Record<string, { segments: number; transcoded: number; tickets: number; failures: number }>)[mid]!;
    assert.ok(ledger.transcoded >= 8);
    assert.equal(ledger.failures, 0);
    const received = net.orchestrators.reduce((n, o) => n + o.stats.ticketsReceived, 0);
    assert.equal(received, ledger.tickets, 'orchestrators received every ticket the gateway sent');
    assert.ok(ledger.tickets >= ledger.transcoded, `${ledger.tickets} tickets for ${ledger.transcoded} segments`);
    // the event feed reported every ticket that left, with its value in wei
    assert.equal(
      payments.reduce((n, p) => n + p.tickets, 0),
      ledger.tickets,
    );
    for (const p of payments) {
      assert.equal(p.manifestId, mid);
      assert.match(p.evWei, /^[1-9]\d*$/);
      assert.match(p.faceValueWei, /^[1-9]\d*$/);
      assert.ok(BigInt(p.faceValueWei) > BigInt(p.evWei) / BigInt(p.tickets));
    }
    const perOrch = status.Ledger.orchestrators as Record<string, { segments: number; tickets: number }>;
    for (const [uri, e] of Object.entries(perOrch)) assert.ok(e.tickets >= e.segments, `${uri}: every segment had tickets`);

    // winners were redeemed and the deposit dropped by exactly their face values
    for (const o of net.orchestrators) await o.redemptionsSettled();
    const redemptions = net.orchestrators.flatMap((o) => o.stats.redemptions).filter((r) => r.status === 'redeemed');
    assert.ok(redemptions.length >= 1, 'at least one winning ticket was redeemed');
    const redeemed = redemptions.reduce((sum, r) => sum + r.faceValue, 0n);
    assert.equal(depositBefore - (await deposit(net)), redeemed);
  });

  it('hostile: a price above -maxPricePerUnit and a face value above the deposit are refused; the stream uses the good one', async () => {
    const orchs: RunningOrchestrator[] = [];
    const c = net.devnet;
    const [pricey, greedy] = [
      await startOrchestrator({
        privateKey: c.orchestrators[0]!.privateKey,
        rpcUrl: c.rpcUrl,
        contracts: c.contracts,
        pricePerUnit: 5000n,
        logLevel: 'silent',
      }),
      await startOrchestrator({
        privateKey: c.orchestrators[1]!.privateKey,
        rpcUrl: c.rpcUrl,
        contracts: c.contracts,
        pricePerUnit: 1000n,
        faults: { hostileTicketParams: 'huge-face-value' },
        logLevel: 'silent',
      }),
    ];
    orchs.push(pricey, greedy);
    const good = net.orchestrators[2]!;
    const node = await startDevnetGateway(net, {
      orchAddr: [pricey.uri, greedy.uri, good.uri].join(','),
      maxPricePerUnit: '2000',
      transcodingOptions: 'P240p30fps16x9',
    });
    nodes.push(node);
    const refusedTickets: GatewayEvents['ticket.refused'][] = [];
    node.gateway.events.on('ticket.refused', (e) => refusedTickets.push(e));
    try {
      const mid = 'hostilechain';
      publish720p(`${node.gateway.rtmpUrl}/live/${mid}`, 60); // long enough for a slow machine; ended once checked
      await waitUntil(
        async () => {
          const r = await getText(`${node.gateway.httpUrl}/stream/${mid}/P240p30fps16x9.m3u8`);
          return r.status === 200 && mediaSeqs(r.text).length >= 2 ? true : undefined;
        },
        60_000,
        'renditions',
      );
      killAllPublishers(); // no new segments while the checks read the outcomes
      const runner = node.gateway.stream(mid)!;
      assert.ok(
        runner.outcomes.every((o) => o.orchestrator === good.uri),
        'only the honest orchestrator was used',
      );
      const st = Object.fromEntries(runner.opts.pool.status().map((s) => [s.uri, s]));
      assert.equal(st[pricey.uri]?.state, 'excluded');
      assert.match(st[pricey.uri]?.reason ?? '', /price above -maxPricePerUnit/);
      assert.equal(st[greedy.uri]?.state, 'excluded');
      assert.match(st[greedy.uri]?.reason ?? '', /faceValue .* > max faceValue/);
      // the greedy one's ticket params, not the dear one's price, are reported as refused tickets
      assert.ok(refusedTickets.some((e) => e.orchestrator === greedy.uri && /max faceValue/.test(e.reason) && e.manifestId === mid));
      assert.ok(!refusedTickets.some((e) => e.orchestrator === pricey.uri || e.orchestrator === good.uri));
      assert.equal((await getText(`${node.gateway.httpUrl}/healthz`)).status, 200);
    } finally {
      killAllPublishers();
      for (const o of orchs) await o.stop();
    }
  });

  it('-localVerify: a forged result signature and over-billed pixels are caught; the segment is redone on an honest orchestrator', async () => {
    const c = net.devnet;
    const key = c.orchestrators[2]!.privateKey;
    const common = {
      privateKey: key,
      rpcUrl: c.rpcUrl,
      contracts: c.contracts,
      pricePerUnit: 1000n,
      ticketEV: 10_000_000_000n,
      maxFaceValue: 20_000_000_000n,
      redeemGas: 1n,
      logLevel: 'silent',
    };
    const forger = await startOrchestrator({ ...common, faults: { forgeResultSignature: true } });
    const overbiller = await startOrchestrator({ ...common, faults: { overbillFactor: 2 } });
    // the honest orchestrator's address is listed, but it only comes up once the stream has started
    const goodPort = await latePort(); // bound only later: see latePort()
    const node = await startDevnetGateway(net, {
      orchAddr: [forger.uri, overbiller.uri, `https://127.0.0.1:${goodPort}`].join(','),
      transcodingOptions: 'P240p30fps16x9',
    });
    nodes.push(node);
    const started: RunningOrchestrator[] = [forger, overbiller];
    try {
      const mid = 'verified';
      publish720p(`${node.gateway.rtmpUrl}/live/${mid}`, 60); // long enough for a slow machine; ended once checked
      await waitUntil(async () => (node.gateway.stream(mid) ? true : undefined), 10_000, 'stream start');
      started.push(await startOrchestrator({ ...common, port: goodPort }));
      await waitUntil(
        async () => {
          const r = await getText(`${node.gateway.httpUrl}/stream/${mid}/P240p30fps16x9.m3u8`);
          return r.status === 200 && mediaSeqs(r.text).length >= 2 ? true : undefined;
        },
        60_000,
        'verified renditions',
      );
      killAllPublishers(); // no new segments while the checks read the outcomes
      const runner = node.gateway.stream(mid)!;
      const first = runner.outcomes.find((o) => o.seq === 0)!;
      assert.equal(first.transcoded, true, JSON.stringify(first));
      assert.equal(first.attempts, 3, 'both cheats were tried and caught before the honest orchestrator');
      assert.equal(first.orchestrator, `https://127.0.0.1:${goodPort}`);
      const errors = Object.fromEntries((first.attemptErrors ?? []).map((e) => [e.orchestrator, e.error]));
      assert.match(errors[forger.uri] ?? '', /not signed by orchestrator/);
      assert.match(errors[overbiller.uri] ?? '', /billed \d+ pixels, (the segment holds|the profile allows at most) \d+/);
      assert.ok(
        // (a segment that timed out everywhere on a loaded machine has no orchestrator; none is a cheater's)
        runner.outcomes.filter((o) => o.seq !== 0 && o.transcoded).every((o) => o.orchestrator === first.orchestrator),
        `later segments stay on the honest one: ${JSON.stringify(runner.outcomes)}`,
      );
    } finally {
      killAllPublishers();
      for (const o of started) await o.stop();
    }
  });

  it('USD max price through the ETH/USD feed; /getBroadcastConfig and /setBroadcastConfig on the control API', async () => {
    // 0.0000026 USD per 10^6 pixels at 2000 USD/ETH = 1300 wei per pixel: the 1500 wei orchestrator is too dear
    const [cheap, mid, dear] = net.orchestrators;
    const node = await startDevnetGateway(net, {
      orchAddr: [cheap!.uri, mid!.uri, dear!.uri].join(','),
      maxPricePerUnit: '0.0000026USD',
      pixelsPerUnit: '1000000',
      transcodingOptions: 'P240p30fps16x9',
    });
    nodes.push(node);
    const cfg = JSON.parse((await getText(`${node.controlUrl}/getBroadcastConfig`)).text);
    assert.deepEqual(cfg, { MaxPrice: '1300/1', TranscodingOptions: 'P240p30fps16x9' });
    try {
      const stream = 'usdpriced';
      publish720p(`${node.gateway.rtmpUrl}/live/${stream}`, 60); // long enough for a slow machine; ended once checked
      await waitUntil(async () => (node.gateway.stream(stream)?.outcomes.some((o) => o.transcoded) ? true : undefined), 60_000, 'a transcoded segment');
      killAllPublishers();
      const runner = node.gateway.stream(stream)!;
      assert.ok(runner.outcomes.every((o) => o.orchestrator !== dear!.uri));
      assert.match(runner.opts.pool.status().find((s) => s.uri === dear!.uri)?.reason ?? '', /price above -maxPricePerUnit/);
    } finally {
      killAllPublishers();
    }
    // raise it at run time (livepeer_cli "Set broadcast config")
    const set = await fetch(`${node.controlUrl}/setBroadcastConfig`, {
      method: 'POST',
      body: new URLSearchParams({ maxPricePerUnit: '0.000004', currency: 'USD', pixelsPerUnit: '1000000', transcodingOptions: 'P360p30fps16x9' }),
    });
    assert.equal(set.status, 200);
    assert.deepEqual(JSON.parse((await getText(`${node.controlUrl}/getBroadcastConfig`)).text), { MaxPrice: '2000/1', TranscodingOptions: 'P360p30fps16x9' });
    const bad = await fetch(`${node.controlUrl}/setBroadcastConfig`, { method: 'POST', body: new URLSearchParams({ maxPricePerUnit: '1' }) });
    assert.equal(bad.status, 400);
    const presets = JSON.parse((await getText(`${node.controlUrl}/getAvailableTranscodingOptions`)).text) as string[];
    assert.ok(presets.includes('P720p30fps16x9'));
  });
});
