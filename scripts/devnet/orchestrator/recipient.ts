// The ticket recipient: issues fresh ticket params per request (secret-keyed recipientRand bound to
// sender, face value, win probability, expiration block, price and creation round) and checks the
// tickets that come back, the way go-livepeer's pm.recipient and sender monitor do.
import { createHmac, randomBytes } from 'node:crypto';
import { getAddress, zeroAddress, zeroHash, type Address, type Hex } from 'viem';
import type { TicketParams } from '../../../src/wire/lpRpc.ts';
import { bigintToMinimalBytes, bytesToBigint, concatBytes, hexToBytes } from '../../../src/lib/bytes.ts';
import { GatewayError } from '../../../src/lib/errors.ts';
import { MAX_WIN_PROB, ticketEV } from '../../../src/pm/ev.ts';
import { maxFloat, offerFaceValue, REDEEM_GAS_ARBITRUM, winProbFor } from '../../../src/pm/faceValue.ts';
import type { Rat } from '../../../src/lib/rat.ts';
import { reserveShare } from '../../../src/pm/senderInfo.ts';
import { verifyPersonalSignature } from '../../../src/pm/signer.ts';
import { isWinningTicket, recipientRandHash, ticketAuxData, ticketHash, type Ticket } from '../../../src/pm/ticket.ts';
import type { OrchestratorChain } from './chainView.ts';

/** Params stay valid this many L1 blocks. */
export const PARAMS_EXPIRATION_BLOCKS = 40n;
export const MAX_SENDER_NONCES = 600;
/** Redemption gas assumed unless configured: Arbitrum's, as go-livepeer assumes. */
export const DEFAULT_REDEEM_GAS = REDEEM_GAS_ARBITRUM;

export type HostileTicketParams = 'huge-face-value' | 'zero-win-prob' | 'expired' | 'malformed';

export interface RecipientConfig {
  /** -ticketEV, wei */
  ticketEV: bigint;
  redeemGas?: bigint;
  /** -maxFaceValue, wei; 0/undefined = no cap */
  maxFaceValue?: bigint;
  hostile?: HostileTicketParams;
}

/** A ticket as it arrived in a Payment, plus what it takes to redeem it. */
export interface ReceivedTicket {
  ticket: Ticket;
  sig: Hex;
  recipientRand: bigint;
  expirationBlock: bigint;
}

/** go-livepeer's refusal to issue params to a sender; the wire text is always "insufficient sender reserve". */
export class InsufficientReserveError extends GatewayError {
  constructor(readonly detail: string) {
    super('insufficient sender reserve', { code: 'INSUFFICIENT_SENDER_RESERVE' });
  }
}

/** A ticket error that invalidates the whole payment (go-livepeer FatalReceiveErr). */
export class FatalTicketError extends GatewayError {}
/** A ticket error that only refuses this ticket's credit. */
export class TicketError extends GatewayError {}

export interface ExpirationParams {
  creationRound: bigint;
  creationRoundBlockHash: Hex;
}

export class Recipient {
  private readonly secret = randomBytes(32);
  private readonly nonces = new Map<string, { seen: Set<number>; expirationBlock: bigint }>();
  /** Face value of winning tickets being redeemed, per sender (lower-case). */
  private readonly pending = new Map<string, bigint>();

  constructor(
    readonly address: Address,
    readonly chain: OrchestratorChain,
    readonly cfg: RecipientConfig,
  ) {}

  /** go-livepeer's winProb for this orchestrator's ticket EV. */
  winProb(faceValue: bigint): bigint {
    return winProbFor(faceValue, this.cfg.ticketEV);
  }

