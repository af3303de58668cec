// -localVerify: before renditions are served, check that the orchestrator signed exactly these bytes
// and billed the pixels they really hold (go-livepeer's signature and pixel-count checks).
import { getAddress, type Address } from 'viem';
import { renditionsPixels } from '../media/pixels.ts';
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

/** Resolves true when the renditions were also fully decoded (the sampled share), false when counted only. */
export async function verifyResult(
  result: SubmitResult,
  info: OrchestratorInfo,
  profileNames: readonly string[],
  decodeFraction = DEFAULT_VERIFY_DECODE_FRACTION,
): Promise<boolean> {
  const data = result.renditions.map((r) => r.data ?? Buffer.alloc(0));
  const signer = resultSigner(info);
  if (signer && info.ticketParams && !verifyTranscodeResult(data, result.sig, signer)) {
    throw new VerificationError(`transcoded segment is not signed by orchestrator ${signer}`);
  }
  const decode = Math.random() < decodeFraction;
  const pixels = await renditionsPixels(data, { decode, names: profileNames }).catch((err: Error) => {
    throw new VerificationError(`renditions cannot be decoded: ${err.message}`);
  });
  for (const [i, r] of result.renditions.entries()) {
    const decoded = pixels[i]!;
    if (decoded !== r.pixels) {
      throw new VerificationError(`rendition ${profileNames[i]}: orchestrator billed ${r.pixels} pixels, the segment holds ${decoded}`);
    }
  }
  return decode;
}
