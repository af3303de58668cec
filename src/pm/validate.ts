// Sender-side checks of an orchestrator's ticket params before any ticket is signed
// (go-livepeer's validateTicketParams + validateSender, plus sanity checks of our own).
// Every refusal names the limit that was hit and the flag or action that changes it.
import { ticketEV } from './ev.ts';
import { cmp, mul, rat, ratToDecimal, type Rat } from '../lib/rat.ts';
import { maxFaceValue, type SenderInfo } from './senderInfo.ts';
import type { SenderTicketParams } from './ticketParams.ts';
import { GatewayError } from '../lib/errors.ts';

export type TicketParamsRefusal =
  | 'params-expired'
  | 'expiration-block-zero'
  | 'win-prob-zero'
  | 'face-value-too-low'
  | 'ticket-ev-too-high'
  | 'total-ev-too-high'
  | 'face-value-above-max'
  | 'creation-round-in-future'
  | 'creation-round-expired';

export class TicketParamsError extends GatewayError {
  declare readonly code: TicketParamsRefusal;
  constructor(code: TicketParamsRefusal, message: string) {
    super(message, { code });
  }
}

export type SenderRefusal = 'sender-unlocking' | 'no-reserve' | 'no-deposit';

/** The broadcaster's own deposit/reserve cannot pay anyone: go-livepeer stops the stream on this. */
export class SenderValidationError extends GatewayError {
  declare readonly code: SenderRefusal;
  constructor(code: SenderRefusal, message: string) {
    super(`unable to validate sender: ${message}`, { code });
  }
}

export interface PaymentLimits {
  /** -maxTicketEV, wei (rational); default 3e12 */
  maxTicketEV: Rat;
  /** -maxTotalEV, wei (rational); default 2e13 */
  maxTotalEV: Rat;
  /** -depositMultiplier, > 0; default 1 */
  depositMultiplier: bigint;
}

export const DEFAULT_PAYMENT_LIMITS: PaymentLimits = {
  maxTicketEV: rat(3_000_000_000_000n),
  maxTotalEV: rat(20_000_000_000_000n),
  depositMultiplier: 1n,
};

export interface ChainView {
  /** Last L1 block seen (Arbitrum: the l1BlockNumber of the latest block). */
  lastSeenL1Block: bigint;
  lastInitializedRound: bigint;
  /** TicketBroker.ticketValidityPeriod(), rounds */
  ticketValidityPeriod: bigint;
}

/** Params are treated as expired this many blocks before their expiration block. */
export const PARAMS_EXPIRY_BUFFER = 1n;

export function validateSender(info: SenderInfo, lastInitializedRound: bigint): void {
  if (info.withdrawRound !== 0n && info.withdrawRound <= lastInitializedRound + 1n) {
    throw new SenderValidationError(
      'sender-unlocking',
      'deposit and reserve is set to unlock soon; run `livepeer-gateway deposit cancel-unlock` (or fund again) to keep paying',
    );
  }
  if (info.reserve.fundsRemaining === 0n) {
    throw new SenderValidationError('no-reserve', 'no sender reserve; fund one with `livepeer-gateway deposit fund --reserve <ETH>`');
  }
  if (info.deposit === 0n) {
    throw new SenderValidationError('no-deposit', 'no sender deposit; fund one with `livepeer-gateway deposit fund --deposit <ETH>`');
  }
}

const wei = (r: Rat): string => `${ratToDecimal(r, 0)} wei`;

/**
 * Checks params for a batch of `numTickets` tickets. Throws TicketParamsError (this orchestrator's
 * params are unacceptable: refresh or move on) or SenderValidationError (our own funding is broken).
 */
