// The devnet orchestrator on a fresh devnet: signed GetOrchestrator over TLS, paid segments built with
// src/pm + src/net, go-livepeer's refusals, and a winning ticket redeemed on the TicketBroker.
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bytesToHex, hexToBytes, type Address } from 'viem';
import { ticketBrokerAbi } from '../../src/eth/abi/index.ts';
import { startOrchestrator, type OrchestratorOptions, type RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { MAX_WIN_PROB } from '../../src/pm/ev.ts';
import { streamCapabilities } from '../../src/net/capabilities.ts';
import { getOrchestrator, OrchestratorRpcError } from '../../src/net/grpc.ts';
import type { OrchestratorInfo, Payment } from '../../src/wire/lpRpc.ts';
import { buildSegData } from '../../src/net/segData.ts';
import { closeSegmentConnections, SegmentError, submitSegment, type SubmitResult } from '../../src/net/segment.ts';
import { ticketEV } from '../../src/pm/ev.ts';
import { buildPayment } from '../../src/pm/payment.ts';
import { rat, mul } from '../../src/lib/rat.ts';
import { orchestratorRequestSignature } from '../../src/pm/requestSignatures.ts';
import { TicketSender } from '../../src/pm/sender.ts';
import { privateKeySigner, verifyPersonalSignature, type Signer } from '../../src/pm/signer.ts';
import { MalformedTicketParamsError, parseTicketParams } from '../../src/pm/ticketParams.ts';
import { keccak_256 } from '@noble/hashes/sha3';
import { concatBytes } from '../../src/lib/bytes.ts';
import { withDevnet, type Devnet } from '../helpers/devnet.ts';
import type { TicketLogLine } from '../../scripts/devnet/orchestrator/ticketLog.ts';
import { makeTestClip, P144p30fps16x9, probe } from '../net/fixtures.ts';
import { rejection } from '../helpers/rejection.ts';

const ETH = 10n ** 18n;
let devnet: Devnet;
const profiles = [P144p30fps16x9];
const capabilities = streamCapabilities({ profiles });
let clip: Buffer;
let broadcaster: Signer;
let seq = 0n;
const started: RunningOrchestrator[] = [];

async function orchestrator(index: number, opts: OrchestratorOptions = {}): Promise<RunningOrchestrator> {
  const o = devnet.orchestrators[index]!;
  const orch = await startOrchestrator({
    privateKey: o.privateKey,
    rpcUrl: devnet.rpcUrl,
    contracts: devnet.contracts,
    pricePerUnit: 3n,
    pixelsPerUnit: 2n,
    logLevel: 'silent',
    ...opts,
  });
  started.push(orch);
  return orch;
}

function orchestratorRequest(signer: Signer = broadcaster) {
  return { address: hexToBytes(signer.address), sig: hexToBytes(orchestratorRequestSignature(signer)), capabilities };
}

const rpcError = (p: Promise<unknown>): Promise<OrchestratorRpcError> => rejection(p, OrchestratorRpcError);

const segmentError = (p: Promise<unknown>): Promise<SegmentError> => rejection(p, SegmentError);

/** One segment paid with `tickets` tickets signed by `ticketSigner` (default: the broadcaster). */
async function paidSegment(
  info: OrchestratorInfo,
  opts: { tickets?: number; sender?: TicketSender; segSigner?: Signer; payment?: Payment } = {},
): Promise<SubmitResult> {
  const params = parseTicketParams(info.ticketParams);
  const sender = opts.sender ?? new TicketSender(broadcaster, () => assert.fail('the orchestrator sent expiration params'));
  const batch = opts.tickets === 0 ? undefined : sender.createBatch(params, opts.tickets ?? 1);
  const payment = opts.payment ?? buildPayment(broadcaster.address, info.priceInfo, batch);
  const segData = buildSegData({
    manifestId: 'devnet-orch-test',
    seq: seq++,
    segment: clip,
    profiles,
    durationMs: 2000,
    authToken: info.authToken!,
    capabilities,
    signer: opts.segSigner ?? broadcaster,
  });
  return submitSegment({ transcoderUri: info.transcoder!, segData, payment, body: clip, durationMs: 2000 });
}

async function deposit(address: Address): Promise<bigint> {
  const [s] = await devnet.publicClient.readContract({
    address: devnet.contracts.ticketBroker,
    abi: ticketBrokerAbi,
    functionName: 'getSenderInfo',
    args: [address],
  });
  return s.deposit;
}

describe('devnet orchestrator', () => {
  devnet = withDevnet({ fundBroadcaster: { deposit: ETH, reserve: ETH } });

  before(async () => {
    clip = await makeTestClip();
    broadcaster = privateKeySigner(devnet.accounts.broadcaster.privateKey);
  });
  after(async () => {
    await Promise.all(started.map((o) => o.stop()));
    await closeSegmentConnections();
  });

  describe('devnet orchestrator: GetOrchestrator', () => {
    it('answers a signed request with a complete OrchestratorInfo', async () => {
      const orch = await orchestrator(0);
      const info = await getOrchestrator(orch.uri, orchestratorRequest(), { timeoutMs: 5000 });
      assert.equal(info.transcoder, orch.uri);
      assert.equal(bytesToHex(info.address!), devnet.orchestrators[0]!.address.toLowerCase());
      assert.deepEqual(info.priceInfo, { pricePerUnit: 3n, pixelsPerUnit: 2n });
      const tp = info.ticketParams!;
      assert.equal(tp.recipient?.length, 20);
      assert.equal(bytesToHex(tp.recipient!), devnet.orchestrators[0]!.address.toLowerCase());
      assert.equal(tp.recipientRandHash?.length, 32);
      assert.ok((tp.seed?.length ?? 0) > 0);
      assert.equal(tp.expirationParams?.creationRound, devnet.round);
      assert.equal(tp.expirationParams?.creationRoundBlockHash?.length, 32);
      const params = parseTicketParams(tp);
      const latest = await devnet.publicClient.getBlockNumber({ cacheTime: 0 });
      assert.ok(params.expirationBlock > latest && params.expirationBlock <= latest + 40n, 'expiration block = last seen block + 40');
      // Face value within this orchestrator's share of the reserve (pool of 3), win probability from the EV rule.
      assert.ok(params.faceValue > 0n && params.faceValue <= ETH / 3n);
      const q = MAX_WIN_PROB / params.faceValue;
      assert.equal(params.winProb, 8_000_000_000n * (MAX_WIN_PROB % params.faceValue === 0n ? q : q + 1n));
      assert.equal(info.authToken?.sessionId?.length, 8);
      assert.equal(info.authToken?.token?.length, 32);
    });

    it('refuses a bad request signature with the go-livepeer error text', async () => {
      const orch = await orchestrator(0);
      const other = privateKeySigner(devnet.accounts.spare[0]!.privateKey);
      const err = await rpcError(getOrchestrator(orch.uri, { ...orchestratorRequest(), sig: hexToBytes(orchestratorRequestSignature(other)) }));
      assert.equal(err.failure, 'rejected');
      assert.equal(err.orchestratorMessage, 'Invalid orchestrator request: orchestrator req sig check failed');
    });

    it('refuses a sender without reserve: insufficient sender reserve', async () => {
      const orch = await orchestrator(0);
      const unfunded = privateKeySigner(devnet.accounts.spare[1]!.privateKey);
      const err = await rpcError(getOrchestrator(orch.uri, orchestratorRequest(unfunded)));
      assert.equal(err.orchestratorMessage, 'insufficient sender reserve');
    });

    it('hands out hostile params and override prices when told to', async () => {
      const orch = await orchestrator(0, { faults: { hostileTicketParams: 'zero-win-prob', priceOverride: { pricePerUnit: 7n, pixelsPerUnit: 5n } } });
      const info = await getOrchestrator(orch.uri, orchestratorRequest());
      assert.equal(parseTicketParams(info.ticketParams).winProb, 0n);
      assert.deepEqual(info.priceInfo, { pricePerUnit: 7n, pixelsPerUnit: 5n });

      const huge = await orchestrator(0, { faults: { hostileTicketParams: 'huge-face-value' } });
      assert.equal(parseTicketParams((await getOrchestrator(huge.uri, orchestratorRequest())).ticketParams).faceValue, 1n << 200n);

      const expired = await orchestrator(0, { faults: { hostileTicketParams: 'expired' } });
      const params = parseTicketParams((await getOrchestrator(expired.uri, orchestratorRequest())).ticketParams);
      assert.ok(params.expirationBlock <= (await devnet.publicClient.getBlockNumber({ cacheTime: 0 })));

      const malformed = await orchestrator(0, { faults: { hostileTicketParams: 'malformed' } });
      const bad = await getOrchestrator(malformed.uri, orchestratorRequest());
      assert.throws(() => parseTicketParams(bad.ticketParams), MalformedTicketParamsError);
    });
  });

  describe('devnet orchestrator: paid segments', () => {
    it('transcodes a paid segment, signs the result and debits price × pixels', async () => {
      const orch = await orchestrator(1);
      const info = await getOrchestrator(orch.uri, orchestratorRequest());
      const res = await paidSegment(info);
      assert.equal(res.renditions.length, 1);
      const meta = await probe(res.renditions[0]!.data!);
      assert.deepEqual([meta.width, meta.height], [256, 144]);
      assert.equal(res.pixels, 256n * 144n * BigInt(meta.frames));
      // TranscodeData.sig: personal-sign over keccak256 of the renditions' hashes, by the orchestrator.
      const digest = keccak_256(concatBytes(...res.renditions.map((r) => keccak_256(r.data!))));
      assert.ok(verifyPersonalSignature(devnet.orchestrators[1]!.address, digest, res.sig));
      // Fresh params for the next segment, same session and price.
      assert.notDeepEqual(res.info?.ticketParams?.recipientRandHash, info.ticketParams?.recipientRandHash);
      assert.equal(res.info?.authToken?.sessionId, info.authToken?.sessionId);
      assert.deepEqual(res.info?.priceInfo, info.priceInfo);

      const credit = orch.stats.credits.find((c) => c.sessionId === info.authToken!.sessionId)!;
      const params = parseTicketParams(info.ticketParams);
      assert.deepEqual(credit.credited, ticketEV(params.faceValue, params.winProb));
      assert.deepEqual(credit.debited, mul(rat(3n, 2n), rat(res.pixels)));
      assert.deepEqual(credit.fixedPrice, rat(3n, 2n));
      assert.equal(orch.stats.ticketsReceived, 1);
    });

    it('refuses a ticket signed by another key with 400 invalid ticket signature', async () => {
      const orch = await orchestrator(1);
      const info = await getOrchestrator(orch.uri, orchestratorRequest());
      const impostor = privateKeySigner(devnet.accounts.spare[0]!.privateKey);
      const forger: Signer = { address: broadcaster.address, signHash: (h) => impostor.signHash(h) };
      const err = await segmentError(paidSegment(info, { sender: new TicketSender(forger, () => assert.fail()) }));
      assert.deepEqual([err.failure, err.status, err.message], ['http-status', 400, 'invalid ticket signature']);
      assert.equal(orch.stats.ticketsReceived, 0);
    });

    it('refuses replayed nonces, unpaid segments and segments signed by someone else', async () => {
      const orch = await orchestrator(1);
      const info = await getOrchestrator(orch.uri, orchestratorRequest());
      const params = parseTicketParams(info.ticketParams);
      const payment = buildPayment(broadcaster.address, info.priceInfo, new TicketSender(broadcaster, () => assert.fail()).createBatch(params, 1));
      await paidSegment(info, { payment });
      let err = await segmentError(paidSegment(info, { payment }));
      assert.equal(err.status, 400);
      assert.match(err.message, /^invalid ticket senderNonce: already seen sender=0x[0-9a-fA-F]{40} nonce=1$/);

      const fresh = await getOrchestrator(orch.uri, orchestratorRequest());
      err = await segmentError(paidSegment(fresh, { tickets: 0 }));
      assert.deepEqual([err.status, err.message], [400, 'Insufficient balance']);

      const other = privateKeySigner(devnet.accounts.spare[0]!.privateKey);
      err = await segmentError(paidSegment(await getOrchestrator(orch.uri, orchestratorRequest()), { segSigner: other }));
      assert.deepEqual([err.status, err.message], [403, 'ErrSegSig']);
    });

    it('records every ticket it reads and what became of it in the ticket log', async () => {
      const file = join(await mkdtemp(join(tmpdir(), 'orch-ticket-log-')), 'tickets.jsonl');
      const orch = await orchestrator(1, { ticketLog: file });
      const info = await getOrchestrator(orch.uri, orchestratorRequest());
      const params = parseTicketParams(info.ticketParams);
      const payment = buildPayment(broadcaster.address, info.priceInfo, new TicketSender(broadcaster, () => assert.fail()).createBatch(params, 2));
      await paidSegment(info, { payment });
      await segmentError(paidSegment(info, { payment })); // the same two nonces again
      const lines = (await readFile(file, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as TicketLogLine);
      const rrh = bytesToHex(info.ticketParams!.recipientRandHash!);
      assert.deepEqual(
        lines.map((l) => [l.sender, l.recipientRandHash, l.nonce, l.status.replace(/ sender=.*/, '')]),
        [
          [broadcaster.address.toLowerCase(), rrh, '1', 'credited'],
          [broadcaster.address.toLowerCase(), rrh, '2', 'credited'],
          [broadcaster.address.toLowerCase(), rrh, '1', 'invalid ticket senderNonce: already seen'],
          [broadcaster.address.toLowerCase(), rrh, '2', 'invalid ticket senderNonce: already seen'],
        ],
      );
      assert.equal(lines[0]!.faceValue, params.faceValue.toString());
    });

    it('redeems a winning ticket on chain: the deposit drops by the face value', async () => {
      // Above a redemption's gas cost (1.2M gas), so the orchestrator accepts to issue it.
      const faceValue = 10n ** 16n;
      // EV just below the face value: the ticket wins with probability 1 − 10^-16.
      const orch = await orchestrator(2, { maxFaceValue: faceValue, ticketEV: faceValue - 1n, initializeRounds: true });
      const before = await deposit(broadcaster.address);
      const info = await getOrchestrator(orch.uri, orchestratorRequest());
      assert.equal(parseTicketParams(info.ticketParams).faceValue, faceValue);
      await paidSegment(info);
      await orch.redemptionsSettled();
      assert.equal(orch.stats.winningTickets, 1);
      const [r] = orch.stats.redemptions;
      assert.equal(r?.status, 'redeemed', r?.error);
      assert.match(r!.txHash!, /^0x[0-9a-f]{64}$/);
      assert.equal(r!.faceValue, faceValue);
      const receipt = await devnet.publicClient.getTransactionReceipt({ hash: r!.txHash! });
      assert.equal(receipt.status, 'success');
      assert.equal(before - (await deposit(broadcaster.address)), faceValue);
    });
  });
});
