// An optional record of every ticket that reaches the orchestrator in a payment, one JSON line each, for
// benches that check a broadcaster's nonces across orchestrator restarts (bench/chaos.ts). Lines are
// appended synchronously so a SIGKILLed orchestrator loses none it had read.
import { appendFileSync } from 'node:fs';
import type { ReceivedTicket } from './recipient.ts';

export interface TicketLogLine {
  /** ms since the epoch */
  t: number;
  sender: string;
  recipientRandHash: string;
  nonce: string;
  faceValue: string;
  /** 'credited', or why not: the refusal's text, or 'not checked' after a refusal in the same payment */
  status: string;
}

export type TicketRecorder = (ticket: ReceivedTicket, status: string) => void;

/** A recorder appending to `file`, or undefined when no file is given. */
export function ticketRecorder(file: string | undefined): TicketRecorder | undefined {
  if (!file) return undefined;
  return ({ ticket }, status) => {
    const line: TicketLogLine = {
      t: Date.now(),
      sender: ticket.sender.toLowerCase(),
      recipientRandHash: ticket.recipientRandHash.toLowerCase(),
      nonce: ticket.senderNonce.toString(),
      faceValue: ticket.faceValue.toString(),
      status,
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  };
}
