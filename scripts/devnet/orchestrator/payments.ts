// Orchestrator-side accounting: processes a Payment (tickets ⇒ credit), pins each balance's price at
// its first payment, and keeps per (sender, key) balances that work debits. The key is the video
// session id; other jobs pick their own (go-livepeer's AI jobs use "<capability>_<model>").
import { getAddress, zeroAddress, type Address, type Hex } from 'viem';
import type { Payment, PriceInfo, TicketParams } from '../../../src/wire/lpRpc.ts';
import { bytesToBigint, bytesToHex } from '../../../src/lib/bytes.ts';
import { add, cmp, mul, rat, sub, ZERO, type Rat } from '../../../src/lib/rat.ts';
import { errorMessage, GatewayError } from '../../../src/lib/errors.ts';
import { ticketAuxData } from '../../../src/pm/ticket.ts';
import type { OrchestratorChain } from './chainView.ts';
import { FatalTicketError, type ReceivedTicket, type Recipient } from './recipient.ts';
import type { TicketRecorder } from './ticketLog.ts';

/** A payment refusal; its message is what the broadcaster reads in the 400 body. */
export class PaymentError extends GatewayError {
  constructor(
    message: string,
    /** What was credited before a ticket was refused. */
    readonly outcome?: PaymentOutcome,
  ) {
    super(message, { code: 'PAYMENT_REFUSED' });
  }
}

export interface SessionAccount {
  sender: Address;
  /** The balance key: the video session id, or another job's key. */
  sessionId: string;
  fixedPrice?: Rat;
  credited: Rat;
  debited: Rat;
  lastUsed: number;
}

export interface PaymentOutcome {
  tickets: number;
  winners: ReceivedTicket[];
  ev: Rat;
}

/** go-livepeer's payment sender: 20 bytes taken from the right, the zero address when absent. */
export function paymentSender(payment: Payment): Address {
  const bytes = payment.sender;
  if (!bytes || bytes.length === 0) return zeroAddress;
  const padded = new Uint8Array(20);
  const src = bytes.length > 20 ? bytes.subarray(bytes.length - 20) : bytes;
  padded.set(src, 20 - src.length);
  return getAddress(bytesToHex(padded));
}

/** pricePerUnit / pixelsPerUnit as a reduced fraction; undefined price ⇒ undefined. */
export function priceRat(p: PriceInfo | undefined): Rat | undefined {
  if (!p) return undefined;
  const den = p.pixelsPerUnit ?? 0n;
  if (den === 0n) throw new PaymentError('invalid expected price sent with payment err="pixels per unit is 0"');
  const num = p.pricePerUnit ?? 0n;
  if (num < 0n || den < 0n) throw new PaymentError('invalid expected price sent with payment err="price is negative"');
  return rat(num, den);
}

function fixedBytes(b: Uint8Array | undefined, len: number): Hex {
  const out = new Uint8Array(len);
  if (b) {
    const src = b.length > len ? b.subarray(b.length - len) : b;
    out.set(src, len - src.length);
  }
  return bytesToHex(out);
}

const SESSION_TTL_MS = 10 * 60_000;

export class Accounts {
  private readonly sessions = new Map<string, SessionAccount>();

  constructor(
    private readonly recipient: Recipient | undefined,
    private readonly chain: OrchestratorChain | undefined,
    /** Optional record of every ticket read from a payment and what became of it. */
    private readonly recordTicket?: TicketRecorder,
  ) {}

  private key(sender: Address, sessionId: string): string {
    return `${sender.toLowerCase()}/${sessionId}`;
  }

  account(sender: Address, sessionId: string): SessionAccount {
    const k = this.key(sender, sessionId);
    let a = this.sessions.get(k);
    if (!a) {
      a = { sender, sessionId, credited: ZERO, debited: ZERO, lastUsed: Date.now() };
      this.sessions.set(k, a);
    }
    a.lastUsed = Date.now();
    return a;
  }

  balance(sender: Address, sessionId: string): Rat {
    const a = this.sessions.get(this.key(sender, sessionId));
    return a ? sub(a.credited, a.debited) : ZERO;
  }

  /** The price already pinned for this session, if any. */
  fixedPrice(sender: Address, sessionId: string): Rat | undefined {
    return this.sessions.get(this.key(sender, sessionId))?.fixedPrice;
  }

  /** Debits price × units (pixels for video) and returns that fee. */
  debit(sender: Address, sessionId: string, price: Rat, units: bigint): Rat {
    const a = this.account(sender, sessionId);
    const fee = mul(price, rat(units));
    a.debited = add(a.debited, fee);
    return fee;
  }

  endSession(sessionId: string): void {
    for (const [k, a] of this.sessions) if (a.sessionId === sessionId) this.sessions.delete(k);
  }

