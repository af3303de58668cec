// Replay and concurrency on the signer's store: a state is spent once. An exact repeat of the last request
// gets the same bytes; an older state is refused with no tickets; two calls racing on one state produce
// one set of nonces — on Level (one signer) and on PostgreSQL (two signer replicas sharing the database).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { keccak_256 } from '@noble/hashes/sha3';
import { startLocalNetwork, type LocalNetwork } from '../../scripts/devnet/network.ts';
import type { RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { hexToBytes } from '../../src/lib/bytes.ts';
import { getOrchestrator } from '../../src/net/grpc.ts';
import { segDataPreimage } from '../../src/pm/requestSignatures.ts';
import { recoverPersonalSigner } from '../../src/pm/signer.ts';
import { SIGNER_LEDGER_NAMESPACE } from '../../src/signer/ledger.ts';
import { REPLAY_NAMESPACE } from '../../src/signer/replayGuard.ts';
import { decodeMessage, encodeMessage } from '../../src/wire/lpRpc.ts';
import { withPostgres } from '../helpers/postgres.ts';
import { postRaw, startTestSigner, type RawAnswer, type TestSigner, startSignerTestOrchestrator } from './signerKit.ts';

interface Answer {
  payment: string;
  segCreds: string;
  state: { State: string; Sig: string };
}

let net: LocalNetwork;
let orch: RunningOrchestrator;
before(async () => {
  net = await startLocalNetwork({ orchestrators: [] });
  orch = await startSignerTestOrchestrator(net);
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

describe('remote signer extensions: credentials for a real segment, spending credit', () => {
  let signer: TestSigner;
  let info = '';
  before(async () => {
    signer = await startTestSigner(net.gatewayFlags);
    const id = (await (await fetch(`${signer.url}/sign-orchestrator-info`, { method: 'POST' })).json()) as { address: `0x${string}`; signature: `0x${string}` };
    const oi = await getOrchestrator(orch.uri, { address: hexToBytes(id.address), sig: hexToBytes(id.signature), ignoreCapacityCheck: true });
    info = Buffer.from(encodeMessage('OrchestratorInfo', oi)).toString('base64');
  });
  after(async () => {
    await signer?.stop();
  });

  const P240 = Buffer.from(encodeMessage('VideoProfile', { name: 'P240p30fps16x9', width: 426, height: 240, bitrate: 600_000, fps: 30 })).toString('base64');
  const segmentCall = (seq: number, bytes: Uint8Array, durationMs: number, state?: Answer['state'], extra: Record<string, unknown> = {}) =>
    postRaw(
      `${signer.url}/generate-live-payment`,
      JSON.stringify({
        orchestrator: info,
        type: '',
        ManifestID: 'stream-x',
        segment: { seq, hash: Buffer.from(keccak_256(bytes)).toString('base64'), duration: durationMs, profiles: [P240] },
        ...(state ? { state } : {}),
        ...extra,
      }),
      { 'Content-Type': 'application/json' },
    );

  it('segment: the SegData is the real segment’s (seq, hash, duration, profiles), signed by the signer; tickets cover its fee', async () => {
    const bytes = new TextEncoder().encode('segment seven');
    const r = await segmentCall(7, bytes, 60_000);
    assert.equal(r.status, 200, r.text);
    const ans = JSON.parse(r.text) as Answer;
    const seg = decodeMessage('SegData', Buffer.from(ans.segCreds, 'base64'));
    assert.equal(seg.seq, 7n);
    assert.deepEqual([...seg.hash!], [...keccak_256(bytes)]);
    assert.equal(seg.duration, 60_000);
    assert.deepEqual(
      seg.fullProfiles?.map((p) => p.name),
      ['P240p30fps16x9'],
    );
    const id = (await (await fetch(`${signer.url}/sign-orchestrator-info`, { method: 'POST' })).json()) as { address: string };
    const preimage = segDataPreimage({ manifestId: 'stream-x', seq: 7n, hash: keccak_256(bytes), profileNames: ['P240p30fps16x9'] });
    assert.equal(recoverPersonalSigner(keccak_256(preimage), seg.sig!), id.address);
    assert.ok(decodeMessage('Payment', Buffer.from(ans.payment, 'base64')).ticketSenderParams!.length >= 1);

    // the EV floor: while the credit is below one ticket's EV, a short segment still buys one …
    const eight = await segmentCall(8, new TextEncoder().encode('segment eight'), 100, ans.state);
    assert.equal(eight.status, 200, eight.text);
    const paid8 = JSON.parse(eight.text) as Answer;
    // … after which the credit covers a short segment: an extended 482 — credentials for it, no tickets, a new state
    const next = await segmentCall(9, new TextEncoder().encode('segment nine'), 100, paid8.state);
    assert.equal(next.status, 482, next.text);
    const ext = JSON.parse(next.text) as Answer & { error: { message: string } };
    assert.equal(ext.error.message, 'no tickets');
    assert.equal(decodeMessage('SegData', Buffer.from(ext.segCreds, 'base64')).seq, 9n);
    assert.equal(decodeMessage('Payment', Buffer.from(ext.payment, 'base64')).ticketSenderParams?.length ?? 0, 0);
    assert.equal((JSON.parse(Buffer.from(ext.state.State, 'base64').toString()) as { SequenceNumber: number }).SequenceNumber, 2);
    // committed: the state before it is spent
    assert.equal((await segmentCall(10, new TextEncoder().encode('ten'), 100, paid8.state)).status, 409);
    const ten = await segmentCall(10, new TextEncoder().encode('ten'), 100, ext.state);
    assert.ok(ten.status === 200 || ten.status === 482, ten.text);
  });

  it('spendCredit: when the credit covers a job, an extended 482 with credentials and the spent state', async () => {
    const call = (inPixels: number, state?: Answer['state'], spend = true) =>
      postRaw(
        `${signer.url}/generate-live-payment`,
        JSON.stringify({
          orchestrator: info,
          type: '',
          inPixels,
          ManifestID: '27_model',
          ...(state ? { state } : {}),
          ...(spend ? { spendCredit: true } : {}),
        }),
        { 'Content-Type': 'application/json' },
      );
    const s0 = JSON.parse((await call(2_000_000_000)).text) as Answer;
    const s1 = JSON.parse((await call(1000, s0.state)).text) as Answer; // the EV floor buys one ticket
    const bare = await call(1000, s1.state, false);
    assert.equal(bare.text, '{"error":{"message":"no tickets"}}\n', 'without the flag: go-livepeer’s bare 482');
    const ext = await call(1000, s1.state);
    assert.equal(ext.status, 482);
    const body = JSON.parse(ext.text) as Answer & { error: unknown };
    assert.deepEqual(Object.keys(body), ['error', 'payment', 'segCreds', 'state']);
    const before = JSON.parse(Buffer.from(s1.state.State, 'base64').toString()) as { Balance: string };
    const after = JSON.parse(Buffer.from(body.state.State, 'base64').toString()) as { Balance: string };
    assert.notEqual(after.Balance, before.Balance, 'the fee was taken off the credit');
  });

  it('hostile segment fields are refused with 400 before anything is signed', async () => {
    const bad: Record<string, unknown>[] = [
      { segment: { seq: 1, hash: 'AAAA', duration: 1000, profiles: [P240] } },
      { segment: { seq: 1, hash: Buffer.alloc(32).toString('base64'), duration: 1000, profiles: [] } },
      { segment: { seq: 1, hash: Buffer.alloc(32).toString('base64'), duration: 10_000_000, profiles: [P240] } },
      { segment: { seq: 1, hash: Buffer.alloc(32).toString('base64'), duration: 1000, profiles: Array(17).fill(P240) } },
      { segment: { seq: -1, hash: Buffer.alloc(32).toString('base64'), duration: 1000, profiles: [P240] } },
      {
        segment: {
          seq: 1,
          hash: Buffer.alloc(32).toString('base64'),
          duration: 1000,
          profiles: [Buffer.from(encodeMessage('VideoProfile', { name: 'x', width: 0, height: 0 })).toString('base64')],
        },
      },
      { spendCredit: 'yes' },
    ];
    for (const extra of bad) {
      const r = await postRaw(`${signer.url}/generate-live-payment`, JSON.stringify({ orchestrator: info, type: '', ManifestID: 's', inPixels: 5, ...extra }), {
        'Content-Type': 'application/json',
      });
      assert.equal(r.status, 400, `${JSON.stringify(extra).slice(0, 80)}: ${r.text}`);
    }
    const wrongType = await postRaw(
      `${signer.url}/generate-live-payment`,
      JSON.stringify({ orchestrator: info, type: 'lv2v', segment: { seq: 1, hash: Buffer.alloc(32).toString('base64'), duration: 1000, profiles: [P240] } }),
      { 'Content-Type': 'application/json' },
    );
    assert.equal(wrongType.status, 400);
  });
});
