// An orchestrator's TicketParams, parsed from the wire into checked, typed values.
// The raw message is kept: the orchestrator regenerates recipientRand from the exact bytes it sent.
import { getAddress, zeroHash, type Address, type Hex } from 'viem';
import type { TicketExpirationParams, TicketParams } from '../wire/lpRpc.ts';
import { bytesToBigint, bytesToHex } from '../lib/bytes.ts';
import { GatewayError } from '../lib/errors.ts';

export interface ExpirationParams {
  creationRound: bigint;
  creationRoundBlockHash: Hex;
}

export interface SenderTicketParams {
  recipient: Address;
  faceValue: bigint;
  winProb: bigint;
  recipientRandHash: Hex;
  seed: bigint;
  expirationBlock: bigint;
  /** The orchestrator's creation round + block hash, when it sent non-zero ones. */
  expirationParams?: ExpirationParams;
  /** Exactly what the orchestrator sent; echoed back in every Payment. */
  wire: TicketParams;
}

export class MalformedTicketParamsError extends GatewayError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { code: 'MALFORMED_TICKET_PARAMS', cause: opts.cause });
  }
}

const MAX_UINT256 = (1n << 256n) - 1n;

function uint256Field(name: string, bytes: Uint8Array | undefined): bigint {
  if (bytes && bytes.length > 32) throw new MalformedTicketParamsError(`ticket params ${name} is longer than 32 bytes`);
  const v = bytesToBigint(bytes);
  if (v > MAX_UINT256) throw new MalformedTicketParamsError(`ticket params ${name} exceeds uint256`);
  return v;
}

export function parseExpirationParams(wire: TicketExpirationParams | undefined): ExpirationParams | undefined {
  if (!wire) return undefined;
  const round = wire.creationRound ?? 0n;
  const hashBytes = wire.creationRoundBlockHash ?? new Uint8Array(0);
  if (hashBytes.length !== 0 && hashBytes.length !== 32) {
    throw new MalformedTicketParamsError('ticket expiration params block hash is not 32 bytes');
  }
  if (round < 0n) throw new MalformedTicketParamsError('ticket expiration params creation round is negative');
  const hash = hashBytes.length === 32 ? bytesToHex(hashBytes) : zeroHash;
  // go-livepeer falls back to the sender's own round when either part is zero.
  if (round === 0n || hash === zeroHash) return undefined;
  return { creationRound: round, creationRoundBlockHash: hash };
}

export function parseTicketParams(wire: TicketParams | undefined): SenderTicketParams {
  if (!wire) throw new MalformedTicketParamsError('ticketParams is nil');
  if (wire.recipient?.length !== 20) throw new MalformedTicketParamsError('ticket params recipient is not a 20-byte address');
  if (wire.recipientRandHash?.length !== 32) {
    throw new MalformedTicketParamsError('ticket params recipientRandHash is not 32 bytes');
  }
  if ((wire.seed?.length ?? 0) > 32) throw new MalformedTicketParamsError('ticket params seed is longer than 32 bytes');
  const params: SenderTicketParams = {
    recipient: getAddress(bytesToHex(wire.recipient)),
    faceValue: uint256Field('faceValue', wire.faceValue),
    winProb: uint256Field('winProb', wire.winProb),
    recipientRandHash: bytesToHex(wire.recipientRandHash),
    seed: bytesToBigint(wire.seed),
    expirationBlock: uint256Field('expirationBlock', wire.expirationBlock),
    wire,
  };
  const expirationParams = parseExpirationParams(wire.expirationParams);
  if (expirationParams) params.expirationParams = expirationParams;
  return params;
}
