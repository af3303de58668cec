// Signs batches of tickets against an orchestrator's params: one nonce counter per
// recipientRandHash ("PM session"), first ticket nonce 1, consecutive within a batch.
import type { Address, Hex } from 'viem';
import { signTicket, type Ticket } from './ticket.ts';
import type { Signer } from './signer.ts';
import type { ExpirationParams, SenderTicketParams } from './ticketParams.ts';
import { GatewayError } from '../lib/errors.ts';

/** Orchestrators remember at most this many nonces per recipientRand; beyond it tickets are refused. */
export const MAX_SENDER_NONCES = 600;

export interface TicketSenderEntry {
  senderNonce: number;
  sig: Hex;
}

export interface TicketBatch {
  params: SenderTicketParams;
  sender: Address;
  expirationParams: ExpirationParams;
  tickets: TicketSenderEntry[];
}

export class NonceLimitError extends GatewayError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { code: 'NONCE_LIMIT', cause: opts.cause });
  }
}

/** Where a ticket's creation round comes from when the orchestrator sent none. */
export type ExpirationFallback = () => ExpirationParams;

/**
 * A params set's nonce counter is dropped once its expiration block is this far behind the last block
 * seen: validation refuses expired params long before, and the margin keeps a lagging RPC (the view going
 * back a little) from ever making them valid again, which would restart their nonces at 1. Orchestrators
 * send fresh params (a new recipientRandHash) in every reply, so counters pile up at the segment rate until
 * reaped: 40 L1 blocks (8 minutes, as long again as params live) keep ~500 per stream, where 1000 kept
 * ~6,000 (3.5 hours; ~1.3 MB of heap per stream, marked by every full collection).
 */
export const NONCE_REAP_MARGIN_BLOCKS = 40n;

export class TicketSender {
  private readonly nonces = new Map<Hex, number>();
  /** expiration block of each params set in `nonces` */
  private readonly expiries = new Map<Hex, bigint>();

  constructor(
    readonly signer: Signer,
    private readonly fallback: ExpirationFallback,
  ) {}

  /** Signs `count` tickets. Throws NonceLimitError when the params have been used too often: refresh them. */
  createBatch(params: SenderTicketParams, count: number): TicketBatch {
    const key = params.recipientRandHash.toLowerCase() as Hex;
    const last = this.nonces.get(key) ?? 0;
    if (last + count > MAX_SENDER_NONCES) {
      throw new NonceLimitError(`ticket params ${key.slice(0, 10)}… would exceed ${MAX_SENDER_NONCES} nonces; fetch fresh params from the orchestrator`);
    }
    const batch = signTicketBatch(this.signer, params, params.expirationParams ?? this.fallback(), last, count);
    this.nonces.set(key, last + count);
    this.expiries.set(key, params.expirationBlock);
    return batch;
  }

  /** Nonces used so far for a params set (0 if none). */
  noncesUsed(recipientRandHash: Hex): number {
    return this.nonces.get(recipientRandHash.toLowerCase() as Hex) ?? 0;
  }

  /** Drops the counter of params that will not be used again. */
  forget(recipientRandHash: Hex): void {
    this.nonces.delete(recipientRandHash.toLowerCase() as Hex);
    this.expiries.delete(recipientRandHash.toLowerCase() as Hex);
  }

  /** Drops the counters of params expired for good (see NONCE_REAP_MARGIN_BLOCKS); returns how many. */
  reapExpired(lastSeenL1Block: bigint): number {
    let n = 0;
    for (const [key, expiry] of this.expiries) {
      if (expiry + NONCE_REAP_MARGIN_BLOCKS < lastSeenL1Block) {
        this.expiries.delete(key);
        this.nonces.delete(key);
        n++;
      }
    }
    return n;
  }

  /** Params sets with a nonce counter. */
  get size(): number {
    return this.nonces.size;
  }
}

/**
 * Signs `count` tickets with nonces lastNonce+1 … lastNonce+count. Pure: whoever calls it owns the nonce
 * counter (the TicketSender in memory, a remote signer's payment state).
 */
export function signTicketBatch(signer: Signer, params: SenderTicketParams, expirationParams: ExpirationParams, lastNonce: number, count: number): TicketBatch {
  const tickets: TicketSenderEntry[] = [];
  for (let i = 1; i <= count; i++) {
    const ticket: Ticket = {
      recipient: params.recipient,
      sender: signer.address,
      faceValue: params.faceValue,
      winProb: params.winProb,
      senderNonce: BigInt(lastNonce + i),
      recipientRandHash: params.recipientRandHash,
      creationRound: expirationParams.creationRound,
      creationRoundBlockHash: expirationParams.creationRoundBlockHash,
    };
    tickets.push({ senderNonce: lastNonce + i, sig: signTicket(signer, ticket) });
  }
  return { params, sender: signer.address, expirationParams, tickets };
}
