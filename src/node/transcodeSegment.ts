// One attempt at one segment on one orchestrator session: refresh the session if its token or
// ticket params are about to lapse, pay, upload, download the renditions, settle the balance.
import type { OrchSession } from '../discovery/sessionPool.ts';
import type { WireVideoProfile } from '../net/capabilities.ts';
import type { Capabilities, OrchestratorInfo } from '../wire/lpRpc.ts';
import { buildSegData } from '../net/segData.ts';
import { submitSegment, type Rendition } from '../net/segment.ts';
import type { FeeProfile } from '../pm/ev.ts';
import { ZERO, type Rat } from '../lib/rat.ts';
import type { SegmentPayer, PreparedPayment } from '../pm/segmentPayer.ts';
import type { Signer } from '../pm/signer.ts';
import { bytesToBigint } from '../lib/bytes.ts';
import { errorMessage, GatewayError } from '../lib/errors.ts';
import { PARAMS_EXPIRY_BUFFER, TicketParamsError, validatePriceIncrease } from '../pm/validate.ts';
import type { RemoteSegmentOutcome, RemoteSegmentPayer } from './remoteSegmentPayer.ts';
import { type DecodeCheckOutcome, verifyResult } from './verifyResult.ts';
import { renditionByteCap, type SourceShape } from '../media/expectedOutput.ts';
import { checkBilledPixels, checkRenditionSizes } from './billing.ts';

export interface SegmentJob {
  manifestId: string;
  seq: number;
  data: Buffer;
  durationMs: number;
  profiles: readonly (WireVideoProfile & FeeProfile)[];
  capabilities: Capabilities;
  /** The source segment's size and frame rate (probed), for the billing and size checks. */
  source?: SourceShape;
  /** Ask the orchestrator to re-initialise its transcoding session (the input format changed). */
  forceSessionReinit?: boolean;
  /** Transcode only this part of the segment (SegData segment_parameters; HTTP push Content-Slice-From/To). */
  clip?: { fromMs: number; toMs: number };
  /** The stream's TimeoutMultiplier: the segment's upload and request budgets are stretched when > 1. */
  timeoutMultiplier?: number;
  /** keccak-256 of `data`, when the segmenter computed it already */
  segmentHash?: Uint8Array;
  /**
   * Told just before the upload starts, once the payment is on record (the gateway's per-segment overhead
   * ends there), with this attempt's stages in ms.
   */
  onUploadStart?: (stages: AttemptStages) => void;
}

/** Where an attempt's time before its upload went, ms. */
export interface AttemptStages {
  /** GetOrchestrator, when the session's auth token or ticket params were due */
  refreshMs: number;
  /** reading the rounds fresh, when the params are from a round newer than our view */
  roundMs: number;
  /** fee, tickets, signatures */
  paymentMs: number;
  /** the segment's credentials (hash, signature) */
  segDataMs: number;
  /** the tickets' record in the ledger, synced to disk before they are sent */
  recordMs: number;
}

/** Tickets that left this process for one attempt (whatever the orchestrator answered). */
export interface SentPayment {
  tickets: number;
  /** expected value of all the tickets, wei */
  ev: Rat;
  /** face value of each ticket, wei */
  faceValue: bigint;
}

export interface AttemptDeps {
  /** undefined off-chain: empty signatures, empty payment header */
  signer?: Signer;
  payer?: SegmentPayer;
  /** last L1 block seen (on-chain), for the params expiry rule */
  lastSeenBlock?: () => bigint;
  /** GetOrchestrator on the session's URI (go-livepeer: 2.5 s budget) */
  refresh(session: OrchSession): Promise<OrchestratorInfo>;
  /** re-checks a refreshed reply and takes it over; throws with the reason when it is no longer usable */
  adopt(session: OrchSession, info: OrchestratorInfo): void;
  /** the session became unusable after a segment succeeded on it (e.g. its price more than doubled) */
  drop(session: OrchSession, reason: string): void;
  /** Reads the rounds fresh when the session's ticket params are from a round newer than our view. */
  ensureRound?(info: OrchestratorInfo): Promise<void> | undefined;
  /** a keyless gateway: the SegData signature and the payment come from the remote signer */
  remote?: RemoteSegmentPayer;
  /** -localVerify: check the result signature and billed pixels before using the renditions */
  verify?: boolean;
  /** -localVerifyDecodeFraction: share of verified segments whose renditions are also fully decoded */
  verifyDecodeFraction?: number;
  /** -renditionHosts: hosts besides the orchestrator's own origin that renditions may come from */
  renditionHosts?: readonly string[];
  now?: () => number;
}

