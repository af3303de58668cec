// Fuzzing the replies an orchestrator controls: thousands of protobuf mutations of a valid
// OrchestratorInfo and a valid TranscodeResult, each pushed through the functions the node uses to
// parse and judge them. Nothing may throw but our own typed errors, nothing may take long, and what is
// accepted must still hold the rules (price under the cap, ticket params inside the limits, exactly
// the renditions asked for, renditions only from the orchestrator's origin, billed pixels bounded).
// The seed is printed; FUZZ_SEED=<n> replays a run, FUZZ_COUNT=<n> sets the inputs per message type.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getAddress } from 'viem';
import { bigintToMinimalBytes, bytesToBigint, hexToBytes } from '../../src/lib/bytes.ts';
import { GatewayError } from '../../src/lib/errors.ts';
import { cmp, rat, type Rat } from '../../src/lib/rat.ts';
import { maxBilledPixels } from '../../src/media/expectedOutput.ts';
import { PRESETS } from '../../src/media/profiles.ts';
import { ALL_VIDEO_CAPABILITIES, capabilityBitstring, streamCapabilities } from '../../src/net/capabilities.ts';
import { countListedRenditions } from '../../src/net/renditionCount.ts';
import { checkRenditionSource, RenditionSourceError } from '../../src/net/renditionSource.ts';
import { readTranscodeReply, SegmentError, type Rendition } from '../../src/net/segment.ts';
import { BillingError, checkBilledPixels } from '../../src/node/billing.ts';
import { judgeOrchestrator, type JudgeContext } from '../../src/node/judge.ts';
import { checkSessionPrice } from '../../src/node/transcodeSegment.ts';
import { filterByMaxPrice } from '../../src/discovery/selection.ts';
import type { OrchSession } from '../../src/discovery/sessionPool.ts';
import { MAX_WIN_PROB, PriceError, ticketEV } from '../../src/pm/ev.ts';
import { infoPrice } from '../../src/pm/segmentPayer.ts';
import { maxFaceValue, type SenderInfo } from '../../src/pm/senderInfo.ts';
import { parseTicketParams } from '../../src/pm/ticketParams.ts';
import { DEFAULT_PAYMENT_LIMITS, type ChainView } from '../../src/pm/validate.ts';
import { decodeMessage, encodeMessage, WireDecodeError, type OrchestratorInfo, type TranscodeResult } from '../../src/wire/lpRpc.ts';
import { mutate, Rng } from './protoMutator.ts';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 32);
const COUNT = Number(process.env.FUZZ_COUNT ?? 5000);
// Generous: a 4 MB reply decodes in tens of milliseconds; a second means something went quadratic.
const MAX_MS_PER_INPUT = 1000;

const TRANSCODER = 'https://o.example:8935';
const ETH = 10n ** 18n;
const funded: SenderInfo = { deposit: ETH, withdrawRound: 0n, reserve: { fundsRemaining: ETH, claimedInCurrentRound: 0n } };
const chain: ChainView = { lastSeenL1Block: 1000n, lastInitializedRound: 50n, ticketValidityPeriod: 2n };
const profiles = [PRESETS.P240p30fps16x9!, PRESETS.P360p30fps16x9!];
const source = { width: 1280, height: 720 };
const DURATION_MS = 2000;
const capabilities = streamCapabilities({ profiles });
const MAX_PRICE: Rat = rat(1500n); // wei per pixel; the valid reply asks 1200

const offchain: JudgeContext = { capabilities, blocklist: [] };
const onchain: JudgeContext = {
  capabilities,
  blocklist: [getAddress('0x00000000000000000000000000000000000000cc')],
  payments: { limits: DEFAULT_PAYMENT_LIMITS, senderInfo: () => funded, chain: () => chain },
};
const candidate = { uri: TRANSCODER, score: 1, stake: 7n };

