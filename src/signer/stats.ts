// What the signer did since it started, for /status and Prometheus: sessions opened, answers by status,
// tickets and their EV per app and auth id, refusals by reason. Durable per-payment records are in the
// state store (signer/ledger.ts); these counters are the process's view.
import { Counter, type Registry } from 'prom-client';
import { add, ratToDecimal, ZERO, type Rat } from '../lib/rat.ts';

/** At most this many (app, auth id) pairs are kept apart; the rest are counted under "other". */
const MAX_ACCOUNTS = 1000;

interface Account {
  app: string;
  authId: string;
  payments: number;
  tickets: number;
  ev: Rat;
  faceValue: bigint;
}

export interface SignerStatus {
  StartedAt: string;
  Sessions: number;
  Payments: number;
  Tickets: number;
  /** Σ EV of the tickets signed, wei (rounded down) */
  EVWei: string;
  FaceValueWei: string;
  Answers: Record<string, number>;
  Refusals: Record<string, number>;
  Accounts: { App: string; AuthID: string; Payments: number; Tickets: number; EVWei: string; FaceValueWei: string }[];
}

export class SignerStats {
  private readonly startedAt = new Date();
  private sessions = 0;
  private readonly answers = new Map<number, number>();
  private readonly refusals = new Map<string, number>();
  private readonly accounts = new Map<string, Account>();
  private readonly metrics?: { sessions: Counter; tickets: Counter; ev: Counter; refusals: Counter; answers: Counter };

  constructor(registry?: Registry) {
    if (registry) {
      const counter = (name: string, help: string, labelNames: string[] = []) =>
        new Counter({ name: `livepeer_remote_signer_${name}`, help, labelNames, registers: [registry] });
      this.metrics = {
        sessions: counter('sessions_total', 'Payment sessions opened (first answer with a state)'),
        tickets: counter('tickets_signed_total', 'Tickets signed', ['app']),
        ev: counter('ticket_ev_signed_gwei_total', 'Expected value of the tickets signed (gwei)', ['app']),
        refusals: counter('refusals_total', 'Payment requests refused, by reason', ['reason']),
        answers: counter('answers_total', 'Payment answers, by HTTP status', ['status']),
      };
    }
  }

  answered(status: number): void {
    this.answers.set(status, (this.answers.get(status) ?? 0) + 1);
    this.metrics?.answers.inc({ status: String(status) });
  }

  refused(reason: string): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
    this.metrics?.refusals.inc({ reason });
  }

  sessionOpened(): void {
    this.sessions++;
    this.metrics?.sessions.inc();
  }

  /** One answer that carried `tickets` tickets of `ev` each. */
  paid(app: string, authId: string, tickets: number, ev: Rat, faceValue: bigint): void {
    let key = `${app}\u0000${authId}`;
    if (!this.accounts.has(key) && this.accounts.size >= MAX_ACCOUNTS) key = 'other\u0000other';
    let a = this.accounts.get(key);
    if (!a) {
      const [appName, id] = key.split('\u0000') as [string, string];
      a = { app: appName, authId: id, payments: 0, tickets: 0, ev: ZERO, faceValue: 0n };
      this.accounts.set(key, a);
    }
    const total = { num: ev.num * BigInt(tickets), den: ev.den };
    a.payments++;
    a.tickets += tickets;
    a.ev = add(a.ev, total);
    a.faceValue += faceValue * BigInt(tickets);
    this.metrics?.tickets.inc({ app }, tickets);
    this.metrics?.ev.inc({ app }, Number(total.num / total.den / 1_000_000_000n));
  }

  status(): SignerStatus {
    const accounts = [...this.accounts.values()];
    return {
      StartedAt: this.startedAt.toISOString(),
      Sessions: this.sessions,
      Payments: accounts.reduce((n, a) => n + a.payments, 0),
      Tickets: accounts.reduce((n, a) => n + a.tickets, 0),
      EVWei: ratToDecimal(
        accounts.reduce((s, a) => add(s, a.ev), ZERO),
        0,
      ),
      FaceValueWei: String(accounts.reduce((s, a) => s + a.faceValue, 0n)),
      Answers: Object.fromEntries([...this.answers].map(([k, v]) => [String(k), v])),
      Refusals: Object.fromEntries(this.refusals),
      Accounts: accounts.map((a) => ({
        App: a.app,
        AuthID: a.authId,
        Payments: a.payments,
        Tickets: a.tickets,
        EVWei: ratToDecimal(a.ev, 0),
        FaceValueWei: String(a.faceValue),
      })),
    };
  }
}
