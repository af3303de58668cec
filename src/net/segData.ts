// Builds the SegData (Livepeer-Segment header) for one segment: hash, signature over the flattened
// credentials, profiles in the list field the orchestrator expects, capabilities and auth token.
import { keccak256 } from '../lib/keccak.ts';
import { hexToBytes } from 'viem';
import { segDataSignature } from '../pm/requestSignatures.ts';
import type { Signer } from '../pm/signer.ts';
import { profilesToWire, type WireVideoProfile } from './capabilities.ts';
import type { AuthToken, Capabilities, SegData } from '../wire/lpRpc.ts';

export interface SegDataInput {
  /** the broadcaster's stream ManifestID (not the orchestrator session id) */
  manifestId: string;
  seq: bigint;
  /** the exact bytes the orchestrator will receive */
  segment: Uint8Array;
  /** keccak-256 of `segment`, when the caller has it already (the segmenter hashes while it writes) */
  segmentHash?: Uint8Array;
  profiles: readonly WireVideoProfile[];
  durationMs: number;
  /** the session's current OrchestratorInfo.auth_token, verbatim */
  authToken: AuthToken;
  /** the stream's job capabilities */
  capabilities: Capabilities;
  /** undefined = off-chain broadcaster: empty signature */
  signer?: Signer;
  calcPerceptualHash?: boolean;
  segmentParameters?: { fromMs: bigint; toMs: bigint };
  forceSessionReinit?: boolean;
}

// go-livepeer fills the legacy profiles field with this so that orchestrators older than fullProfiles fail.
const LEGACY_PROFILES = new TextEncoder().encode('invalid');

export function buildSegData(input: SegDataInput): SegData {
  const hash = input.segmentHash ?? keccak256(input.segment);
  const { field, profiles } = profilesToWire(input.profiles);
  const seg: SegData = {
    manifestId: new TextEncoder().encode(input.manifestId),
    seq: input.seq,
    hash,
    profiles: LEGACY_PROFILES,
    sig: input.signer
      ? hexToBytes(
          segDataSignature(input.signer, {
            manifestId: input.manifestId,
            seq: input.seq,
            hash,
            profileNames: input.profiles.map((p) => p.name),
          }),
        )
      : new Uint8Array(0),
    duration: Math.max(0, Math.round(input.durationMs)),
    capabilities: input.capabilities,
    authToken: input.authToken,
    [field]: profiles,
  };
  if (input.calcPerceptualHash) seg.calcPerceptualHash = true;
  if (input.segmentParameters) seg.segmentParameters = { from: input.segmentParameters.fromMs, to: input.segmentParameters.toMs };
  if (input.forceSessionReinit) seg.ForceSessionReinit = true;
  return seg;
}
