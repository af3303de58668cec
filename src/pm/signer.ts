// Ethereum personal-sign (EIP-191) over 32 raw bytes, as tickets, segments and requests use it.
import { secp256k1 } from '@noble/curves/secp256k1';
import { keccak_256 } from '@noble/hashes/sha3';
import { getAddress, type Address, type Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { bytesToHex, concatBytes, hexToBytes } from '../lib/bytes.ts';
import { GatewayError } from '../lib/errors.ts';

const PREFIX_32 = new TextEncoder().encode('\x19Ethereum Signed Message:\n32');
const HALF_N = secp256k1.CURVE.n >> 1n;

/** Something that can personal-sign a 32-byte hash. A keystore account or a raw key both qualify. */
export interface Signer {
  readonly address: Address;
  /** EIP-191 signature over the 32 raw bytes of `hash`: r ‖ s ‖ v, 65 bytes, v ∈ {27, 28}, low s. */
  signHash(hash: Hex | Uint8Array): Hex;
  /**
   * EIP-191 signature over a message of any length (the remote signer's state blob): the digest is
   * keccak256("\x19Ethereum Signed Message:\n" ‖ decimal length ‖ message). Optional: only keys held in
   * this process have it.
   */
  signMessage?(message: Uint8Array): Hex;
}

export function toBytes32(hash: Hex | Uint8Array): Uint8Array {
  const bytes = typeof hash === 'string' ? hexToBytes(hash) : hash;
  if (bytes.length !== 32) throw new RangeError(`expected 32 bytes to sign, got ${bytes.length}`);
  return bytes;
}

/** keccak256("\x19Ethereum Signed Message:\n<length>" ‖ message), go-ethereum's accounts.TextHash. */
export function personalMessageDigest(message: Uint8Array): Uint8Array {
  return keccak_256(concatBytes(new TextEncoder().encode(`\x19Ethereum Signed Message:\n${message.length}`), message));
}

function sign65(digest: Uint8Array, key: Uint8Array): Hex {
  // noble signs deterministically (RFC 6979) and normalises to low s.
  const sig = secp256k1.sign(digest, key, { lowS: true });
  const out = new Uint8Array(65);
  out.set(sig.toCompactRawBytes(), 0);
  out[64] = 27 + sig.recovery;
  return bytesToHex(out);
}

/** keccak256("\x19Ethereum Signed Message:\n32" ‖ hash) */
export function personalDigest(hash: Hex | Uint8Array): Uint8Array {
  return keccak_256(concatBytes(PREFIX_32, toBytes32(hash)));
}

export function privateKeySigner(privateKey: Hex): Signer {
  const key = hexToBytes(privateKey);
  const address = privateKeyToAddress(privateKey);
  return {
    address,
    signHash: (hash) => sign65(personalDigest(hash), key),
    signMessage: (message) => sign65(personalMessageDigest(message), key),
  };
}

export class SignatureError extends GatewayError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { code: 'SIGNATURE_INVALID', cause: opts.cause });
  }
}

/**
 * Recovers the signer of a personal-sign signature with the same strictness as go-livepeer and
 * the TicketBroker: exactly 65 bytes, v 27/28, s in the lower half of the curve order.
 */
export function recoverPersonalSigner(hash: Hex | Uint8Array, signature: Hex | Uint8Array): Address {
  return recoverFromDigest(personalDigest(hash), signature);
}

/** The signer of an EIP-191 signature over a message of any length (same strictness as above). */
export function recoverMessageSigner(message: Uint8Array, signature: Hex | Uint8Array): Address {
  return recoverFromDigest(personalMessageDigest(message), signature);
}

export function verifyMessageSignature(expected: Address, message: Uint8Array, signature: Hex | Uint8Array): boolean {
  try {
    return recoverMessageSigner(message, signature).toLowerCase() === expected.toLowerCase();
  } catch {
    return false;
  }
}

function recoverFromDigest(digest: Uint8Array, signature: Hex | Uint8Array): Address {
  const sig = typeof signature === 'string' ? hexToBytes(signature) : signature;
  if (sig.length !== 65) throw new SignatureError(`invalid signature length ${sig.length}, want 65`);
  const v = sig[64]!;
  if (v !== 27 && v !== 28) throw new SignatureError(`invalid signature v value ${v}, want 27 or 28`);
  const compact = secp256k1.Signature.fromCompact(sig.subarray(0, 64));
  if (compact.s > HALF_N) throw new SignatureError('signature s value too high');
  const pub = compact
    .addRecoveryBit(v - 27)
    .recoverPublicKey(digest)
    .toRawBytes(false);
  const addr = keccak_256(pub.subarray(1)).subarray(12);
  return getAddress(bytesToHex(addr));
}

export function verifyPersonalSignature(expected: Address, hash: Hex | Uint8Array, signature: Hex | Uint8Array): boolean {
  try {
    return recoverPersonalSigner(hash, signature).toLowerCase() === expected.toLowerCase();
  } catch {
    return false;
  }
}
