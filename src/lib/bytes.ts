// Integer <-> byte conversions used on the wire and in ticket hashing.
import { bytesToHex, hexToBytes } from 'viem';

/** Go's big.Int.Bytes(): unsigned big-endian, no leading zeros, zero is empty. */
export function bigintToMinimalBytes(value: bigint): Uint8Array {
  if (value < 0n) throw new RangeError('negative integers have no unsigned encoding');
  if (value === 0n) return new Uint8Array(0);
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return hexToBytes(`0x${hex}`);
}

/** Reads an unsigned big-endian integer of any length (empty = 0). */
export function bytesToBigint(bytes: Uint8Array | undefined): bigint {
  if (!bytes || bytes.length === 0) return 0n;
  return BigInt(bytesToHex(bytes));
}

/** uint256 big-endian, left padded to 32 bytes (Solidity abi.encodePacked of uint256). */
export function be32(value: bigint): Uint8Array {
  if (value < 0n || value >= 1n << 256n) throw new RangeError(`value out of uint256 range: ${value}`);
  return hexToBytes(`0x${value.toString(16).padStart(64, '0')}`);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export { bytesToHex, hexToBytes };
