// The SegData of an AI job (Livepeer-Segment header): no segment and no profiles, the manifest id
// names the balance the orchestrator credits, "<cap>_<model_id>".
import { keccak_256 } from '@noble/hashes/sha3';
import { hexToBytes } from '../lib/bytes.ts';
import { segDataSignature } from '../pm/requestSignatures.ts';
import type { Signer } from '../pm/signer.ts';
import type { AuthToken, Capabilities, SegData } from '../wire/lpRpc.ts';

/** keccak256 of no bytes: AI jobs hash an empty segment (the orchestrator does not compare it with the body). */
export const EMPTY_SEGMENT_HASH = keccak_256(new Uint8Array(0));

// As for video: the legacy profiles field carries this so very old orchestrators fail cleanly.
const LEGACY_PROFILES = new TextEncoder().encode('invalid');

/** `<cap>_<model_id>`: the AI job's manifest id and the orchestrator's balance key for it. */
export function aiManifestId(cap: number, modelId: string): string {
  return `${cap}_${modelId}`;
}

export interface AiSegDataInput {
  cap: number;
  modelId: string;
  /** the session's current OrchestratorInfo.auth_token, verbatim */
  authToken: AuthToken;
  capabilities: Capabilities;
  /** undefined = off-chain gateway: empty signature */
  signer?: Signer;
}

export function buildAiSegData(input: AiSegDataInput): SegData {
  return buildEmptySegData(aiManifestId(input.cap, input.modelId), input.authToken, input.capabilities, input.signer);
}

/**
 * Credentials with no segment behind them (AI jobs, live-payment calls): seq 0, the hash of no bytes, no
 * profiles. `manifestId` names the balance the orchestrator credits.
 */
export function buildEmptySegData(manifestId: string, authToken: AuthToken, capabilities: Capabilities | undefined, signer?: Signer): SegData {
  const seg: SegData = {
    manifestId: new TextEncoder().encode(manifestId),
    seq: 0n,
    hash: EMPTY_SEGMENT_HASH,
    profiles: LEGACY_PROFILES,
    sig: signer ? hexToBytes(segDataSignature(signer, { manifestId, seq: 0n, hash: EMPTY_SEGMENT_HASH, profileNames: [] })) : new Uint8Array(0),
    duration: 0,
    authToken,
  };
  if (capabilities) seg.capabilities = capabilities;
  return seg;
}