  /** HMAC-SHA256(secret, minimal bytes of seed ‖ sender ‖ faceValue ‖ winProb ‖ expirationBlock ‖ price ‖ auxData). */
  rand(seed: bigint, sender: Address, faceValue: bigint, winProb: bigint, expirationBlock: bigint, price: Rat, aux: Hex): bigint {
    const msg = concatBytes(
      bigintToMinimalBytes(seed),
      hexToBytes(sender),
      bigintToMinimalBytes(faceValue),
      bigintToMinimalBytes(winProb),
      bigintToMinimalBytes(expirationBlock),
      bigintToMinimalBytes(price.num),
      bigintToMinimalBytes(price.den),
      hexToBytes(aux),
    );
    return bytesToBigint(createHmac('sha256', this.secret).update(msg).digest());
  }

  /** Creation round for new tickets; the previous round when the last one has no block hash. */
  async expirationParams(): Promise<ExpirationParams> {
    const r = await this.chain.roundInfo();
    if (r.blockHash === zeroHash && r.lastInitializedRound > 0n) {
      return { creationRound: r.lastInitializedRound - 1n, creationRoundBlockHash: r.previousBlockHash };
    }
    return { creationRound: r.lastInitializedRound, creationRoundBlockHash: r.blockHash };
  }

  /** What face value this sender's reserve share and pending redemptions allow (docs/payments.md, max float). */
  async faceValue(sender: Address): Promise<bigint> {
    const redeemGas = this.cfg.redeemGas ?? DEFAULT_REDEEM_GAS;
    const ev = this.cfg.ticketEV;
    const [gasPrice, info, claimed, poolSize] = await Promise.all([
      this.chain.gasPrice(),
      this.chain.senderInfo(sender),
      this.chain.claimedReserve(sender),
      this.chain.poolSize(),
    ]);
    const float = maxFloat(reserveShare(info, poolSize, claimed), info.deposit, this.pending.get(sender.toLowerCase()) ?? 0n);
    const offer = offerFaceValue({ ticketEV: ev, redeemGas, gasPrice, maxFloat: float, maxFaceValue: this.cfg.maxFaceValue ?? 0n });
    if (offer.ok) return offer.faceValue;
    if (offer.reason === 'below-ticket-ev') {
      throw new InsufficientReserveError(`face value ${offer.faceValue} wei (reserve share ${float} wei) is below the ticket EV ${ev} wei`);
    }
    throw new InsufficientReserveError(
      `face value ${offer.faceValue} wei is below a redemption's gas cost (${redeemGas} gas × ${gasPrice} wei); lower redeemGas or the chain's gas price`,
    );
  }

  /** Fresh params for `sender` at `price` (wei per pixel). Price 0 ⇒ face value and win probability 0. */
  async ticketParams(sender: Address, price: Rat): Promise<TicketParams> {
    const seed = bytesToBigint(randomBytes(32));
    const faceValue = price.num > 0n ? await this.faceValue(sender) : 0n;
    const lastBlock = await this.chain.lastSeenL1Block();
    const expirationBlock = lastBlock + PARAMS_EXPIRATION_BLOCKS;
    const winProb = this.winProb(faceValue);
    const exp = await this.expirationParams();
    const rand = this.rand(seed, sender, faceValue, winProb, expirationBlock, price, ticketAuxData(exp));
    const params: TicketParams = {
      recipient: hexToBytes(this.address),
      faceValue: bigintToMinimalBytes(faceValue),
      winProb: bigintToMinimalBytes(winProb),
      recipientRandHash: hexToBytes(recipientRandHash(rand)),
      seed: bigintToMinimalBytes(seed),
      expirationBlock: bigintToMinimalBytes(expirationBlock),
      expirationParams: { creationRound: exp.creationRound, creationRoundBlockHash: hexToBytes(exp.creationRoundBlockHash) },
    };
    return this.cfg.hostile ? this.makeHostile(params, lastBlock) : params;
  }

