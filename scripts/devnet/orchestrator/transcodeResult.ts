// Turning a transcoded segment into the TranscodeData a broadcaster gets: renditions stored and
// addressed by URL, the pixels billed for each, and the orchestrator's signature over their hashes.
import { keccak256 } from '../../../src/lib/keccak.ts';
import { concatBytes, hexToBytes } from '../../../src/lib/bytes.ts';
import type { TranscodedSegmentData, VideoProfileMsg } from '../../../src/wire/lpRpc.ts';
import type { OrchestratorContext } from './context.ts';
import { renditionPath } from './renditionRoute.ts';
import { profileName } from './segmentCredentials.ts';
import type { Rendition } from './transcode.ts';

const FORMAT_EXT: Record<number, string> = { 0: '.ts', 1: '.mp4' };

export interface PublishedRenditions {
  segments: TranscodedSegmentData[];
  /** URL paths as a client requests them, in profile order. */
  paths: string[];
  /** Output pixels billed (after any overbilling fault). */
  pixels: bigint;
}

/** Stores each rendition of segment `seq` and says where it is and how many pixels it bills. */
export function publishRenditions(
  ctx: Pick<OrchestratorContext, 'renditions' | 'faults' | 'uri'>,
  sessionId: string,
  seq: bigint,
  profiles: readonly VideoProfileMsg[],
  renditions: readonly Rendition[],
): PublishedRenditions {
  const out: PublishedRenditions = { segments: [], paths: [], pixels: 0n };
  renditions.forEach((r, i) => {
    const p = profiles[i]!;
    const file = `${seq}${FORMAT_EXT[p.format ?? 0] ?? '.ts'}`;
    ctx.renditions.put(sessionId, profileName(p), file, r.data);
    const billed = ctx.faults.billedPixels(r.pixels);
    const url = `${ctx.uri()}${renditionPath(sessionId, profileName(p), file)}`;
    out.segments.push({ url, pixels: billed });
    // As the broadcaster will request it (URL-normalised).
    out.paths.push(new URL(url).pathname);
    out.pixels += billed;
  });
  out.segments = ctx.faults.renditionList(out.segments);
  return out;
}

/** TranscodeData.sig: personal-sign over keccak256 of the renditions' keccak256 hashes (empty off-chain). */
export function signRenditions(ctx: Pick<OrchestratorContext, 'signer' | 'faults'>, renditions: readonly Rendition[]): Uint8Array {
  const signer = ctx.faults.resultSigner(ctx.signer);
  if (!signer) return new Uint8Array(0);
  return hexToBytes(signer.signHash(keccak256(concatBytes(...renditions.map((r) => r.hash ?? keccak256(r.data))))));
}
