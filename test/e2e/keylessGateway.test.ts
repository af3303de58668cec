// A keyless gateway on the devnet, paid entirely through our remote signer: no keystore and no chain
// connection on the gateway's side; video segments carry the signer's tickets and its signature over
// the real segment (our segment extension), an AI job is paid with billing type "". The devnet
// orchestrators redeem the winners on chain and the signer's deposit drops by exactly their face value.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLocalNetwork, type LocalNetwork } from '../../scripts/devnet/network.ts';
import { SIGNER_LEDGER_NAMESPACE } from '../../src/signer/ledger.ts';
import { PIPELINE_CASES, post } from '../ai/aiTestKit.ts';
import { startTestSigner, type TestSigner } from '../signer/signerKit.ts';
import { getText, killAllPublishers, mediaSeqs, publish720p, sleep, startTestNode, waitUntil, type TestNode } from './helpers.ts';

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

describe('keyless gateway paid through the remote signer on the devnet', () => {
  let net: LocalNetwork;
  let signer: TestSigner;
  let node: TestNode;
  let datadir: string;
  before(async () => {
    net = await startLocalNetwork(process.env.LP_TEST_LOG ? { log: (await import('pino')).pino({ level: process.env.LP_TEST_LOG }) } : {});
    signer = await startTestSigner({ ...net.gatewayFlags, remoteDiscovery: 'true' });
    datadir = await mkdtemp(join(tmpdir(), 'lpkeyless-'));
    // off-chain flags only: no -network, no -ethUrl, no keystore, no orchestrator list: the signer's discovery
    // one small rendition: the orchestrators must answer within the segment's budget on a loaded machine
    node = await startTestNode({ datadir, remoteSignerUrl: signer.url, transcodingOptions: 'P144p30fps16x9' });
  });
  after(async () => {
    killAllPublishers();
    await node?.stop();
    await signer?.stop();
    await net?.stop();
    if (datadir) await rm(datadir, { recursive: true, force: true });
  });

  it('streams video and runs an AI job: tickets redeemed on chain, the signer’s deposit down by exactly the redeemed face value, no key on the gateway', async () => {
    const { gateway } = node;
    const depositBefore = await net.broadcasterDeposit();

    // video: 30 s of 720p, a rendition served as HLS
    const mid = 'keyless';
    const pub = publish720p(`${gateway.rtmpUrl}/live/${mid}`, 30);
    const seen = new Set<number>();
    const ended = pub.exited.then(() => true);
    const poll = async () => {
      const r = await getText(`${gateway.httpUrl}/stream/${mid}/P144p30fps16x9.m3u8`);
      if (r.status === 200) for (const s of mediaSeqs(r.text)) seen.add(s);
    };
    while (!(await Promise.race([ended, sleep(500).then(() => false)]))) await poll().catch(() => {});
    await waitUntil(
      async () => {
        await poll().catch(() => {});
        return gateway.stream(mid) ? undefined : true;
      },
      60_000,
      'stream end',
    );
    // a loaded machine transcodes slowly and some segments time out; the payments are what is checked here
    assert.ok(seen.size >= 1, `${seen.size} transcoded segments`);
    const status = await gateway.status();
    const ledger = (status.Ledger.streams as Record<string, { transcoded: number; tickets: number; failures: number }>)[mid]!;
    assert.ok(ledger.transcoded >= 1);
    assert.ok(ledger.tickets > 0, 'segments carried tickets');
    const videoTickets = net.orchestrators.reduce((n, o) => n + o.stats.ticketsReceived, 0);
    // a timed-out upload may still have reached the orchestrator: it can hold more than the gateway counted
    assert.ok(videoTickets >= ledger.tickets, `orchestrators received ${videoTickets} tickets, the gateway counted ${ledger.tickets}`);

    // AI: one text-to-image job, paid with billing type "" and the job's units
    const c = PIPELINE_CASES[0]!;
    const r = await post(gateway.httpUrl, c.pipeline, c.body());
    assert.equal(r.status, 200, JSON.stringify(r.json));
    await c.check(r.json, gateway.httpUrl);
    const aiTickets = net.orchestrators.reduce((n, o) => n + (o.ai?.stats.ticketsReceived ?? 0), 0);
    assert.ok(aiTickets > 0, 'the AI job carried tickets');
    const units = net.orchestrators.reduce((s, o) => s + (o.ai!.stats.unitsDebited[`${c.cap}_${c.model}`] ?? 0n), 0n);
    assert.equal(units, c.units);

    // the signer's money records: every ticket the orchestrators received, and no other
    const records = await signer.node.store.records.list({ ns: SIGNER_LEDGER_NAMESPACE, from: new Date(0), to: new Date(Date.now() + 60_000) });
    const recorded = records.reduce((n, rec) => n + Number(rec.amounts.tickets ?? 0n), 0);
    // (a ticket batch whose upload never left is recorded but never received)
    assert.ok(recorded >= videoTickets + aiTickets, `${recorded} recorded, ${videoTickets + aiTickets} received`);
    assert.equal((signer.node.status().Signer as { Tickets: number }).Tickets, recorded);

    // winners redeemed on chain; the signer's deposit dropped by exactly their face value
    for (const o of net.orchestrators) await o.redemptionsSettled();
    const redemptions = net.orchestrators.flatMap((o) => o.stats.redemptions).filter((x) => x.status === 'redeemed');
    assert.ok(redemptions.length >= 1, 'at least one winning ticket was redeemed');
    const redeemed = redemptions.reduce((sum, x) => sum + x.faceValue, 0n);
    assert.equal(depositBefore - (await net.broadcasterDeposit()), redeemed);

    // the gateway's machine holds no key: nothing in its data directory is a keystore file
    for (const f of await filesUnder(datadir)) {
      const text = await readFile(f, 'utf8').catch(() => '');
      assert.ok(!/"ciphertext"|"crypto"/i.test(text), `${f} looks like a key file`);
    }
    assert.ok(!(await readdir(datadir)).includes('keystore'));
    assert.equal((await gateway.status()).EthAddress, undefined, 'no account of its own');
  });
});
