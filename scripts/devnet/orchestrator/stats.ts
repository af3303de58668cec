// What tests and the launcher read off a running orchestrator: counters, redemptions and balances.
import type { Address } from 'viem';
import type { Rat } from '../../../src/lib/rat.ts';
import type { Accounts } from './payments.ts';
import type { Redemption } from './redeemer.ts';

export interface SessionCredit {
  sender: Address;
  sessionId: string;
  /** wei (exact rational) */
  credited: Rat;
  debited: Rat;
  fixedPrice?: Rat;
}

export interface OrchestratorStats {
  /** /segment requests whose credentials were accepted (counted before transcoding) */
  segmentsReceived: number;
  segments: number;
  segmentErrors: number;
  ticketsReceived: number;
  winningTickets: number;
  redemptions: Redemption[];
  /** EndTranscodingSession calls with a valid token. */
  sessionsEndedByBroadcaster: number;
  /** Per (sender, session) credit and debit, computed on access. */
  readonly credits: SessionCredit[];
}

export function createStats(accounts: Accounts): OrchestratorStats {
  return {
    segmentsReceived: 0,
    segments: 0,
    segmentErrors: 0,
    ticketsReceived: 0,
    winningTickets: 0,
    redemptions: [],
    sessionsEndedByBroadcaster: 0,
    get credits(): SessionCredit[] {
      return accounts.all().map((a) => {
        const c: SessionCredit = { sender: a.sender, sessionId: a.sessionId, credited: a.credited, debited: a.debited };
        if (a.fixedPrice) c.fixedPrice = a.fixedPrice;
        return c;
      });
    },
  };
}
