// Replay and concurrency on the signer's store: a state is spent once. An exact repeat of the last request
// gets the same bytes; an older state is refused with no tickets; two calls racing on one state produce
// one set of nonces — on Level (one signer) and on PostgreSQL (two signer replicas sharing the database).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startLocalNetwork, type LocalNetwork } from '../../scripts/devnet/network.ts';
import { startOrchestrator, type RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { hexToBytes } from '../../src/lib/bytes.ts';
import { getOrchestrator } from '../../src/net/grpc.ts';
import { SIGNER_LEDGER_NAMESPACE } from '../../src/signer/ledger.ts';
import { REPLAY_NAMESPACE } from '../../src/signer/replayGuard.ts';
import { decodeMessage, encodeMessage } from '../../src/wire/lpRpc.ts';
import { withPostgres } from '../helpers/postgres.ts';
import { postRaw, startTestSigner, type RawAnswer, type TestSigner } from './signerKit.ts';

interface Answer {
  payment: string;
  segCreds: string;
  state: { State: string; Sig: string };
}

let net: LocalNetwork;
let orch: RunningOrchestrator;
before(async () => {
  net = await startLocalNetwork({ orchestrators: [] });
  orch = await startOrchestrator({
    privateKey: net.devnet.orchestrators[0]!.privateKey,
    rpcUrl: net.devnet.rpcUrl,
    contracts: net.devnet.contracts,
    pricePerUnit: 5167n,
    pixelsPerUnit: 1000n,
    ticketEV: 1_000_000_000n,
    maxFaceValue: 20_000_000_000n,
    redeemGas: 1n,
    logLevel: 'silent',
  });
});
after(async () => {
  await orch?.stop();
  await net?.stop();
});

const pg = withPostgres();

/** Runs the same cases against `start()`'s signers: [a, b] may be one node twice or two replicas. */
function replayCases(backend: string, start: () => Promise<TestSigner[]>): void {
  describe(`remote signer replay guard on ${backend}`, () => {
    let signers: TestSigner[] = [];
    let info = '';
    before(async () => {
      signers = await start();
      const addr = (await (await fetch(`${signers[0]!.url}/sign-orchestrator-info`, { method: 'POST' })).json()) as {
        address: `0x${string}`;
        signature: `0x${string}`;
      };
      const oi = await getOrchestrator(orch.uri, { address: hexToBytes(addr.address), sig: hexToBytes(addr.signature), ignoreCapacityCheck: true });
      info = Buffer.from(encodeMessage('OrchestratorInfo', oi)).toString('base64');
    });
    after(async () => {
      for (const s of signers) await s.stop();
    });

    const a = () => signers[0]!;
    const b = () => signers[signers.length - 1]!;
    // type "" bills the given units: 2·10^9 pixels × 5.167 wei ≈ 10 tickets of EV 10^9, whatever the clock says
    const pay = (s: TestSigner, inPixels: number, state?: Answer['state']): Promise<RawAnswer> =>
      postRaw(
        `${s.url}/generate-live-payment`,
        JSON.stringify({ orchestrator: info, type: '', inPixels, ManifestID: 'stream-1', ...(state ? { state } : {}) }),
        { 'Content-Type': 'application/json' },
      );
    const ok = (r: RawAnswer): Answer => {
      assert.equal(r.status, 200, r.text);
      return JSON.parse(r.text) as Answer;
    };
    const nonces = (ans: Answer): number[] => decodeMessage('Payment', Buffer.from(ans.payment, 'base64')).ticketSenderParams!.map((t) => t.senderNonce ?? 0);
    const seqOf = (ans: Answer): number => (JSON.parse(Buffer.from(ans.state.State, 'base64').toString()) as { SequenceNumber: number }).SequenceNumber;
    const ledger = async (): Promise<number> =>
      (await a().node.store.records.list({ ns: SIGNER_LEDGER_NAMESPACE, from: new Date(0), to: new Date(Date.now() + 60_000) })).length;

    it('an exact repeat of the last request gets the same bytes; no new tickets are recorded', async () => {
      const s0 = ok(await pay(a(), 2_000_000_000));
      const before = await ledger();
      const first = await pay(a(), 2_000_000_000, s0.state);
      const again = await pay(b(), 2_000_000_000, s0.state);
      assert.equal(first.status, 200, first.text);
      assert.equal(again.status, 200);
      assert.equal(again.text, first.text, 'byte for byte');
      assert.equal(await ledger(), before + 1);
    });

    it('an older state is refused with a clear 4xx and no tickets; the latest state still pays', async () => {
      const s0 = ok(await pay(a(), 2_000_000_000));
      const s1 = ok(await pay(a(), 2_000_000_000, s0.state));
      assert.equal(seqOf(s1), 1);
      const before = await ledger();
      // the old state, asked for something else (a client that lost track, or a replay attempt)
      for (const s of [a(), b()]) {
        const old = await pay(s, 3_000_000_000, s0.state);
        assert.equal(old.status, 409, old.text);
        const body = JSON.parse(old.text) as { error: { message: string } };
        assert.match(body.error.message, /stale payment state: sequence 1 was already paid/);
        assert.ok(!('payment' in body));
      }
      assert.equal(await ledger(), before, 'no tickets for a stale state');
      const s2 = ok(await pay(b(), 2_000_000_000, s1.state));
      assert.equal(seqOf(s2), 2);
      assert.equal(nonces(s2)[0], Math.max(...nonces(s1)) + 1, 'nonces continue from the latest state');
    });

    it('two different calls racing on one state: one pays, the other is refused — one set of nonces', async () => {
      const s0 = ok(await pay(a(), 2_000_000_000));
      const s1 = ok(await pay(a(), 2_000_000_000, s0.state));
      const before = await ledger();
      const racers = await Promise.all([pay(a(), 2_000_000_000, s1.state), pay(b(), 2_500_000_000, s1.state), pay(a(), 3_000_000_000, s1.state)]);
      const paid = racers.filter((r) => r.status === 200);
      assert.equal(paid.length, 1, racers.map((r) => `${r.status} ${r.text}`).join(' | '));
      for (const r of racers.filter((x) => x.status !== 200)) assert.equal(r.status, 409, r.text);
      assert.equal(await ledger(), before + 1);
      const used = nonces(ok(paid[0]!));
      assert.equal(used[0], Math.max(...nonces(s1)) + 1);
    });

    it('the same call twice at once: both get the one answer, tickets issued once', async () => {
      const s0 = ok(await pay(a(), 2_000_000_000));
      const before = await ledger();
      const [x, y] = await Promise.all([pay(a(), 2_000_000_000, s0.state), pay(b(), 2_000_000_000, s0.state)]);
      assert.equal(x.status, 200, x.text);
      assert.equal(y.text, x.text);
      assert.equal(await ledger(), before + 1);
    });

    it('a refusal is not committed: after a 482 the same state pays later', async () => {
      const s0 = ok(await pay(a(), 2_000_000_000));
      // the EV floor: a small bill still buys one ticket while the credit is below one EV …
      const s1 = ok(await pay(a(), 1000, s0.state));
      // … after which a few pixels are covered by the credit: nothing to pay now
      const none = await pay(a(), 1000, s1.state);
      assert.equal(none.status, 482, none.text);
      const entry = await a().node.store.kv.get(
        REPLAY_NAMESPACE,
        `${orch.address.toLowerCase()}/${(JSON.parse(Buffer.from(s1.state.State, 'base64').toString()) as { StateID: string }).StateID}`,
      );
      assert.ok(entry, 'the paid answer was recorded');
      assert.equal((JSON.parse(entry.value) as { seq: string }).seq, '1', 'the 482 did not move the state on');
      const later = await pay(b(), 2_000_000_000, s1.state);
      assert.equal(seqOf(ok(later)), 2);
    });
  });
}

replayCases('Level', async () => {
  const s = await startTestSigner(net.gatewayFlags);
  return [s, s];
});

replayCases('PostgreSQL, two replicas', async () => {
  const storeUrl = await pg.createDatabase();
  const one = await startTestSigner({ ...net.gatewayFlags, storeUrl });
  const two = await startTestSigner({ ...net.gatewayFlags, storeUrl });
  return [one, two];
});