export function validateTicketParams(
  params: SenderTicketParams,
  numTickets: number,
  senderInfo: SenderInfo,
  chain: ChainView,
  limits: PaymentLimits = DEFAULT_PAYMENT_LIMITS,
): void {
  if (params.expirationBlock === 0n) {
    throw new TicketParamsError('expiration-block-zero', 'ticketParams expiration block is 0');
  }
  if (params.expirationBlock - chain.lastSeenL1Block <= PARAMS_EXPIRY_BUFFER) {
    throw new TicketParamsError(
      'params-expired',
      `ticket params expired (expiration block ${params.expirationBlock}, last seen block ${chain.lastSeenL1Block}); refresh the session`,
    );
  }
  const exp = params.expirationParams;
  if (exp) {
    // One round ahead of our view is a round change we have not read yet (the poll is not due, or the RPC
    // is unreachable): accepted, as go-livepeer's sender accepts any round. It costs us nothing — only the
    // orchestrator could lose, by redeeming tickets of a round that never starts.
    if (exp.creationRound > chain.lastInitializedRound + 1n) {
      throw new TicketParamsError(
        'creation-round-in-future',
        `ticket creation round ${exp.creationRound} is more than one round after the last initialized round ${chain.lastInitializedRound}`,
      );
    }
    if (exp.creationRound + chain.ticketValidityPeriod <= chain.lastInitializedRound) {
      throw new TicketParamsError(
        'creation-round-expired',
        `ticket creation round ${exp.creationRound} is older than the ticket validity period (${chain.ticketValidityPeriod} rounds)`,
      );
    }
  }
  if (params.faceValue > 0n && params.winProb === 0n) {
    throw new TicketParamsError('win-prob-zero', `ticket winProb is 0 with faceValue ${params.faceValue}: such tickets can never win`);
  }
  const ev = ticketEV(params.faceValue, params.winProb);
  // A free orchestrator (EV 0) gets no tickets, so nothing below applies.
  if (ev.num <= 0n) return;
  if (cmp(ev, rat(params.faceValue)) >= 0) {
    throw new TicketParamsError('face-value-too-low', `ticket faceValue too low faceValue=${params.faceValue} EV=${wei(ev)}`);
  }
  if (cmp(ev, limits.maxTicketEV) > 0) {
    throw new TicketParamsError(
      'ticket-ev-too-high',
      `ticket EV ${wei(ev)} > max ticket EV ${wei(limits.maxTicketEV)}; raise -maxTicketEV to accept this orchestrator`,
    );
  }
  validateSender(senderInfo, chain.lastInitializedRound);
  const total = mul(ev, rat(BigInt(numTickets)));
  if (cmp(total, limits.maxTotalEV) > 0) {
    throw new TicketParamsError(
      'total-ev-too-high',
      `total ticket EV ${wei(total)} for ${numTickets} tickets > max total ticket EV ${wei(limits.maxTotalEV)}; raise -maxTotalEV`,
    );
  }
  const maxFace = maxFaceValue(senderInfo, limits.depositMultiplier);
  if (params.faceValue > maxFace) {
    throw new TicketParamsError(
      'face-value-above-max',
      `ticket faceValue ${params.faceValue} wei > max faceValue ${maxFace} wei (deposit ${senderInfo.deposit} wei / -depositMultiplier ${limits.depositMultiplier}); add deposit or lower -depositMultiplier`,
    );
  }
}

/** go-livepeer refuses to keep paying an orchestrator whose price more than doubled since the session began. */
export const MAX_PRICE_INCREASE = 2n;

export class PriceIncreaseError extends GatewayError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { code: 'PRICE_INCREASE', cause: opts.cause });
  }
}

export function validatePriceIncrease(initial: Rat, current: Rat): void {
  if (cmp(current, mul(initial, rat(MAX_PRICE_INCREASE))) > 0) {
    throw new PriceIncreaseError(
      `orchestrator price ${ratToDecimal(current)} wei/pixel is more than ${MAX_PRICE_INCREASE}x the ${ratToDecimal(initial)} wei/pixel it quoted at session start`,
    );
  }
}
