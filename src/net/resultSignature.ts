// An orchestrator's signature over what it transcoded (TranscodeData.sig):
// personal-sign(keccak256(keccak256(rendition_1) ‖ … ‖ keccak256(rendition_n))), renditions in profile order.
import { keccak256 } from '../lib/keccak.ts';
import { keccak256Each } from '../lib/keccakLanes.ts';
import type { Address } from 'viem';
import { concatBytes } from '../lib/bytes.ts';
import { verifyPersonalSignature } from '../pm/signer.ts';

export function transcodeResultHash(renditions: readonly Uint8Array[]): Uint8Array {
  return keccak256(concatBytes(...keccak256Each(renditions)));
}

export function verifyTranscodeResult(renditions: readonly Uint8Array[], sig: Uint8Array, orchestrator: Address): boolean {
  return verifyPersonalSignature(orchestrator, transcodeResultHash(renditions), sig);
}