  all(): SessionAccount[] {
    const now = Date.now();
    for (const [k, a] of this.sessions) if (now - a.lastUsed > SESSION_TTL_MS) this.sessions.delete(k);
    return [...this.sessions.values()];
  }

  /** Sufficient balance rule: credit ≥ the orchestrator's ticket EV. */
  sufficient(sender: Address, sessionId: string, ticketEV: bigint): boolean {
    return cmp(this.balance(sender, sessionId), rat(ticketEV)) >= 0;
  }

  /**
   * go-livepeer ProcessPayment: no tickets ⇒ price pinned at 0; else every ticket is checked and its
   * EV credited until the first refused one; fatal errors refuse the whole payment.
   */
  async process(payment: Payment, sessionId: string): Promise<PaymentOutcome> {
    const none: PaymentOutcome = { tickets: 0, winners: [], ev: ZERO };
    if (!this.recipient || !this.chain) return none;
    const tp = payment.ticketParams;
    if ((!payment.sender || payment.sender.length === 0) && tp) throw new PaymentError('Could not find Sender for payment');
    const sender = paymentSender(payment);
    const account = this.account(sender, sessionId);
    if (!tp) {
      account.fixedPrice ??= ZERO;
      return none;
    }

    const recipientAddr = getAddress(fixedBytes(tp.recipient, 20));
    if (!(await this.chain.isActiveTranscoder(recipientAddr))) {
      const round = (await this.chain.roundInfo()).lastInitializedRound;
      throw new PaymentError(`orchestrator ${recipientAddr} is inactive in round ${round}, cannot process payments`);
    }
    const price = priceRat(payment.expectedPrice);
    if (!price) throw new PaymentError('invalid expected price sent with payment err="expected price is nil"');
    account.fixedPrice ??= price;

    const tickets = receivedTickets(payment, tp, { sender, recipient: recipientAddr, price }, this.recipient);
    await this.recipient.validateSender(sender).catch((err: unknown) => {
      throw new PaymentError(errorMessage(err));
    });
    return this.credit(this.recipient, account, tickets);
  }

  /** Checks each ticket in turn, crediting its EV until one is refused. */
  private async credit(recipient: Recipient, account: SessionAccount, tickets: readonly ReceivedTicket[]): Promise<PaymentOutcome> {
    const outcome: PaymentOutcome = { tickets: 0, winners: [], ev: ZERO };
    let receiveErr: Error | undefined;
    for (const [i, received] of tickets.entries()) {
      try {
        const { won, ev } = await recipient.receiveTicket(received);
        if (!receiveErr) {
          account.credited = add(account.credited, ev);
          outcome.ev = add(outcome.ev, ev);
          outcome.tickets++;
          if (won) outcome.winners.push(received);
        }
        this.recordTicket?.(received, receiveErr ? `not credited after: ${receiveErr.message}` : 'credited');
      } catch (err) {
        this.recordTicket?.(received, errorMessage(err));
        if (err instanceof FatalTicketError) {
          for (const rest of tickets.slice(i + 1)) this.recordTicket?.(rest, 'not checked');
          throw new PaymentError(err.message);
        }
        receiveErr = err as Error;
      }
    }
    if (receiveErr) throw new PaymentError(receiveErr.message, outcome);
    return outcome;
  }
}

/** The payment's tickets as they will be checked and redeemed: one set of params, a nonce and signature each. */
function receivedTickets(payment: Payment, tp: TicketParams, to: { sender: Address; recipient: Address; price: Rat }, recipient: Recipient): ReceivedTicket[] {
  if (!payment.expirationParams) throw new PaymentError('payment has ticket params but no expiration params');
  const exp = {
    creationRound: payment.expirationParams.creationRound ?? 0n,
    creationRoundBlockHash: fixedBytes(payment.expirationParams.creationRoundBlockHash, 32),
  };
  if (exp.creationRound < 0n) throw new PaymentError('invalid ticket creation round');
  const seed = bytesToBigint(tp.seed);
  const faceValue = bytesToBigint(tp.faceValue);
  const winProb = bytesToBigint(tp.winProb);
  const expirationBlock = bytesToBigint(tp.expirationBlock);
  if (faceValue >= 1n << 256n || winProb >= 1n << 256n) throw new PaymentError('ticket face value or win probability exceeds uint256');
  const recipientRand = recipient.rand(seed, to.sender, faceValue, winProb, expirationBlock, to.price, ticketAuxData(exp));
  const base = { recipient: to.recipient, sender: to.sender, faceValue, winProb, recipientRandHash: fixedBytes(tp.recipientRandHash, 32), ...exp };
  return (payment.ticketSenderParams ?? []).map((tsp) => ({
    ticket: { ...base, senderNonce: BigInt(tsp.senderNonce ?? 0) },
    sig: bytesToHex(tsp.sig ?? new Uint8Array(0)),
    recipientRand,
    expirationBlock,
  }));
}
