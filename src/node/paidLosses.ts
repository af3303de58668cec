// Money paid for nothing, per orchestrator: tickets that left for an attempt that brought back no usable
// renditions (a transcoding error, a malformed or unverifiable result, a failed download). Shown on
// /status and as a metric. Bounded: orchestrators come and go, the map keeps the most recent ones.
import { add, ratToDecimal, ZERO, type Rat } from '../lib/rat.ts';

export interface PaidLoss {
  /** attempts that took payment and returned nothing usable */
  failures: number;
  tickets: number;
  /** Σ ticket EV lost, wei (exact) */
  ev: Rat;
  lastError: string;
  lastSeen: string;
}

/** Orchestrators kept; the one seen longest ago goes first. */
export const MAX_LOSS_ENTRIES = 1000;

export class PaidLosses {
  readonly #byOrchestrator = new Map<string, PaidLoss>();

  add(orchestrator: string, tickets: number, ev: Rat, error: string): PaidLoss {
    const prev = this.#byOrchestrator.get(orchestrator);
    this.#byOrchestrator.delete(orchestrator);
    const next: PaidLoss = {
      failures: (prev?.failures ?? 0) + 1,
      tickets: (prev?.tickets ?? 0) + tickets,
      ev: add(prev?.ev ?? ZERO, ev),
      lastError: error.slice(0, 200),
      lastSeen: new Date().toISOString(),
    };
    this.#byOrchestrator.set(orchestrator, next);
    if (this.#byOrchestrator.size > MAX_LOSS_ENTRIES) this.#byOrchestrator.delete(this.#byOrchestrator.keys().next().value!);
    return next;
  }

  get(orchestrator: string): PaidLoss | undefined {
    return this.#byOrchestrator.get(orchestrator);
  }

  get size(): number {
    return this.#byOrchestrator.size;
  }

  /** For /status: wei as decimal strings. */
  status(): Record<string, { failures: number; tickets: number; evLostWei: string; lastError: string; lastSeen: string }> {
    return Object.fromEntries(
      [...this.#byOrchestrator].map(([uri, l]) => [
        uri,
        { failures: l.failures, tickets: l.tickets, evLostWei: ratToDecimal(l.ev, 0), lastError: l.lastError, lastSeen: l.lastSeen },
      ]),
    );
  }
}
