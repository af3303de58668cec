// Pays for one segment on one orchestrator session: fee estimate → tickets → Payment, then settles
// the session balance with what the orchestrator actually debited.
import type { OrchestratorInfo, Payment } from '../wire/lpRpc.ts';
import { Balances, type BalanceUpdate } from './balance.ts';
import { estimateFee, pricePerPixel, ticketEV, ticketsNeeded, type FeeProfile } from './ev.ts';
import { buildPayment } from './payment.ts';
import { mul, rat, ZERO, type Rat } from '../lib/rat.ts';
import { MAX_PRESIGNED_TICKETS, type TicketSender } from './sender.ts';
import type { SenderInfo } from './senderInfo.ts';
import { parseTicketParams, type SenderTicketParams } from './ticketParams.ts';
import { validateTicketParams, type ChainView, type PaymentLimits } from './validate.ts';

export interface PayerContext {
  senderInfo(): SenderInfo;
  chain(): ChainView;
}

export interface PreparedPayment {
  payment: Payment;
  numTickets: number;
  /** EV of one ticket */
  ev: Rat;
  /** numTickets × EV */
  value: Rat;
  faceValue: bigint;
  price: Rat;
  update?: BalanceUpdate;
  params?: SenderTicketParams;
}

/** Price per pixel quoted in an OrchestratorInfo (0 when none, as for a free orchestrator). */
export function infoPrice(info: OrchestratorInfo): Rat {
  const p = info.priceInfo;
  if (!p || p.pixelsPerUnit === undefined || p.pixelsPerUnit === 0n) return ZERO;
  return pricePerPixel(p.pricePerUnit ?? 0n, p.pixelsPerUnit);
}

/** A segment's fee at the price in `info`: its expected output pixels (padded as go-livepeer does) × price. */
function segmentFee(info: OrchestratorInfo, profiles: readonly FeeProfile[], durationMs: number): Rat {
  return estimateFee(profiles, durationMs, infoPrice(info));
}

/** The session's credit is kept under this key, as the orchestrator keys its balance. */
function balanceKey(info: OrchestratorInfo, params: SenderTicketParams): string {
  return Balances.key(params.recipient, info.authToken?.sessionId ?? '');
}

/** Every this many payments, the nonce counters of params expired for good are dropped. */
const REAP_EVERY = 256;

export class SegmentPayer {
  readonly balances = new Balances();
  #prepared = 0;

  constructor(
    private readonly sender: TicketSender,
    private readonly limits: PaymentLimits,
    private readonly ctx: PayerContext,
  ) {}

  get address() {
    return this.sender.signer.address;
  }

  /** Ticket params whose nonces are counted (reaped once expired for good, not when a stream ends). */
  get ticketParamsTracked(): number {
    return this.sender.size;
  }

  /** Params sets with tickets signed ahead and not yet taken (capped, see MAX_PRESIGNED_PARAMS). */
  get ticketsSignedAhead(): number {
    return this.sender.presigned;
  }

  /**
   * Builds the Payment for a segment. Throws TicketParamsError / SenderValidationError /
   * NonceLimitError / MalformedTicketParamsError before anything is sent.
   */
  prepare(info: OrchestratorInfo, profiles: readonly FeeProfile[], durationMs: number): PreparedPayment {
    return this.prepareFee(info, segmentFee(info, profiles, durationMs));
  }

  /**
   * Builds the Payment for a job whose fee is known up front (AI: units × price, docs/ai.md): enough
   * tickets that credit + tickets cover max(fee, one ticket's EV).
   */
  prepareFee(info: OrchestratorInfo, fee: Rat): PreparedPayment {
    const price = infoPrice(info);
    if (!info.ticketParams) {
      return { payment: buildPayment(this.address, info.priceInfo), numTickets: 0, ev: ZERO, value: ZERO, faceValue: 0n, price };
    }
    const params = parseTicketParams(info.ticketParams);
    if (++this.#prepared % REAP_EVERY === 0) this.sender.reapExpired(this.ctx.chain().lastSeenL1Block);
    const ev = ticketEV(params.faceValue, params.winProb);
    const update = this.balances.stage(balanceKey(info, params), fee, ev);
    try {
      if (update.numTickets > 0) validateTicketParams(params, update.numTickets, this.ctx.senderInfo(), this.ctx.chain(), this.limits);
      const batch = update.numTickets > 0 ? this.sender.createBatch(params, update.numTickets) : undefined;
      return {
        payment: buildPayment(this.address, info.priceInfo, batch),
        numTickets: update.numTickets,
        ev,
        value: mul(ev, rat(BigInt(update.numTickets))),
        faceValue: params.faceValue,
        price,
        update,
        params,
      };
    } catch (err) {
      this.balances.fail(update);
      throw err;
    }
  }

  /**
   * Signs ahead the tickets the session's next segment will need, from the params in `info` (a reply's) and
   * the credit the session holds now, for a segment as long as `durationMs`: that segment's payment then does
   * not wait for them. Never throws: when it cannot, the segment signs its own.
   */
  presign(info: OrchestratorInfo, profiles: readonly FeeProfile[], durationMs: number): void {
    if (!info.ticketParams) return;
    try {
      const params = parseTicketParams(info.ticketParams);
      const ev = ticketEV(params.faceValue, params.winProb);
      const credit = this.balances.get(balanceKey(info, params));
      const count = Math.min(ticketsNeeded(segmentFee(info, profiles, durationMs), credit, ev), MAX_PRESIGNED_TICKETS);
      if (count === 0) return;
      // params the payment would refuse are not worth a signature (a hostile reply costs us nothing here)
      validateTicketParams(params, count, this.ctx.senderInfo(), this.ctx.chain(), this.limits);
      this.sender.presign(params, count);
    } catch {
      // malformed or worn-out params: prepare() says so when the segment comes
    }
  }

  /** The payment left this process: from now on a failure loses its credit. */
  markSent(p: PreparedPayment): void {
    if (p.update) p.update.sent = true;
  }

  /** The orchestrator transcoded `pixels` output pixels and debited them at the session price. */
  settle(p: PreparedPayment, pixels: bigint): void {
    if (p.update) this.balances.complete(p.update, mul(p.price, rat(pixels)));
  }

  /** The orchestrator did the job and debited `debit` wei (AI: units × price). */
  settleFee(p: PreparedPayment, debit: Rat): void {
    if (p.update) this.balances.complete(p.update, debit);
  }

  fail(p: PreparedPayment): void {
    if (p.update) this.balances.fail(p.update);
  }
}
