// Payment accounting for any paid route, in go-livepeer's order: take the payment's tickets (credit,
// winners handed to the redeemer), insist on a balance of one ticket's EV when the job has a price,
// then debit price × units once the work is done. A route names the balance it uses: the video
// session id for /segment; an AI route would use "<capability>_<model>".
import type { Address } from 'viem';
import { HttpError, errorMessage } from '../../../src/lib/errors.ts';
import { rat, ratToDecimal, type Rat } from '../../../src/lib/rat.ts';
import type { Payment, PriceInfo } from '../../../src/wire/lpRpc.ts';
import type { FaultSwitches } from './faults.ts';
import { PaymentError, type Accounts, type PaymentOutcome } from './payments.ts';
import type { Recipient } from './recipient.ts';
import type { Redeemer } from './redeemer.ts';
import type { OrchestratorStats } from './stats.ts';

/** Fields a route adds to its request's log line. */
export type LogFields = Record<string, unknown>;

export interface PaymentDeskParts {
  accounts: Accounts;
  /** Absent off-chain: payments are not checked and nothing is charged. */
  recipient: Recipient | undefined;
  redeemer: Redeemer | undefined;
  stats: OrchestratorStats;
  faults: FaultSwitches;
  /** -ticketEV, wei */
  ticketEV: bigint;
}

export class PaymentDesk {
  constructor(private readonly parts: PaymentDeskParts) {}

  /** Credits the payment's tickets to (sender, key); refuses with go-livepeer's 400 texts. */
  async accept(payment: Payment, key: string, log: LogFields): Promise<void> {
    this.parts.faults.checkPayment();
    let outcome: PaymentOutcome | undefined;
    try {
      outcome = await this.parts.accounts.process(payment, key);
    } catch (err) {
      if (err instanceof PaymentError) outcome = err.outcome;
      throw new HttpError(400, err instanceof PaymentError ? err.message : `payment error: ${errorMessage(err)}`);
    } finally {
      if (outcome) this.record(outcome, log);
    }
  }

  /** "Insufficient balance" unless the credit covers one ticket's EV (only when the job has a price). */
  requireBalance(sender: Address, key: string, expectedPrice: PriceInfo | undefined): void {
    if (!this.parts.recipient || (expectedPrice?.pricePerUnit ?? 0n) <= 0n) return;
    if (!this.parts.accounts.sufficient(sender, key, this.parts.ticketEV)) throw new HttpError(400, 'Insufficient balance');
  }

  /** Debits the expected price × units; returns the fee in wei, or undefined when nothing is charged. */
  charge(sender: Address, key: string, expectedPrice: PriceInfo | undefined, units: bigint): Rat | undefined {
    if (!this.parts.recipient || !expectedPrice) return undefined;
    const price = rat(expectedPrice.pricePerUnit ?? 0n, expectedPrice.pixelsPerUnit || 1n);
    return this.parts.accounts.debit(sender, key, price, units);
  }

  private record(outcome: PaymentOutcome, log: LogFields): void {
    const { stats, redeemer } = this.parts;
    stats.ticketsReceived += outcome.tickets;
    stats.winningTickets += outcome.winners.length;
    for (const w of outcome.winners) redeemer?.enqueue(w);
    Object.assign(log, { tickets: outcome.tickets, winners: outcome.winners.length, ev: ratToDecimal(outcome.ev, 0) });
  }
}
