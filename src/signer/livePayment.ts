// POST /generate-live-payment: a batch of tickets and the matching Livepeer-Segment credentials for a
// keyless caller, in go-livepeer's processing order and with its statuses (docs/remote-signer.md §3),
// plus replay protection (a state is spent once) and our video extension (credentials for a real segment).
import { createHash, randomBytes } from 'node:crypto';
import { getAddress, type Address } from 'viem';
import { bytesToHex, hexToBytes } from '../lib/bytes.ts';
import { errorMessage } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { add, mul, rat, sub, ZERO, type Rat } from '../lib/rat.ts';
import { profilesField } from '../net/capabilities.ts';
import { buildEmptySegData } from '../net/aiSegData.ts';
import { estimateFee, ticketEV, ticketsNeeded, type FeeProfile } from '../pm/ev.ts';
import { buildPayment } from '../pm/payment.ts';
import { segDataSignature } from '../pm/requestSignatures.ts';
import { MAX_SENDER_NONCES, signTicketBatch } from '../pm/sender.ts';
import type { SenderInfo } from '../pm/senderInfo.ts';
import type { Signer } from '../pm/signer.ts';
import { parseTicketParams, type ExpirationParams, type SenderTicketParams } from '../pm/ticketParams.ts';
import { TicketParamsError, validatePriceIncrease, validateTicketParams, type ChainView, type PaymentLimits } from '../pm/validate.ts';
import { decodeMessage, encodeMessage, type Capabilities, type OrchestratorInfo, type SegData, type VideoProfileMsg } from '../wire/lpRpc.ts';
import { askAuthWebhook, type AuthWebhookConfig } from './authWebhook.ts';
import { billableUnits, isBillingType, MaxPriceFieldError, parseMaxPriceField, priceAboveCeiling } from './billing.ts';
import { recordSignedPayment } from './ledger.ts';
import type { ReplayCheck, ReplayGuard } from './replayGuard.ts';
import type { LivePaymentRequest } from './request.ts';
import { parseState, signState, stateJsonText, stateSignedBy, type PaymentState } from './state.ts';
import type { SignerStats } from './stats.ts';
import type { StateStore } from '../store/stateStore.ts';

/** go-livepeer's signer statuses beyond HTTP's own. */
export const STATUS_REFRESH_SESSION = 480;
export const STATUS_PRICE_EXCEEDED = 481;
export const STATUS_NO_TICKETS = 482;
export const ORCHESTRATOR_URL_HEADER = 'Livepeer-Orchestrator-URL';
export const AUTH_ID_HEADER = 'signer-auth-id';

/** Most tickets one answer carries (go-livepeer's cap: no draining, no huge answers). */
export const MAX_TICKETS_PER_CALL = 100;
/** Refresh when the auth token expires within this (go-livepeer: the last 10 % of 30 min). */
export const AUTH_TOKEN_REFRESH_MS = 180_000;
/**
 * A state whose last billing is older than this is refused: a session pays at least every few seconds,
 * and the store's record of it is then never needed again (docs/remote-signer.md §6).
 */
export const MAX_STATE_AGE_MS = 24 * 3600_000;

export interface LivePaymentDeps {
  /** the signer's key; must be able to sign messages (the state) */
  signer: Signer;
  chain(): ChainView;
  senderInfo(): SenderInfo;
  /** the ticket creation round when the orchestrator sent none */
  expirationParams(): ExpirationParams;
  limits: PaymentLimits;
  /** the configured ceiling for these capabilities (-maxPricePerCapability, else -maxPricePerUnit); wei per unit */
  maxPrice(capabilities: Capabilities | undefined): Rat | undefined;
  webhook?: AuthWebhookConfig;
  store: StateStore;
  guard: ReplayGuard;
  stats: SignerStats;
  log: Logger;
  now?: () => number;
}

export interface LivePaymentAnswer {
  status: number;
  /** exact response bytes (JSON + newline, as Go's encoder writes) */
  body: string;
  headers: Record<string, string>;
}