  // Deliberately broken params, for testing how a broadcaster copes.
  private makeHostile(p: TicketParams, lastBlock: bigint): TicketParams {
    switch (this.cfg.hostile) {
      case 'huge-face-value': {
        // A face value far above any deposit, with the win probability scaled so the EV looks normal:
        // only the broadcaster's max-face-value check can catch it.
        const face = 1n << 200n;
        return { ...p, faceValue: bigintToMinimalBytes(face), winProb: bigintToMinimalBytes((this.cfg.ticketEV * MAX_WIN_PROB) / face + 1n) };
      }
      case 'zero-win-prob':
        return { ...p, winProb: new Uint8Array(0) };
      case 'expired':
        return { ...p, expirationBlock: bigintToMinimalBytes(lastBlock) };
      case 'malformed':
        return { ...p, recipient: Uint8Array.from([1, 2, 3, 4, 5]), recipientRandHash: new Uint8Array(7), faceValue: new Uint8Array(40).fill(0xff) };
      default:
        return p;
    }
  }

  /** go-livepeer ValidateSender: refuse senders whose unlock ends by the round after next. */
  async validateSender(sender: Address): Promise<void> {
    const [info, rounds] = await Promise.all([this.chain.senderInfo(sender), this.chain.roundInfo()]);
    if (info.withdrawRound !== 0n && info.withdrawRound <= rounds.lastInitializedRound + 1n) {
      throw new FatalTicketError(`deposit and reserve for sender ${sender} is set to unlock soon`);
    }
  }

  /**
   * Checks one ticket. Throws FatalTicketError (refuse the payment) or TicketError (refuse this ticket).
   * Returns whether it won; the caller credits its EV.
   */
  async receiveTicket(t: ReceivedTicket): Promise<{ won: boolean; ev: Rat }> {
    const { ticket } = t;
    if (getAddress(ticket.recipient) !== getAddress(this.address)) throw new FatalTicketError('invalid ticket recipient');
    if (ticket.sender === zeroAddress) throw new FatalTicketError('invalid ticket sender');
    if (recipientRandHash(t.recipientRand).toLowerCase() !== ticket.recipientRandHash.toLowerCase()) {
      throw new FatalTicketError('invalid recipientRand for ticket recipientRandHash');
    }
    if (!verifyPersonalSignature(ticket.sender, ticketHash(ticket), t.sig)) throw new TicketError('invalid ticket signature');
    const won = isWinningTicket(t.sig, t.recipientRand, ticket.winProb);

    const key = t.recipientRand.toString(16);
    let entry = this.nonces.get(key);
    if (!entry) {
      entry = { seen: new Set(), expirationBlock: t.expirationBlock };
      this.nonces.set(key, entry);
    }
    const nonce = Number(ticket.senderNonce);
    if (entry.seen.has(nonce)) {
      throw new TicketError(`invalid ticket senderNonce: already seen sender=${ticket.sender} nonce=${nonce}`);
    }
    if (entry.seen.size >= MAX_SENDER_NONCES) {
      throw new TicketError(`invalid ticket senderNonce: too many values sender=${ticket.sender} nonce=${nonce}`);
    }
    entry.seen.add(nonce);

    const latest = await this.chain.lastSeenL1Block();
    if (t.expirationBlock <= latest) throw new TicketError('TicketParams expired');
    return { won, ev: ticketEV(ticket.faceValue, ticket.winProb) };
  }

  /** Forgets nonces of params that can no longer be used. */
  async cleanupNonces(): Promise<void> {
    const latest = await this.chain.lastSeenL1Block();
    for (const [k, v] of this.nonces) if (v.expirationBlock <= latest) this.nonces.delete(k);
  }

  addPending(sender: Address, faceValue: bigint): void {
    const k = sender.toLowerCase();
    this.pending.set(k, (this.pending.get(k) ?? 0n) + faceValue);
  }

  subPending(sender: Address, faceValue: bigint): void {
    const k = sender.toLowerCase();
    const left = (this.pending.get(k) ?? 0n) - faceValue;
    if (left > 0n) this.pending.set(k, left);
    else this.pending.delete(k);
  }
}
