// Signatures that authenticate the broadcaster to orchestrators (not tickets):
// the OrchestratorRequest signature and the per-segment SegData signature.
import { keccak256 } from '../lib/keccak.ts';
import { getAddress, type Hex } from 'viem';
import { be32, bytesToHex, concatBytes } from '../lib/bytes.ts';
import type { Signer } from './signer.ts';

const utf8 = new TextEncoder();

/** personal-sign(keccak256(ASCII of the EIP-55 address with 0x)). Computed once at start-up. */
export function orchestratorRequestSignature(signer: Signer): Hex {
  return signer.signHash(keccak256(utf8.encode(getAddress(signer.address))));
}

/** First 4 bytes of keccak256(name), as lower-case hex text (8 characters). */
export function profileIdHex(name: string): string {
  return bytesToHex(keccak256(utf8.encode(name)).subarray(0, 4)).slice(2);
}

export interface SegDataFields {
  manifestId: string;
  seq: bigint;
  /** keccak256 of the segment bytes, 32 bytes */
  hash: Uint8Array;
  /** output profile names, in the order they are sent */
  profileNames: readonly string[];
}

/** manifestId ‖ uint256(seq) ‖ hash ‖ ASCII(hex of each profile id) — what the orchestrator re-derives. */
export function segDataPreimage(f: SegDataFields): Uint8Array {
  if (f.hash.length !== 32) throw new RangeError('segment hash must be 32 bytes');
  return concatBytes(utf8.encode(f.manifestId), be32(f.seq), f.hash, utf8.encode(f.profileNames.map(profileIdHex).join('')));
}

export function segDataSignature(signer: Signer, f: SegDataFields): Hex {
  return signer.signHash(keccak256(segDataPreimage(f)));
}
