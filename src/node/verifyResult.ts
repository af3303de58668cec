// -localVerify: before renditions are served, check that the orchestrator signed exactly these bytes
// and billed the pixels they really hold (go-livepeer's signature and pixel-count checks).
import { getAddress, type Address } from 'viem';
import { renditionsPixels } from '../media/pixels.ts';
import { ProbeTimeoutError } from '../media/probe.ts';
import type { OrchestratorInfo } from '../wire/lpRpc.ts';
import { verifyTranscodeResult } from '../net/resultSignature.ts';
import type { SubmitResult } from '../net/segment.ts';
import { bytesToHex } from '../lib/bytes.ts';
import { GatewayError } from '../lib/errors.ts';

/** A result that fails -localVerify: it is not used, and the segment goes to another orchestrator. */
export class VerificationError extends GatewayError {}

/** The address results must be signed by: OrchestratorInfo.address, else the ticket recipient. */
export function resultSigner(info: OrchestratorInfo): Address | undefined {
  const raw = info.address?.length === 20 ? info.address : info.ticketParams?.recipient;
  return raw?.length === 20 ? getAddress(bytesToHex(raw)) : undefined;
}

/**
 * Share of verified segments whose renditions are also fully decoded (-localVerifyDecodeFraction): the
 * pixel count itself comes from the bitstream; the sampled decode proves the pictures really decode.
 */
export const DEFAULT_VERIFY_DECODE_FRACTION = 0.05;

export interface Verified {
  /**
   * The sampled full decode, still running when the result is handed back (a sampled share of segments):
   * it rejects with VerificationError when the renditions do not decode to the pixels counted. It does
   * not hold the renditions back (docs/wire.md §8.7).
   */
  readonly decodeCheck?: Promise<DecodeCheckOutcome>;
}

/** 'timed out': this machine did not give the decode the core in time; nothing is known of the renditions. */
export type DecodeCheckOutcome = 'decoded' | 'timed out';

/**
 * Checks the signature and the billed pixels (counted from the bitstream) before the renditions are used;
 * starts the sampled full decode, which the caller follows.
 */
export async function verifyResult(
  result: SubmitResult,
  info: OrchestratorInfo,
  profileNames: readonly string[],
  decodeFraction = DEFAULT_VERIFY_DECODE_FRACTION,
): Promise<Verified> {
  const data = result.renditions.map((r) => r.data ?? Buffer.alloc(0));
  const signer = resultSigner(info);
  if (signer && info.ticketParams && !verifyTranscodeResult(data, result.sig, signer)) {
    throw new VerificationError(`transcoded segment is not signed by orchestrator ${signer}`);
  }
  // counted in-process; formats the bitstream reader does not cover are decoded here, as their count
  const pixels = await renditionsPixels(data, { decode: false, names: profileNames }).catch((err: Error) => {
    throw new VerificationError(`renditions cannot be decoded: ${err.message}`);
  });
  for (const [i, r] of result.renditions.entries()) {
    const counted = pixels[i]!;
    if (counted !== r.pixels) {
      throw new VerificationError(`rendition ${profileNames[i]}: orchestrator billed ${r.pixels} pixels, the segment holds ${counted}`);
    }
  }
  if (!(Math.random() < decodeFraction)) return {};
  const decodeCheck = renditionsPixels(data, { decode: true, names: profileNames }).then(
    (): DecodeCheckOutcome => 'decoded',
    (err: Error): DecodeCheckOutcome => {
      if (err instanceof ProbeTimeoutError) return 'timed out';
      throw new VerificationError(`renditions do not decode as counted: ${err.message}`);
    },
  );
  // handled from the start: the caller attaches its own handler once the renditions are published
  decodeCheck.catch(() => {});
  return { decodeCheck };
}
