// The on-chain ticket: hash preimage (abi.encodePacked layout), signature and win test.
import { keccak256 } from '../lib/keccak.ts';
import { isAddressEqual, zeroAddress, zeroHash, type Address, type Hex } from 'viem';
import { be32, bytesToBigint, bytesToHex, concatBytes, hexToBytes } from '../lib/bytes.ts';
import type { Signer } from './signer.ts';

export interface Ticket {
  recipient: Address;
  sender: Address;
  faceValue: bigint;
  winProb: bigint;
  senderNonce: bigint;
  recipientRandHash: Hex;
  creationRound: bigint;
  creationRoundBlockHash: Hex;
}

/**
 * creationRound ‖ creationRoundBlockHash, 64 bytes. Empty when both are zero, as go-livepeer encodes
 * it; such tickets hash fine off-chain but the TicketBroker cannot redeem them.
 */
export function ticketAuxData(t: Pick<Ticket, 'creationRound' | 'creationRoundBlockHash'>): Hex {
  const blockHash = hexToBytes(t.creationRoundBlockHash);
  if (blockHash.length !== 32) throw new RangeError('creationRoundBlockHash must be 32 bytes');
  if (t.creationRound === 0n && t.creationRoundBlockHash.toLowerCase() === zeroHash) return '0x';
  return bytesToHex(concatBytes(be32(t.creationRound), blockHash));
}

export function ticketPreimage(t: Ticket): Uint8Array {
  const randHash = hexToBytes(t.recipientRandHash);
  if (randHash.length !== 32) throw new RangeError('recipientRandHash must be 32 bytes');
  return concatBytes(
    hexToBytes(t.recipient),
    hexToBytes(t.sender),
    be32(t.faceValue),
    be32(t.winProb),
    be32(t.senderNonce),
    randHash,
    hexToBytes(ticketAuxData(t)),
  );
}

export function ticketHash(t: Ticket): Hex {
  return bytesToHex(keccak256(ticketPreimage(t)));
}

/** Personal-sign over the 32 raw bytes of the ticket hash (never over its hex text). */
export function signTicket(signer: Signer, t: Ticket): Hex {
  if (!isAddressEqual(signer.address, t.sender)) {
    throw new Error(`ticket sender ${t.sender} is not the signing account ${signer.address}`);
  }
  return signer.signHash(hexToBytes(ticketHash(t)));
}

/** uint256(keccak256(sig ‖ uint256(recipientRand))) < winProb — the contract's and go-livepeer's test. */
export function isWinningTicket(sig: Hex | Uint8Array, recipientRand: bigint, winProb: bigint): boolean {
  const sigBytes = typeof sig === 'string' ? hexToBytes(sig) : sig;
  const h = bytesToBigint(keccak256(concatBytes(sigBytes, be32(recipientRand))));
  return h < winProb;
}

/** keccak256(uint256(recipientRand)) — what an orchestrator publishes in its ticket params. */
export function recipientRandHash(recipientRand: bigint): Hex {
  return bytesToHex(keccak256(be32(recipientRand)));
}

/** The TicketBroker's Ticket struct, for viem contract calls. */
export function toContractTicket(t: Ticket) {
  return {
    recipient: t.recipient,
    sender: t.sender,
    faceValue: t.faceValue,
    winProb: t.winProb,
    senderNonce: t.senderNonce,
    recipientRandHash: t.recipientRandHash,
    auxData: ticketAuxData(t),
  };
}

export const NULL_TICKET_FIELDS = { recipient: zeroAddress, sender: zeroAddress } as const;
