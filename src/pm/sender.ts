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

/** Params sets with tickets signed ahead at once; past it the oldest go (their nonces are skipped). */
export const MAX_PRESIGNED_PARAMS = 1024;
/** At most this many tickets are signed ahead for one params set. */
export const MAX_PRESIGNED_TICKETS = 16;

/** The fields of a ticket that come from its params and round: tickets signed on two sets alike are alike. */
function signsAlike(a: SenderTicketParams, ea: ExpirationParams, b: SenderTicketParams, eb: ExpirationParams): boolean {
  return (
    a.recipient === b.recipient &&
    a.faceValue === b.faceValue &&
    a.winProb === b.winProb &&
    ea.creationRound === eb.creationRound &&
    ea.creationRoundBlockHash === eb.creationRoundBlockHash
  );
}

export class TicketSender {
  private readonly nonces = new Map<Hex, number>();
  /** expiration block of each params set in `nonces` */
  private readonly expiries = new Map<Hex, bigint>();
  /** tickets signed ahead (presign), by params set; createBatch takes them first */
  private readonly ready = new Map<Hex, TicketBatch>();

  constructor(
    readonly signer: Signer,
    private readonly fallback: ExpirationFallback,
  ) {}

  /**
   * `count` signed tickets: first those signed ahead for these params (presign), if they were signed alike,
   * then new ones. Throws NonceLimitError when the params have been used too often: refresh them.
   */
  createBatch(params: SenderTicketParams, count: number): TicketBatch {
    const key = params.recipientRandHash.toLowerCase() as Hex;
    const expirationParams = params.expirationParams ?? this.fallback();
    const ahead = this.ready.get(key);
    // what is left of them is not kept: the next reply brings new params, and their nonces are only skipped
    this.ready.delete(key);
    const taken = ahead && signsAlike(ahead.params, ahead.expirationParams, params, expirationParams) ? ahead.tickets.slice(0, count) : [];
    const fresh = count > taken.length ? this.#sign(key, params, expirationParams, count - taken.length).tickets : [];
    return { params, sender: this.signer.address, expirationParams, tickets: [...taken, ...fresh] };
  }

  /**
   * Signs `count` tickets for these params ahead of need (after a reply, for the segment that will use the
   * params it brought), so that the segment's payment is ready when the segment is: signing is most of a
   * payment's time (docs/payments.md §4). Their nonces are taken now; tickets not used are never sent.
   * Throws as createBatch does.
   */
  presign(params: SenderTicketParams, count: number): void {
    const key = params.recipientRandHash.toLowerCase() as Hex;
    if (count <= 0 || this.ready.has(key)) return;
    const expirationParams = params.expirationParams ?? this.fallback();
    this.ready.set(key, this.#sign(key, params, expirationParams, Math.min(count, MAX_PRESIGNED_TICKETS)));
    if (this.ready.size > MAX_PRESIGNED_PARAMS) this.ready.delete(this.ready.keys().next().value!);
  }

  #sign(key: Hex, params: SenderTicketParams, expirationParams: ExpirationParams, count: number): TicketBatch {
    const last = this.nonces.get(key) ?? 0;
    if (last + count > MAX_SENDER_NONCES) {
      throw new NonceLimitError(`ticket params ${key.slice(0, 10)}… would exceed ${MAX_SENDER_NONCES} nonces; fetch fresh params from the orchestrator`);
    }
    const batch = signTicketBatch(this.signer, params, expirationParams, last, count);
    this.nonces.set(key, last + count);
    this.expiries.set(key, params.expirationBlock);
    return batch;
  }

  /** Params sets with tickets signed ahead and not yet taken. */
  get presigned(): number {
    return this.ready.size;
  }

  /** Nonces used so far for a params set (0 if none). */
  noncesUsed(recipientRandHash: Hex): number {
    return this.nonces.get(recipientRandHash.toLowerCase() as Hex) ?? 0;
  }

  /** Drops the counter of params that will not be used again. */
  forget(recipientRandHash: Hex): void {
    this.nonces.delete(recipientRandHash.toLowerCase() as Hex);
    this.expiries.delete(recipientRandHash.toLowerCase() as Hex);
    this.ready.delete(recipientRandHash.toLowerCase() as Hex);
  }

  /** Drops the counters of params expired for good (see NONCE_REAP_MARGIN_BLOCKS); returns how many. */
  reapExpired(lastSeenL1Block: bigint): number {
    let n = 0;
    for (const [key, expiry] of this.expiries) {
      if (expiry + NONCE_REAP_MARGIN_BLOCKS < lastSeenL1Block) {
        this.expiries.delete(key);
        this.nonces.delete(key);
        this.ready.delete(key);
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
