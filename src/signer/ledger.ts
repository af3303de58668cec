// The signer's money records: one append-only record per answer that carried tickets, written to the
// state store before the answer leaves (Level, or PostgreSQL shared by replicas). Summed per auth id,
// app or day with the store's `records.sum` (docs/store.md).
import type { Rat } from '../lib/rat.ts';
import type { StateStore } from '../store/stateStore.ts';

export const SIGNER_LEDGER_NAMESPACE = 'signer.tickets';

export interface SignedPayment {
  authId: string;
  app: string;
  type: string;
  orchestrator: string;
  stateId: string;
  manifestId: string;
  tickets: number;
  /** EV of one ticket */
  ev: Rat;
  faceValue: bigint;
  /** what was billed, wei */
  fee: Rat;
  at: Date;
}

const floorWei = (r: Rat): bigint => r.num / r.den;

/** Amounts are whole wei: EV and fee rounded down (a ticket's EV is a fraction of a wei). */
export async function recordSignedPayment(store: StateStore, p: SignedPayment): Promise<void> {
  await store.records.append(SIGNER_LEDGER_NAMESPACE, {
    subject: p.authId || '-',
    at: p.at,
    amounts: {
      tickets: BigInt(p.tickets),
      evWei: floorWei({ num: p.ev.num * BigInt(p.tickets), den: p.ev.den }),
      faceValueWei: p.faceValue * BigInt(p.tickets),
      feeWei: floorWei(p.fee),
    },
    tags: {
      app: p.app.slice(0, 256),
      type: p.type,
      orchestrator: p.orchestrator,
      state: p.stateId.slice(0, 256),
      manifest: p.manifestId.slice(0, 256),
    },
  });
}
