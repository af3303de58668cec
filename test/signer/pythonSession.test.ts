// The remote signer driven exactly as livepeer-python-gateway drives it for a live session
// (docs/remote-signer.md §7): sign-orchestrator-info with {}, GetOrchestrator to a real devnet
// orchestrator with that address and signature, generate-live-payment with {"orchestrator","type":"lv2v"},
// then with ManifestID and state, a 480 round when the ticket params expire, a 482, and every byte the
// client relies on (field names, types, base64 padding, statuses, error shape).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { keccak_256 } from '@noble/hashes/sha3';
import { getAddress } from 'viem';
import { mineBlocks } from '../../scripts/devnet/deploy.ts';
import { startLocalNetwork, type LocalNetwork } from '../../scripts/devnet/network.ts';
import type { RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { bytesToHex, hexToBytes } from '../../src/lib/bytes.ts';
import { getOrchestrator } from '../../src/net/grpc.ts';
import { EMPTY_SEGMENT_HASH } from '../../src/net/aiSegData.ts';
import { recoverMessageSigner, recoverPersonalSigner } from '../../src/pm/signer.ts';
import { segDataPreimage } from '../../src/pm/requestSignatures.ts';
import { ticketHash } from '../../src/pm/ticket.ts';
import { ticketEV } from '../../src/pm/ev.ts';
import { mul, rat, sub } from '../../src/lib/rat.ts';
import { ratString } from '../../src/signer/state.ts';
import { decodeMessage, encodeMessage, type OrchestratorInfo } from '../../src/wire/lpRpc.ts';
import { waitUntil } from '../e2e/helpers.ts';
import { postRaw, pythonJson, PYTHON_HEADERS, STD_BASE64, startTestSigner, type TestSigner, startSignerTestOrchestrator } from './signerKit.ts';

const LV2V_CAPS = { capacities: { 35: 1 }, constraints: { PerCapability: { 35: { models: { noop: {} } } } } };

interface PaymentAnswer {
  payment: string;
  segCreds: string;
  state: { State: string; Sig: string };
}

describe('remote signer: a python-gateway live session, byte for byte', () => {
  let net: LocalNetwork;
  let orch: RunningOrchestrator;
  let signer: TestSigner;
  let address: string;
  let signature: string;
  before(async () => {
    net = await startLocalNetwork({ orchestrators: [] });
    // 5.167 wei per pixel and tickets of EV 10^9 wei: 60 s of lv2v (1 658 880 000 pixels) costs 8 571 432 960 wei,
    // nine tickets leave 428 567 040 wei of credit; after any paid cycle the credit is at least one EV (about 7 s),
    // a 482 window a test can hit, and a paid cycle comes again within seconds
    orch = await startSignerTestOrchestrator(net);
    signer = await startTestSigner(net.gatewayFlags);
  });
  after(async () => {
    await signer?.stop();
    await orch?.stop();
    await net?.stop();
  });

  const getInfo = async (): Promise<{ info: OrchestratorInfo; b64: string }> => {
    const info = await getOrchestrator(orch.uri, {
      address: hexToBytes(address as `0x${string}`),
      sig: hexToBytes(signature as `0x${string}`),
      capabilities: LV2V_CAPS,
      ignoreCapacityCheck: true,
    });
    return { info, b64: Buffer.from(encodeMessage('OrchestratorInfo', info)).toString('base64') };
  };
  const pay = (payload: Record<string, string | Record<string, string>>) => postRaw(`${signer.url}/generate-live-payment`, pythonJson(payload), PYTHON_HEADERS);
  const parseOk = (r: { status: number; headers: Headers; text: string }): PaymentAnswer => {
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.ok(r.text.endsWith('}\n'), 'one JSON object and a newline, as Go encodes it');
    const body = JSON.parse(r.text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['payment', 'segCreds', 'state']);
    assert.equal(typeof body.payment, 'string');
    assert.ok((body.payment as string).length > 0, 'payment is non-empty');
    assert.equal(typeof body.segCreds, 'string');
    const state = body.state as Record<string, unknown>;
    assert.ok(state && typeof state === 'object' && !Array.isArray(state), 'state is an object');
    assert.deepEqual(Object.keys(state), ['State', 'Sig']);
    for (const v of [body.payment, body.segCreds, state.State, state.Sig] as string[]) assert.match(v, STD_BASE64);
    assert.equal(Buffer.from(state.Sig as string, 'base64').length, 65);
    return body as unknown as PaymentAnswer;
  };
  const errorOf = (r: { text: string }): string => {
    const body = JSON.parse(r.text) as { error: { message: string } };
    assert.deepEqual(Object.keys(body), ['error']);
    assert.equal(typeof body.error.message, 'string');
    return body.error.message;
  };

  let first: PaymentAnswer;
  let manifestId = '';

  it('sign-orchestrator-info with {} answers the EIP-55 address and a 65-byte signature over it; the orchestrator accepts them', async () => {
    const r = await postRaw(`${signer.url}/sign-orchestrator-info`, '{}', PYTHON_HEADERS);
    assert.equal(r.status, 200);
    const body = JSON.parse(r.text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['address', 'signature']);
    address = body.address as string;
    signature = body.signature as string;
    assert.match(address, /^0x[0-9a-fA-F]{40}$/);
    assert.equal(address, getAddress(address), 'EIP-55 checksummed');
    assert.equal(address, net.broadcaster.address);
    assert.match(signature, /^0x[0-9a-f]{130}$/);
    assert.equal(recoverPersonalSigner(keccak_256(new TextEncoder().encode(address)), signature as `0x${string}`), address);
    // go-livepeer's client sends no body at all
    const bare = await postRaw(`${signer.url}/sign-orchestrator-info`, undefined, { 'Content-Type': 'application/json' });
    assert.equal(bare.text, r.text);
    // only POST
    const get = await fetch(`${signer.url}/sign-orchestrator-info`);
    assert.equal(get.status, 405);
    // the orchestrator checks the signature (it refuses anything else)
    const { info } = await getInfo();
    assert.ok(info.ticketParams && info.priceInfo && info.authToken);
  });

  it('first payment {"orchestrator","type":"lv2v"}: 60 s prepaid, tickets from nonce 1, credentials with the O auth token', async () => {
    const { info, b64 } = await getInfo();
    first = parseOk(await pay({ orchestrator: b64, type: 'lv2v' }));
    const payment = decodeMessage('Payment', Buffer.from(first.payment, 'base64'));
    assert.equal(bytesToHex(payment.sender!), net.broadcaster.address.toLowerCase());
    assert.deepEqual(payment.expectedPrice, info.priceInfo);
    assert.equal(bytesToHex(payment.ticketParams!.recipientRandHash!), bytesToHex(info.ticketParams!.recipientRandHash!));
    // 60 s × 27 648 000 pixels × 5.167 wei = 8.57e9 wei: nine tickets of EV 10^9
    assert.deepEqual(
      payment.ticketSenderParams?.map((t) => t.senderNonce),
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    const seg = decodeMessage('SegData', Buffer.from(first.segCreds, 'base64'));
    manifestId = new TextDecoder().decode(seg.manifestId);
    assert.match(manifestId, /^[0-9a-f]{8}$/, 'a random id while the caller has none');
    assert.equal(bytesToHex(seg.hash!), bytesToHex(EMPTY_SEGMENT_HASH));
    assert.equal(seg.seq ?? 0n, 0n);
    assert.deepEqual(encodeMessage('AuthToken', seg.authToken!), encodeMessage('AuthToken', info.authToken!));
    const segSigner = recoverPersonalSigner(keccak_256(segDataPreimage({ manifestId, seq: 0n, hash: seg.hash!, profileNames: [] })), seg.sig!);
    assert.equal(segSigner, net.broadcaster.address);
    // each ticket is signed by the signer's key
    const t = payment.ticketSenderParams![0]!;
    const params = payment.ticketParams!;
    const h = ticketHash({
      recipient: getAddress(bytesToHex(params.recipient!)),
      sender: net.broadcaster.address,
      faceValue: BigInt(bytesToHex(params.faceValue!)),
      winProb: BigInt(bytesToHex(params.winProb!)),
      senderNonce: 1n,
      recipientRandHash: bytesToHex(params.recipientRandHash!),
      creationRound: payment.expirationParams!.creationRound!,
      creationRoundBlockHash: bytesToHex(payment.expirationParams!.creationRoundBlockHash!),
    });
    assert.equal(recoverPersonalSigner(h, t.sig!), net.broadcaster.address);
    // the state: Go field names, signed over its raw bytes with the same key
    const stateBytes = Buffer.from(first.state.State, 'base64');
    assert.equal(recoverMessageSigner(stateBytes, Buffer.from(first.state.Sig, 'base64')), net.broadcaster.address);
    const state = JSON.parse(stateBytes.toString()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(state), [
      'StateID',
      'PMSessionID',
      'LastUpdate',
      'OrchestratorAddress',
      'App',
      'AuthExpiry',
      'SenderNonce',
      'Balance',
      'InitialPricePerUnit',
      'InitialPixelsPerUnit',
      'Type',
      'SequenceNumber',
      'AuthID',
    ]);
    assert.equal(state.SenderNonce, 9);
    assert.equal(state.SequenceNumber, 0);
    assert.equal(state.Type, 'lv2v');
    assert.equal(state.OrchestratorAddress, orch.address.toLowerCase());
    const ev = ticketEV(BigInt(bytesToHex(params.faceValue!)), BigInt(bytesToHex(params.winProb!)));
    assert.equal(state.Balance, ratString(sub(mul(rat(9n), ev), rat(8_571_432_960n))), 'nine tickets of EV less 60 s × 27 648 000 × 5.167 wei, exact');
  });

  let second: PaymentAnswer;
  it('next cycle with ManifestID and state: bills the elapsed time; the EV floor buys one more ticket', async () => {
    const { b64 } = await getInfo();
    // python sets ManifestID to O's manifest_id from the live-video-to-video answer; any stable id works here
    second = parseOk(await pay({ orchestrator: b64, type: 'lv2v', ManifestID: 'o-manifest-1', state: first.state }));
    const seg = decodeMessage('SegData', Buffer.from(second.segCreds, 'base64'));
    assert.equal(new TextDecoder().decode(seg.manifestId), 'o-manifest-1');
    const state = JSON.parse(Buffer.from(second.state.State, 'base64').toString()) as { SequenceNumber: number; Balance: string };
    assert.equal(state.SequenceNumber, 1);
  });

  it('482 when the credit covers the elapsed time: {"error":{"message":"no tickets"}}, no state; the old state stays good', async () => {
    const { b64 } = await getInfo();
    const r = await pay({ orchestrator: b64, type: 'lv2v', ManifestID: 'o-manifest-1', state: second.state });
    assert.equal(r.status, 482, r.text);
    assert.equal(errorOf(r), 'no tickets');
    // python keeps its state after a 482 (SkipPaymentCycle): the same state is still accepted later
    const again = await pay({ orchestrator: b64, type: 'lv2v', ManifestID: 'o-manifest-1', state: second.state });
    assert.equal(again.status, 482);
  });

  it('480 with Livepeer-Orchestrator-URL once the ticket params expired; GetOrchestrator again and the same state pays, nonces restarting at 1', async () => {
    const { b64: stale } = await getInfo();
    await mineBlocks(net.devnet.rpcUrl, 45);
    // the signer sees the new block within its polling interval
    const r = await waitUntil(
      async () => {
        const a = await pay({ orchestrator: stale, type: 'lv2v', ManifestID: 'o-manifest-1', state: second.state });
        return a.status === 480 ? a : undefined;
      },
      20_000,
      'a 480',
    );
    assert.equal(r.headers.get('livepeer-orchestrator-url'), orch.uri);
    assert.match(errorOf(r), /refresh session/);
    let { info, b64 } = await getInfo();
    const outcomes: string[] = [];
    // python: on a 480, GetOrchestrator again and retry (the orchestrator's own block view may lag a moment);
    // the credit may still cover the elapsed time (482): wait for a paid cycle
    const third = await waitUntil(
      async () => {
        const a = await pay({ orchestrator: b64, type: 'lv2v', ManifestID: 'o-manifest-1', state: second.state });
        outcomes.push(`${a.status} ${a.text}`);
        if (a.status === 480) ({ info, b64 } = await getInfo());
        return a.status === 200 ? a : undefined;
      },
      60_000,
      'a paid cycle',
    ).catch((err: Error) => assert.fail(`${err.message}: ${outcomes.slice(-5).join(' | ')}`));
    const answer = parseOk(third);
    const payment = decodeMessage('Payment', Buffer.from(answer.payment, 'base64'));
    assert.equal(bytesToHex(payment.ticketParams!.recipientRandHash!), bytesToHex(info.ticketParams!.recipientRandHash!));
    assert.equal(payment.ticketSenderParams?.[0]?.senderNonce, 1, 'new ticket params: nonces start again');
  });

  it('go-livepeer’s client shape also works: every key, state {"State":null,"Sig":null} on the first call, keys in any case', async () => {
    const { b64 } = await getInfo();
    const caps = Buffer.from(encodeMessage('Capabilities', LV2V_CAPS)).toString('base64');
    const body = `{"state":{"State":null,"Sig":null},"orchestrator":"${b64}","manifestid":"","inPixels":0,"type":"lv2v","capabilities":"${caps}","unknownKey":[1,2]}`;
    const r = await postRaw(`${signer.url}/generate-live-payment`, body, { 'Content-Type': 'application/json', 'User-Agent': 'Go-http-client/1.1' });
    const ans = parseOk(r);
    const state = JSON.parse(Buffer.from(ans.state.State, 'base64').toString()) as { SequenceNumber: number; StateID: string };
    assert.equal(state.SequenceNumber, 0, 'a new session');
    assert.deepEqual(decodeMessage('SegData', Buffer.from(ans.segCreds, 'base64')).capabilities?.capacities, LV2V_CAPS.capacities);
  });

  it('errors python shows: bad base64, a wrong type, a missing orchestrator — each {"error":{"message"}} with a 4xx', async () => {
    const { b64 } = await getInfo();
    const cases: [string, RegExp][] = [
      [pythonJson({ orchestrator: b64.slice(0, -1), type: 'lv2v' }), /base64/],
      [pythonJson({ orchestrator: b64, type: 'video' }), /invalid job type/],
      [pythonJson({ type: 'lv2v' }), /missing orchestrator/],
      ['{"orchestrator": 5}', /cannot unmarshal number/],
      ['not json', /invalid JSON/],
    ];
    for (const [body, re] of cases) {
      const r = await postRaw(`${signer.url}/generate-live-payment`, body, PYTHON_HEADERS);
      assert.equal(r.status, 400, body);
      assert.match(errorOf(r), re);
    }
  });
});