const validInfo: OrchestratorInfo = {
  transcoder: `${TRANSCODER}/`,
  address: hexToBytes('0x00000000000000000000000000000000000000aa'),
  capabilities: { bitstring: capabilityBitstring(ALL_VIDEO_CAPABILITIES), mandatories: [], version: '0.9.1', capacities: { 1: 10, 2: 10 } },
  authToken: { token: new Uint8Array([1, 2, 3]), sessionId: 'session-1', expiration: 9_999_999_999n },
  priceInfo: { pricePerUnit: 1200n, pixelsPerUnit: 1n },
  ticketParams: {
    recipient: hexToBytes('0x00000000000000000000000000000000000000bb'),
    faceValue: bigintToMinimalBytes(10n ** 15n),
    winProb: bigintToMinimalBytes(MAX_WIN_PROB / 10n ** 6n),
    recipientRandHash: new Uint8Array(32).fill(0xab),
    seed: bigintToMinimalBytes(1n),
    expirationBlock: bigintToMinimalBytes(1040n),
    expirationParams: { creationRound: 50n, creationRoundBlockHash: new Uint8Array(32).fill(7) },
  },
  capabilitiesPrices: [{ pricePerUnit: 5n, pixelsPerUnit: 1n, capability: 27, constraint: 'model' }],
  nodes: ['https://n1.example:8935'],
  storage: [{ storageType: 1, s3info: { host: 'h' } }],
};

// Billed pixels well inside what each profile allows for a 720p source and 2 s.
const honestPixels = profiles.map((p) => maxBilledPixels(p, source, DURATION_MS) / 2n);
const validResult: TranscodeResult = {
  seq: 7n,
  data: {
    segments: profiles.map((p, i) => ({ url: `${TRANSCODER}/stream/abc/${p.name}/7.ts`, pixels: honestPixels[i]! })),
    sig: new Uint8Array(65).fill(1),
  },
  info: validInfo,
};

/** The session an accepted valid reply becomes: what later replies' prices are held against. */
function baseSession(): OrchSession {
  const v = judgeOrchestrator(onchain, candidate, validInfo, 1);
  assert.ok(v.ok, 'the valid reply is accepted');
  return v.session;
}

function timed<T>(what: string, stats: { maxMs: number }, fn: () => T): T {
  const started = performance.now();
  try {
    return fn();
  } finally {
    const ms = performance.now() - started;
    stats.maxMs = Math.max(stats.maxMs, ms);
    assert.ok(ms < MAX_MS_PER_INPUT, `${what} took ${ms.toFixed(0)} ms (seed ${SEED})`);
  }
}

