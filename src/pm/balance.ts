// Credit the broadcaster holds with an orchestrator session between segments.
//
// Each segment: take the credit, buy enough tickets to cover max(fee estimate, one ticket's EV),
// and after the result credit back (old credit + tickets' EV − what the orchestrator debited).
// Keyed by (recipient, orchestrator session id), as the orchestrator keys its own balance.
import { add, sub, ZERO, type Rat, mul, rat } from '../lib/rat.ts';
import { ticketsNeeded } from './ev.ts';

export interface BalanceUpdate {
  readonly key: string;
  readonly existingCredit: Rat;
  readonly numTickets: number;
  /** numTickets × EV */
  readonly newCredit: Rat;
  /** true once the payment has left this process */
  sent: boolean;
}

export class Balances {
  private readonly credit = new Map<string, Rat>();

  static key(recipient: string, sessionId: string): string {
    return `${recipient.toLowerCase()}/${sessionId}`;
  }

  /** Sessions holding credit (cleared when their stream ends them). */
  get size(): number {
    return this.credit.size;
  }

  get(key: string): Rat {
    return this.credit.get(key) ?? ZERO;
  }

  /** Takes the whole credit (it is in flight with this segment) and works out the tickets to add. */
  stage(key: string, minCredit: Rat, ev: Rat): BalanceUpdate {
    const existingCredit = this.get(key);
    this.credit.delete(key);
    const numTickets = ticketsNeeded(minCredit, existingCredit, ev);
    return { key, existingCredit, numTickets, newCredit: mul(rat(BigInt(numTickets)), ev), sent: false };
  }

  /** The orchestrator transcoded and debited `debit` (price × output pixels). Credit can go negative. */
  complete(update: BalanceUpdate, debit: Rat): void {
    this.credit.set(update.key, sub(add(add(this.get(update.key), update.existingCredit), update.newCredit), debit));
  }

  /**
   * The segment failed. If the payment never left, the old credit is ours again; if it was sent,
   * the orchestrator may have credited it, but we cannot know, so it is written off.
   */
  fail(update: BalanceUpdate): void {
    if (!update.sent) this.credit.set(update.key, add(this.get(update.key), update.existingCredit));
  }

  clear(key: string): void {
    this.credit.delete(key);
  }
}