/** go-livepeer's JSON error: `{"error":{"message":…}}`; 500 and 503 never say more than their name. */
export function errorBody(status: number, message: string): string {
  const msg = status === 500 ? 'Internal Server Error' : status === 503 ? 'Service Unavailable Error' : message;
  return `${JSON.stringify({ error: { message: msg } })}\n`;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/** go-livepeer's ethcommon.BytesToAddress: the last 20 bytes, left-padded. */
function addressOf(bytes: Uint8Array | undefined): Address {
  const out = new Uint8Array(20);
  const src = (bytes ?? new Uint8Array(0)).subarray(Math.max(0, (bytes?.length ?? 0) - 20));
  out.set(src, 20 - src.length);
  return getAddress(bytesToHex(out));
}

/** Hash of everything that shapes an answer: equal hashes = "the same request again". */
export function requestDigest(req: LivePaymentRequest, authIdHeader: string): string {
  const h = createHash('sha256');
  const part = (s: string | Uint8Array) => {
    const b = typeof s === 'string' ? Buffer.from(s) : Buffer.from(s);
    h.update(`${b.length}:`);
    h.update(b);
  };
  part(req.orchestrator);
  part(req.state?.state ?? '');
  part(req.state?.sig ?? '');
  part(req.manifestId);
  part(req.app);
  part(String(req.inPixels));
  part(req.type);
  part(req.maxPrice ? JSON.stringify(req.maxPrice) : '');
  part(req.capabilities ?? '');
  part(
    req.segment ? JSON.stringify({ seq: String(req.segment.seq), d: req.segment.durationMs, h: b64(req.segment.hash), p: req.segment.profiles.map(b64) }) : '',
  );
  part(req.spendCredit ? 'spend' : '');
  part(authIdHeader);
  return h.digest('hex');
}

/** The SegData of our video extension: the real segment's hash, seq, profiles and duration. */
function segmentSegData(
  signer: Signer,
  manifestId: string,
  seg: NonNullable<LivePaymentRequest['segment']>,
  profiles: VideoProfileMsg[],
  info: OrchestratorInfo,
  caps: Capabilities | undefined,
): SegData {
  const out: SegData = {
    manifestId: new TextEncoder().encode(manifestId),
    seq: seg.seq,
    hash: seg.hash,
    profiles: new TextEncoder().encode('invalid'),
    sig: hexToBytes(segDataSignature(signer, { manifestId, seq: seg.seq, hash: seg.hash, profileNames: profiles.map((p) => p.name ?? '') })),
    duration: seg.durationMs,
    authToken: info.authToken ?? {},
    [profilesField(profiles)]: profiles,
  };
  if (caps) out.capabilities = caps;
  return out;
}

function decodeProfiles(seg: NonNullable<LivePaymentRequest['segment']>): VideoProfileMsg[] {
  return seg.profiles.map((bytes, i) => {
    let p: VideoProfileMsg;
    try {
      p = decodeMessage('VideoProfile', bytes);
    } catch (err) {
      throw new Refusal(400, `segment.profiles[${i}]: ${errorMessage(err)}`, 'bad-request');
    }
    const w = p.width ?? 0;
    const hgt = p.height ?? 0;
    if (!p.name) throw new Refusal(400, `segment.profiles[${i}] has no name`, 'bad-request');
    if (w <= 0 || hgt <= 0 || w > 8192 || hgt > 8192) throw new Refusal(400, `segment.profiles[${i}] has a size outside 1–8192`, 'bad-request');
    if ((p.fps ?? 0) < 0 || (p.fps ?? 0) > 1000 || (p.fpsDen ?? 0) < 0)
      throw new Refusal(400, `segment.profiles[${i}] has an invalid frame rate`, 'bad-request');
    return p;
  });
}

const STALE_PARAMS = new Set<string>(['params-expired', 'creation-round-expired', 'creation-round-in-future']);

/**
 * 16 hex characters, where go-livepeer uses 8: the replay guard keys on (orchestrator, StateID), and 32 bits
 * collide after some tens of thousands of sessions per orchestrator. Clients treat the state as opaque.
 */
const newStateId = (): string => randomBytes(8).toString('hex');
/** go-livepeer's random ManifestID for a first call without one: 8 hex characters. */
const newManifestId = (): string => randomBytes(4).toString('hex');

export class LivePaymentService {
  constructor(private readonly deps: LivePaymentDeps) {}

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** A request refused before it reached `handle` (unreadable body). */
  refusedBeforeProcessing(reason: string): void {
    this.deps.stats.refused(reason);
    this.deps.stats.answered(400);
  }

  /** Answers one request; never throws (every failure is an answer). */
  async handle(req: LivePaymentRequest, headers: Record<string, string[]>): Promise<LivePaymentAnswer> {
    let answer: LivePaymentAnswer;
    try {
      answer = await this.process(req, headers);
    } catch (err) {
      if (err instanceof Refusal) {
        this.deps.stats.refused(err.reason);
        if (err.status >= 500) this.deps.log.warn({ status: err.status, reason: err.reason, err: err.message }, 'live payment refused');
        else this.deps.log.debug({ status: err.status, reason: err.reason, err: err.message }, 'live payment refused');
        answer = { status: err.status, body: errorBody(err.status, err.message), headers: err.headers };
      } else {
        this.deps.stats.refused('internal');
        this.deps.log.error({ err: errorMessage(err) }, 'live payment failed');
        answer = { status: 500, body: errorBody(500, ''), headers: {} };
      }
    }
    this.deps.stats.answered(answer.status);
    return answer;
  }

  private async process(req: LivePaymentRequest, headers: Record<string, string[]>): Promise<LivePaymentAnswer> {
    const { deps } = this;
    // 1. the orchestrator's info
    if (req.orchestrator.length === 0) throw new Refusal(400, 'missing orchestrator', 'bad-request');
    let info: OrchestratorInfo;
    try {
      info = decodeMessage('OrchestratorInfo', req.orchestrator);
    } catch (err) {
      throw new Refusal(400, errorMessage(err), 'bad-request');
    }
    const priceInfo = info.priceInfo;
    if (!priceInfo?.pricePerUnit || !priceInfo.pixelsPerUnit) throw new Refusal(400, 'missing or zero priceInfo', 'bad-request');
    if (priceInfo.pricePerUnit < 0n || priceInfo.pixelsPerUnit < 0n) throw new Refusal(400, 'negative priceInfo', 'bad-request');
    if (!info.ticketParams) throw new Refusal(400, 'missing ticketParams in OrchestratorInfo', 'bad-request');
    let params: SenderTicketParams;
    try {
      params = parseTicketParams(info.ticketParams);
    } catch (err) {
      throw new Refusal(400, `failed to derive ticket params from OrchestratorInfo: ${errorMessage(err)}`, 'bad-request');
    }
    const orchAddr = addressOf(info.address);
    const authIdHeader = headers['Signer-Auth-Id']?.[0] ?? '';

    // 2. the state: the caller's (signature, binding) or a new one
    let state: PaymentState;
    const hasState = req.state !== undefined;
    const nowMs = this.now();
    if (req.state) {
      if (!stateSignedBy(deps.signer.address, req.state.state, req.state.sig)) throw new Refusal(400, 'invalid sig', 'invalid-state');
      try {
        state = parseState(req.state.state);
      } catch {
        throw new Refusal(400, 'invalid state', 'invalid-state');
      }
      if (!/^[0-9A-Za-z_-]{1,64}$/.test(state.stateId)) throw new Refusal(400, 'invalid state', 'invalid-state');
      if (state.orchestratorAddress.toLowerCase() !== orchAddr.toLowerCase()) throw new Refusal(400, 'orchestratorAddress mismatch', 'binding');
      if (state.app !== req.app) throw new Refusal(400, 'app mismatch', 'binding');
      if (state.type !== '' && state.type !== req.type) throw new Refusal(400, 'job type mismatch', 'binding');
      if (state.lastUpdate && nowMs - state.lastUpdate.getTime() > MAX_STATE_AGE_MS) {
        throw new Refusal(409, 'payment state expired: its last payment is more than 24 h old; start a new session (send no state)', 'stale-state');
      }
      state = { ...state, type: req.type, sequenceNumber: state.sequenceNumber + 1n };
    } else {
      state = {
        stateId: newStateId(),
        pmSessionId: '',
        lastUpdate: undefined,
        orchestratorAddress: orchAddr,
        app: req.app,
        authExpiry: 0n,
        senderNonce: 0,
        balance: ZERO,
        initialPricePerUnit: priceInfo.pricePerUnit,
        initialPixelsPerUnit: priceInfo.pixelsPerUnit,
        type: req.type,
        sequenceNumber: 0n,
        authId: '',
      };
    }
    const guardKey = `${orchAddr.toLowerCase()}/${state.stateId}`;
    const digest = requestDigest(req, authIdHeader);
    // one call per state at a time; everything from the replay check to the commit happens in turn
    return deps.guard.serialize(guardKey, async () => {
      const check = await deps.guard.check(guardKey, state.sequenceNumber, digest);
      if (check.kind !== 'fresh') return this.replayed(check);
      return this.sign(req, info, params, state, hasState, headers, authIdHeader, guardKey, digest, check.version, check.previous);
    });
  }

  /** The answer for a request that was already answered, or the refusal of an old state. */
  private replayed(check: Exclude<ReplayCheck, { kind: 'fresh' }>): LivePaymentAnswer {
    if (check.kind === 'repeat') {
      this.deps.stats.refused('repeat');
      return { status: check.answer.status, body: check.answer.body, headers: { 'Content-Type': 'application/json' } };
    }
    throw new Refusal(
      409,
      check.latest >= 0n
        ? `stale payment state: sequence ${check.latest} was already paid from it; send the state of the latest answer, or start a new session without state`
        : 'stale payment state: send the state of the latest answer, or start a new session without state',
      'stale-state',
    );
  }

  private async sign(
    req: LivePaymentRequest,
    info: OrchestratorInfo,
    params: SenderTicketParams,
    state: PaymentState,
    hasState: boolean,
    headers: Record<string, string[]>,
    authIdHeader: string,
    guardKey: string,
    digest: string,
    version: number,
    previous: string | undefined,
  ): Promise<LivePaymentAnswer> {
    const { deps } = this;
    const priceInfo = info.priceInfo!;
    let manifestId = req.manifestId;
    if (!manifestId) {
      if (hasState) throw new Refusal(400, 'missing manifestID', 'bad-request');
      manifestId = newManifestId();
    }
    let capabilities: Capabilities | undefined;
    if (req.capabilities) {
      try {
        capabilities = decodeMessage('Capabilities', req.capabilities);
      } catch (err) {
        throw new Refusal(400, errorMessage(err), 'bad-request');
      }
    }

    // 3. balance and nonce from the state; the nonce restarts with new ticket params
    const balance = state.balance.num < 0n ? ZERO : state.balance;
    const pmSessionId = params.recipientRandHash.toLowerCase();
    const nonce = state.pmSessionId.toLowerCase() === pmSessionId ? state.senderNonce : 0;

    // 4. refresh: the auth token is about to expire, or the ticket params have
    const nowMs = this.now();
    if (!info.authToken) throw new Refusal(400, 'remote signer could not check whether to refresh session: missing auth token', 'bad-request');
    const refresh = (why: string) =>
      new Refusal(480, `refresh session for remote signer: ${why}`, 'refresh', { [ORCHESTRATOR_URL_HEADER]: info.transcoder ?? '' });
    if (BigInt(Math.floor((nowMs + AUTH_TOKEN_REFRESH_MS) / 1000)) > (info.authToken.expiration ?? 0n)) throw refresh('auth token expiring');
    try {
      validateTicketParams(params, 1, deps.senderInfo(), deps.chain(), deps.limits);
    } catch (err) {
      // stale params (expired, or made in a round the chain has left behind): fresh OrchestratorInfo fixes it
      if (err instanceof TicketParamsError && STALE_PARAMS.has(err.code)) throw refresh(errorMessage(err));
      throw new Refusal(400, `remote signer could not check whether to refresh session: ${errorMessage(err)}`, 'ticket-params');
    }

    // 5. what to bill
    if (!isBillingType(req.type)) throw new Refusal(400, 'invalid job type', 'bad-request');
    const initialPrice = rat(state.initialPricePerUnit, state.initialPixelsPerUnit > 0n ? state.initialPixelsPerUnit : 1n);
    let fee: Rat;
    let profiles: VideoProfileMsg[] | undefined;
    if (req.segment) {
      if (req.type !== '') throw new Refusal(400, 'segment requires payment type ""', 'bad-request');
      if (!req.manifestId) throw new Refusal(400, 'segment requires the stream ManifestID', 'bad-request');
      profiles = decodeProfiles(req.segment);
      const feeProfiles: FeeProfile[] = profiles.map((p) => ({ width: p.width ?? 0, height: p.height ?? 0, fps: p.fps ?? 0, fpsDen: p.fpsDen ?? 0 }));
      fee = estimateFee(feeProfiles, req.segment.durationMs, initialPrice);
    } else {
      const elapsed = state.lastUpdate ? nowMs - state.lastUpdate.getTime() : undefined;
      const units = billableUnits(req.type, elapsed, req.inPixels);
      if (units <= 0n) throw new Refusal(400, 'missing billable unit or job type', 'bad-request');
      fee = mul(rat(units), initialPrice);
    }

    // 6. price ceilings: configured, the caller's, and no rise within a session
    const orchPrice = rat(priceInfo.pricePerUnit!, priceInfo.pixelsPerUnit!);
    let requestMax: Rat | undefined;
    if (req.maxPrice) {
      try {
        requestMax = parseMaxPriceField(req.maxPrice, req.type);
      } catch (err) {
        if (err instanceof MaxPriceFieldError) throw new Refusal(400, err.message, 'bad-request');
        throw err;
      }
    }
    let initialMax: Rat | undefined;
    if (hasState) {
      if (state.initialPricePerUnit <= 0n || state.initialPixelsPerUnit <= 0n) throw new Refusal(400, 'invalid initial price in state', 'invalid-state');
      initialMax = initialPrice;
    }
    const over = priceAboveCeiling(orchPrice, [
      { source: 'configured maximum price', price: deps.maxPrice(capabilities) },
      { source: 'request maxPrice', price: requestMax },
      { source: 'initial session price', price: initialMax },
    ]);
    if (over) throw new Refusal(481, over, 'price');

    // 7. how many tickets
    const ev = ticketEV(params.faceValue, params.winProb);
    const numTickets = ticketsNeeded(fee, balance, ev);
    if (numTickets > MAX_TICKETS_PER_CALL) throw new Refusal(400, `numTickets ${numTickets} exceeds maximum of ${MAX_TICKETS_PER_CALL}`, 'too-many-tickets');
    // go-livepeer's bare 482 leaves the caller's state as it was; our extensions spend the credit instead
    if (numTickets <= 0 && !req.segment && !req.spendCredit) throw new Refusal(STATUS_NO_TICKETS, 'no tickets', 'no-tickets');
    // orchestrators remember a bounded number of nonces per params: fresh params before going past it
    if (nonce + numTickets > MAX_SENDER_NONCES) throw refresh('ticket params used for too many tickets');

    // 8. the payment
    try {
      validatePriceIncrease(initialPrice, orchPrice);
    } catch (err) {
      throw new Refusal(481, `Orchestrator price has more than doubled: ${errorMessage(err)}`, 'price');
    }
    let batch: ReturnType<typeof signTicketBatch> | undefined;
    if (numTickets > 0) {
      try {
        validateTicketParams(params, numTickets, deps.senderInfo(), deps.chain(), deps.limits);
        batch = signTicketBatch(deps.signer, params, params.expirationParams ?? deps.expirationParams(), nonce, numTickets);
      } catch (err) {
        throw new Refusal(500, errorMessage(err), 'payment');
      }
    }
    const payment = buildPayment(deps.signer.address, priceInfo, batch);

    // 9. the segment credentials
    const segData = req.segment
      ? segmentSegData(deps.signer, manifestId, req.segment, profiles!, info, capabilities)
      : buildEmptySegData(manifestId, info.authToken, capabilities, deps.signer);

    // 10. the new state
    const credit = mul(rat(BigInt(numTickets)), ev);
    const newBalance = sub(add(balance, credit), fee);
    state = { ...state, balance: newBalance, lastUpdate: new Date(nowMs), pmSessionId, senderNonce: nonce + numTickets };

    // 11. the operator's webhook
    let authIdFromWebhook = '';
    if (deps.webhook && !(state.authExpiry !== 0n && BigInt(Math.floor(nowMs / 1000)) <= state.authExpiry)) {
      const outcome = await askAuthWebhook(deps.webhook, headers, stateJsonText(state));
      if (!outcome.ok) throw new Refusal(outcome.status, outcome.message, outcome.reason);
      state = { ...state, authExpiry: outcome.expiry };
      if (outcome.maxPrice) {
        let webhookMax: Rat;
        try {
          webhookMax = parseMaxPriceField(outcome.maxPrice, req.type);
        } catch (err) {
          throw new Refusal(502, `signer auth invalid maxPrice: ${errorMessage(err)}`, 'webhook-failed');
        }
        const overWebhook = priceAboveCeiling(orchPrice, [{ source: 'auth webhook maxPrice', price: webhookMax }]);
        if (overWebhook) throw new Refusal(481, overWebhook, 'price');
      }
      if (outcome.authId) authIdFromWebhook = outcome.authId;
    }
    // 12. who pays: the webhook's auth id, else the trusted header; it may not change within a session
    const authId = authIdFromWebhook || authIdHeader;
    if (authId && state.authId !== authId) {
      if (state.authId) throw new Refusal(500, 'remote signer auth ID changed', 'auth-id-changed');
      state = { ...state, authId };
    }

    // 13. sign the state, record, answer
    const signed = signState(deps.signer, state);
    const status = numTickets > 0 ? 200 : STATUS_NO_TICKETS;
    const answer = {
      payment: b64(encodeMessage('Payment', payment)),
      segCreds: b64(encodeMessage('SegData', segData)),
      state: { State: b64(signed.state), Sig: b64(signed.sig) },
    };
    // a 482 keeps the error shape every client expects, plus what our extensions need
    const body = `${JSON.stringify(status === 200 ? answer : { error: { message: 'no tickets' }, ...answer })}\n`;
    // the state is spent here (compare-and-set: one winner among racing calls and replicas) …
    const committed = await deps.guard.commit(guardKey, version, { seq: state.sequenceNumber, requestHash: digest, status, body, committedAt: nowMs });
    if (!committed.ok) {
      // another call (or replica) answered this state first
      if (committed.outcome.kind === 'fresh') throw new Refusal(409, 'payment state changed while signing; retry with the latest state', 'stale-state');
      return this.replayed(committed.outcome);
    }
    // … and the money record is written before the answer leaves; without it, the answer does not leave
    if (numTickets > 0) {
      try {
        await recordSignedPayment(deps.store, {
          authId: state.authId,
          app: state.app,
          type: state.type,
          orchestrator: state.orchestratorAddress.toLowerCase(),
          stateId: state.stateId,
          manifestId,
          tickets: numTickets,
          ev,
          faceValue: params.faceValue,
          fee,
          at: new Date(nowMs),
        });
      } catch (err) {
        const reverted = await deps.guard.revert(guardKey, committed.version, previous, state.sequenceNumber).catch(() => false);
        deps.log.error({ err: errorMessage(err), reverted }, 'could not record signed tickets; answer withheld');
        throw new Refusal(500, 'ledger write failed', 'internal');
      }
    }
    if (!hasState) deps.stats.sessionOpened();
    if (numTickets > 0) deps.stats.paid(state.app, state.authId, numTickets, ev, params.faceValue);
    deps.log.info(
      {
        stateId: state.stateId,
        seq: String(state.sequenceNumber),
        tickets: numTickets,
        nonce: state.senderNonce,
        orchestrator: info.transcoder,
        authId: state.authId || undefined,
      },
      'signed live payment',
    );
    return { status, body, headers: { 'Content-Type': 'application/json' } };
  }
}