export interface AttemptResult {
  renditions: Rendition[];
  pixels: bigint;
  tickets: number;
  ev: Rat;
  faceValue: bigint;
  latencyMs: number;
  /** -localVerify's checks of the answer before its renditions are used, ms (0 without -localVerify) */
  verifyMs: number;
  /** -localVerify's sampled full decode, still running (verifyResult's Verified.decodeCheck) */
  decodeCheck?: Promise<DecodeCheckOutcome>;
}

/** An orchestrator answer that cannot be used (the orchestrator is at fault: the segment goes elsewhere). */
export class OrchestratorAnswerError extends GatewayError {}

/** A refresh this long before the auth token expires (go-livepeer: the last 10 % of 30 min). */
export const AUTH_TOKEN_REFRESH_MS = 180_000;

export function sessionNeedsRefresh(session: OrchSession, nowMs: number, lastSeenBlock?: bigint): string | undefined {
  const exp = session.info.authToken?.expiration;
  if (exp !== undefined && BigInt(Math.floor((nowMs + AUTH_TOKEN_REFRESH_MS) / 1000)) > exp) return 'auth token expiring';
  const tp = session.info.ticketParams;
  if (tp && lastSeenBlock !== undefined && bytesToBigint(tp.expirationBlock) - lastSeenBlock <= PARAMS_EXPIRY_BUFFER) {
    return 'ticket params expired';
  }
  return undefined;
}

/**
 * One attempt, as the stream runner sees it (the real one is transcodeSegment with the node's AttemptDeps).
 * `intent` is awaited before any ticket leaves (the ledger writes it); `paid` hears once they have left.
 */
export type TranscodeAttempt = (
  job: SegmentJob,
  session: OrchSession,
  paid: (payment: SentPayment) => void,
  /** records the tickets before they leave; undefined when there is nothing to wait for */
  intent?: (payment: SentPayment) => Promise<void> | undefined,
) => Promise<AttemptResult>;

/** The tickets of an attempt could not be recorded: nothing was sent. */
export class PaymentRecordError extends GatewayError {
  readonly sent = false;
}