/** Expects nothing but `types` to be thrown; returns the error, or undefined when nothing was thrown. */
function only<T>(types: readonly (abstract new (...a: never[]) => Error)[], where: string, fn: () => T): { value?: T; err?: Error } {
  try {
    return { value: fn() };
  } catch (err) {
    assert.ok(
      types.some((t) => err instanceof t),
      `${where} threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message} (seed ${SEED}); only ${types.map((t) => t.name).join(', ')} allowed`,
    );
    return { err: err as Error };
  }
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms (seed ${SEED})`)), ms).unref())]);

/** What the node does with an OrchestratorInfo it decoded: judge it (discovery), or adopt it (refresh). */
function judgeInfo(info: OrchestratorInfo, session: OrchSession, tally: Map<string, number>): void {
  for (const [label, ctx] of [
    ['offchain', offchain],
    ['onchain', onchain],
  ] as const) {
    // The session pool calls the judge on every reply; it must answer, never throw.
    const verdict = judgeOrchestrator(ctx, candidate, info, 5);
    const key = verdict.ok ? `${label}:accepted` : `${label}:${verdict.code}`;
    tally.set(key, (tally.get(key) ?? 0) + 1);
    if (!verdict.ok) continue;
    const s = verdict.session;
    assert.ok(URL.canParse(s.transcoder) && /^https?:$/.test(new URL(s.transcoder).protocol), `accepted transcoder ${s.transcoder} (seed ${SEED})`);
    assert.ok(s.price && s.price.den > 0n && s.price.num >= 0n, `accepted price ${s.price?.num}/${s.price?.den} (seed ${SEED})`);
    const { kept } = filterByMaxPrice([{ key: s.uri, stake: s.stake, price: s.price! }], MAX_PRICE);
    for (const k of kept) assert.ok(cmp(k.price!, MAX_PRICE) <= 0, `price ${k.price!.num}/${k.price!.den} kept above the cap (seed ${SEED})`);
    if (label === 'onchain') {
      assert.ok(s.address, `on-chain acceptance without an address (seed ${SEED})`);
      const params = parseTicketParams(info.ticketParams);
      const ev = ticketEV(params.faceValue, params.winProb);
      assert.ok(cmp(ev, DEFAULT_PAYMENT_LIMITS.maxTicketEV) <= 0, `ticket EV above the limit accepted (seed ${SEED})`);
      assert.ok(params.faceValue <= maxFaceValue(funded, 1n), `face value above the deposit accepted (seed ${SEED})`);
      assert.ok(params.expirationBlock > chain.lastSeenL1Block, `expired ticket params accepted (seed ${SEED})`);
      // a keyless gateway re-encodes the session's info for its remote signer
      only([GatewayError], 'encodeMessage(accepted OrchestratorInfo)', () => encodeMessage('OrchestratorInfo', info));
    }
  }
  // A refreshed reply or a result's info replaces a running session's: the price rule throws a typed error.
  only([GatewayError], 'checkSessionPrice', () => checkSessionPrice(session, infoPrice(info)));
}

describe(`hostile: fuzzed orchestrator replies (FUZZ_SEED=${SEED})`, () => {
  it(`${COUNT} mutated OrchestratorInfo replies: decoded and judged with typed errors only`, { timeout: 180_000 }, () => {
    console.log(`fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED})`);
    const rng = new Rng(SEED);
    const valid = encodeMessage('OrchestratorInfo', validInfo);
    const session = baseSession();
    const tally = new Map<string, number>();
    const stats = { maxMs: 0 };
    let malformed = 0;
    for (let i = 0; i < COUNT; i++) {
      const bytes = mutate(valid, rng);
      timed(`OrchestratorInfo #${i} (${bytes.length} bytes)`, stats, () => {
        const { value: info } = only([WireDecodeError], 'decodeMessage(OrchestratorInfo)', () => decodeMessage('OrchestratorInfo', bytes));
        if (!info) return void malformed++;
        judgeInfo(info, session, tally);
      });
    }
    console.log(`OrchestratorInfo: ${COUNT} inputs, ${malformed} malformed, max ${stats.maxMs.toFixed(1)} ms per input`, Object.fromEntries(tally));
    // The mutations must reach past the decoder, and some must survive it untouched in meaning.
    assert.ok(malformed < COUNT * 0.9, 'most mutations still decode, so the judge is exercised');
    assert.ok((tally.get('onchain:accepted') ?? 0) > 0, 'some mutations are harmless and accepted');
    assert.ok(tally.size >= 6, `refusals of many kinds: ${[...tally.keys()].join(', ')}`);
  });

  it(`${COUNT} mutated TranscodeResult replies: counted, decoded and judged before download with typed errors only`, { timeout: 180_000 }, async () => {
    const rng = new Rng(SEED ^ 0x5eed);
    const valid = encodeMessage('TranscodeResult', validResult);
    const session = baseSession();
    const infoTally = new Map<string, number>();
    const outcomes = new Map<string, number>();
    const count = (k: string): void => void outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    const stats = { maxMs: 0 };
    for (let i = 0; i < COUNT; i++) {
      const bytes = mutate(valid, rng);
      const read = timed(`TranscodeResult #${i} (${bytes.length} bytes)`, stats, () => {
        // What the framing count says must never be less than what the decoder finds.
        const listed = countListedRenditions(bytes);
        const decoded = (() => {
          try {
            return decodeMessage('TranscodeResult', bytes);
          } catch (err) {
            assert.ok(err instanceof WireDecodeError, `decodeMessage(TranscodeResult) threw ${(err as Error).message} (seed ${SEED})`);
            return undefined;
          }
        })();
        if (listed !== undefined && decoded?.data?.segments) {
          assert.ok(listed >= decoded.data.segments.length, `framing counted ${listed} renditions, the decoder ${decoded.data.segments.length} (seed ${SEED})`);
        }
        return only([SegmentError], 'readTranscodeReply', () => readTranscodeReply(bytes, profiles.length));
      });
      if (read.err) {
        count(`refused:${(read.err as SegmentError).failure}`);
        continue;
      }
      const { tr, segments } = read.value!;
      assert.equal(segments.length, profiles.length, `accepted a reply with ${segments.length} renditions for ${profiles.length} profiles (seed ${SEED})`);
      // Every URL is checked against the orchestrator's origin before a byte is fetched.
      let sourceRefused = false;
      for (const s of segments) {
        try {
          const target = await withTimeout(checkRenditionSource(s.url ?? '', TRANSCODER), 5000, 'checkRenditionSource');
          assert.equal(target.url.origin, new URL(TRANSCODER).origin, `rendition from ${target.url.origin} accepted (seed ${SEED})`);
        } catch (err) {
          assert.ok(err instanceof RenditionSourceError, `checkRenditionSource threw ${(err as Error).message} (seed ${SEED})`);
          sourceRefused = true;
        }
      }
      if (sourceRefused) {
        count('refused:rendition-source');
        continue;
      }
      const renditions: Rendition[] = segments.map((s) => ({ url: s.url ?? '', pixels: s.pixels ?? 0n }));
      const billed = only([BillingError], 'checkBilledPixels', () => checkBilledPixels(renditions, profiles, source, DURATION_MS));
      if (billed.err) {
        count('refused:overbilled');
        continue;
      }
      renditions.forEach((r, j) => {
        assert.ok(r.pixels <= maxBilledPixels(profiles[j]!, source, DURATION_MS), `over-billed rendition accepted (seed ${SEED})`);
      });
      count('accepted');
      if (tr.info) judgeInfo(tr.info, session, infoTally);
    }
    console.log(`TranscodeResult: ${COUNT} inputs, max ${stats.maxMs.toFixed(1)} ms per input`, Object.fromEntries(outcomes));
    assert.ok((outcomes.get('accepted') ?? 0) > 0, 'some mutations are harmless and accepted');
    assert.ok((outcomes.get('refused:malformed-response') ?? 0) > 0, 'broken framing is refused');
    assert.ok(outcomes.size >= 4, `refusals of many kinds: ${[...outcomes.keys()].join(', ')}`);
  });

  it('regression: the valid replies themselves are accepted end to end', () => {
    const bytes = encodeMessage('TranscodeResult', validResult);
    const { segments } = readTranscodeReply(bytes, profiles.length);
    assert.equal(segments.length, 2);
    assert.equal(bytesToBigint(validInfo.ticketParams!.expirationBlock), 1040n);
  });

  it('regression: a negative pixelsPerUnit (int64 on the wire) is refused by the judge, not thrown', () => {
    const info = decodeMessage('OrchestratorInfo', encodeMessage('OrchestratorInfo', { ...validInfo, priceInfo: { pricePerUnit: 1200n, pixelsPerUnit: -1n } }));
    for (const ctx of [offchain, onchain]) {
      const v = judgeOrchestrator(ctx, candidate, info, 1);
      assert.equal(v.ok, false);
      if (!v.ok) assert.deepEqual([v.code, v.reason], ['price', 'negative price: 1200 wei per -1 pixels']);
    }
  });

  it('regression: a refreshed reply with a negative price is not adopted (it used to pass the price-increase rule)', () => {
    const session = baseSession();
    for (const priceInfo of [
      { pricePerUnit: -1n, pixelsPerUnit: 1n },
      { pricePerUnit: 1n, pixelsPerUnit: -1n },
    ]) {
      assert.throws(
        () => checkSessionPrice(session, infoPrice({ ...validInfo, priceInfo })),
        (err) => err instanceof PriceError && /negative price/.test(err.message),
      );
    }
  });

  it('regression: a reply of 13,000 repeated OrchestratorInfo fields is refused on the framing, not decoded', () => {
    const info = encodeMessage('TranscodeResult', { info: validInfo });
    const bytes = Buffer.concat([encodeMessage('TranscodeResult', validResult), ...Array.from({ length: 13_000 }, () => info)]);
    const cpu = process.cpuUsage();
    assert.throws(
      () => readTranscodeReply(bytes, profiles.length),
      (err) => err instanceof SegmentError && err.failure === 'malformed-response' && /more than 20000 fields/.test(err.message),
    );
    const used = process.cpuUsage(cpu);
    assert.ok(used.user + used.system < 1_000_000, `refused in ${(used.user + used.system) / 1000} ms of CPU (decoding took seconds)`);
  });
});