export async function transcodeSegment(
  job: SegmentJob,
  session: OrchSession,
  deps: AttemptDeps,
  paid: (payment: SentPayment) => void = () => {},
  intent?: (payment: SentPayment) => Promise<void> | undefined,
): Promise<AttemptResult> {
  const now = deps.now ?? Date.now;
  let t = performance.now();
  const lap = (): number => {
    const was = t;
    t = performance.now();
    return t - was;
  };
  if (sessionNeedsRefresh(session, now(), deps.lastSeenBlock?.())) {
    deps.adopt(session, await deps.refresh(session));
  }
  const refreshMs = lap();
  let prepared: PreparedPayment | undefined;
  // Params adopted from the last result may carry a round our cache has not seen yet. (No await when
  // nothing is to be waited for: each await lets other streams' work in ahead of this segment.)
  const roundRead = deps.payer ? deps.ensureRound?.(session.info) : undefined;
  if (roundRead) await roundRead;
  const roundMs = lap();
  if (deps.payer) {
    const ready = preparePaymentNow(job, session, deps);
    prepared = ready === STALE ? await preparePaymentAfterRefresh(job, session, deps) : ready;
  }
  const paymentMs = lap();
  const segData = buildSegData({
    manifestId: job.manifestId,
    seq: BigInt(job.seq),
    segment: job.data,
    ...(job.segmentHash ? { segmentHash: job.segmentHash } : {}),
    profiles: job.profiles,
    durationMs: job.durationMs,
    authToken: session.info.authToken ?? {},
    capabilities: job.capabilities,
    ...(deps.signer ? { signer: deps.signer } : {}),
    ...(job.forceSessionReinit ? { forceSessionReinit: true } : {}),
    ...(job.clip ? { segmentParameters: { fromMs: BigInt(job.clip.fromMs), toMs: BigInt(job.clip.toMs) } } : {}),
  });
  let remote: Extract<RemoteSegmentOutcome, { kind: 'paid' }> | undefined;
  if (deps.remote) {
    let outcome = await deps.remote(session, job, segData);
    if (outcome.kind === 'refresh') {
      // the signer saw stale ticket params or an expiring auth token: fresh info, then the same state again
      deps.adopt(session, await deps.refresh(session));
      outcome = await deps.remote(session, job, segData);
    }
    if (outcome.kind === 'refresh') throw new OrchestratorAnswerError(`remote signer still asks for a refresh: ${outcome.message}`);
    remote = outcome;
    segData.sig = outcome.sig;
    prepared = undefined;
  }
  const paymentOut = remote ? remote.payment : prepared?.payment;
  const spent = remote ? { numTickets: remote.tickets, value: remote.ev, faceValue: remote.faceValue } : prepared;
  let reported = false;
  const sent = (): void => {
    if (reported || !spent || spent.numTickets === 0) return;
    reported = true;
    paid({ tickets: spent.numTickets, ev: spent.value, faceValue: spent.faceValue });
  };
  const segDataMs = lap();
  try {
    // (no await when the record is already on disk: a ledger reservation covers these tickets)
    const recording = intent && spent && spent.numTickets > 0 ? intent({ tickets: spent.numTickets, ev: spent.value, faceValue: spent.faceValue }) : undefined;
    if (recording) {
      await recording.catch((err: unknown) => {
        throw new PaymentRecordError(`the tickets could not be recorded, so none were sent: ${errorMessage(err)}`, { cause: err });
      });
    }
    job.onUploadStart?.({ refreshMs, roundMs, paymentMs, segDataMs, recordMs: lap() });
    const result = await submitSegment({
      transcoderUri: session.transcoder,
      segData,
      payment: paymentOut,
      body: job.data,
      durationMs: job.durationMs,
      ...(job.timeoutMultiplier ? { timeoutMultiplier: job.timeoutMultiplier } : {}),
      expectedRenditions: job.profiles.length,
      renditionByteCaps: job.profiles.map((p) => renditionByteCap(p, job.durationMs)),
      ...(deps.renditionHosts?.length ? { renditionHosts: deps.renditionHosts } : {}),
    });
    sent();
    // Billed pixels are held against the profiles before the balance takes them.
    checkBilledPixels(result.renditions, job.profiles, job.source, job.durationMs);
    if (prepared) deps.payer!.settle(prepared, result.pixels);
    const verifyFrom = performance.now();
    let decodeCheck: Promise<DecodeCheckOutcome> | undefined;
    if (deps.verify) {
      ({ decodeCheck } = await verifyResult(
        result,
        session.info,
        job.profiles.map((p) => p.name),
        deps.verifyDecodeFraction,
      ));
      await checkRenditionSizes(result.renditions, job.profiles, job.source);
    }
    const verifyMs = deps.verify ? performance.now() - verifyFrom : 0;
    if (result.info) {
      // New params and price for the next segment; this segment is done either way.
      try {
        deps.adopt(session, result.info);
        // the next segment's tickets, signed once this one is done rather than when that one is ready
        if (prepared) {
          const { payer } = deps;
          const { info } = session;
          setImmediate(() => payer!.presign(info, job.profiles, job.durationMs));
        }
      } catch (err) {
        deps.drop(session, errorMessage(err));
      }
    }
    if (result.renditions.length !== job.profiles.length) {
      throw new OrchestratorAnswerError(`orchestrator returned ${result.renditions.length} renditions for ${job.profiles.length} profiles`);
    }
    return {
      renditions: result.renditions,
      pixels: result.pixels,
      tickets: spent?.numTickets ?? 0,
      ev: spent?.value ?? ZERO,
      faceValue: spent?.faceValue ?? 0n,
      latencyMs: result.latencyMs,
      verifyMs,
      ...(decodeCheck ? { decodeCheck } : {}),
    };
  } catch (err) {
    if (remote) {
      const left = (err as { sent?: boolean }).sent ?? true;
      if (left) sent();
      remote.fail(left);
    }
    if (prepared && deps.payer) {
      const left = (err as { sent?: boolean }).sent ?? true;
      if (left) {
        deps.payer.markSent(prepared);
        sent();
      }
      deps.payer.fail(prepared);
    }
    throw err;
  }
}

/** Params that only a fresh GetOrchestrator cures (a session idle or failing past its ticket validity). */
const STALE_PARAMS: ReadonlySet<string> = new Set(['params-expired', 'creation-round-expired']);

const STALE = Symbol('stale ticket params');

/**
 * The payment for this attempt, at once; STALE when the session's ticket params went stale between
 * segments (its last segments failed, so no result brought fresh ones): preparePaymentAfterRefresh then.
 */
function preparePaymentNow(job: SegmentJob, session: OrchSession, deps: AttemptDeps): PreparedPayment | typeof STALE {
  try {
    return deps.payer!.prepare(session.info, job.profiles, job.durationMs);
  } catch (err) {
    if (err instanceof TicketParamsError && STALE_PARAMS.has(err.code)) return STALE;
    throw err;
  }
}

/** A session with stale params is refreshed once rather than failed. */
async function preparePaymentAfterRefresh(job: SegmentJob, session: OrchSession, deps: AttemptDeps): Promise<PreparedPayment> {
  deps.adopt(session, await deps.refresh(session));
  const roundRead = deps.ensureRound?.(session.info);
  if (roundRead) await roundRead;
  return deps.payer!.prepare(session.info, job.profiles, job.durationMs);
}

/** The price rule of a running session: not more than twice what it quoted at the start. */
export function checkSessionPrice(session: OrchSession, price: Rat | undefined): void {
  if (session.initialPrice && price) validatePriceIncrease(session.initialPrice, price);
}
