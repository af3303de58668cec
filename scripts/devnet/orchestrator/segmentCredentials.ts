// The checks of a /segment request's headers, in go-livepeer's order and with its status codes:
// Livepeer-Payment (402), then Livepeer-Segment: decoding, profiles, duration, the broadcaster's
// signature, capabilities, the auth token and session capacity (403).
import type { Http2ServerRequest } from 'node:http2';
import { keccak256 } from '../../../src/lib/keccak.ts';
import type { Address } from 'viem';
import { be32, concatBytes } from '../../../src/lib/bytes.ts';
import { errorMessage, GatewayError, HttpError } from '../../../src/lib/errors.ts';
import { capabilitiesCompatible, profilesFromSegData } from '../../../src/net/capabilities.ts';
import { profileIdHex } from '../../../src/pm/requestSignatures.ts';
import { verifyPersonalSignature } from '../../../src/pm/signer.ts';
import { decodeMessage, type AuthToken, type Capabilities, type Payment, type SegData, type VideoProfileMsg } from '../../../src/wire/lpRpc.ts';
import type { OrchestratorContext } from './context.ts';
import { paymentSender } from './payments.ts';

const MAX_SEGMENT_DURATION_MS = 300_000;

export interface SegmentCredentials {
  payment: Payment;
  seg: SegData;
  /** The checked auth token and the session it names. */
  authToken: AuthToken;
  sessionId: string;
  profiles: VideoProfileMsg[];
  sender: Address;
}

// Go's base64.StdEncoding is strict; Buffer.from is not.
function strictBase64(text: string): Buffer {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new GatewayError('illegal base64 data');
  return Buffer.from(text, 'base64');
}

/** A 32-byte value from a peer's bytes: left-padded, or its last 32 bytes. */
export function fixed32(b: Uint8Array | undefined): Uint8Array {
  const out = new Uint8Array(32);
  if (b) {
    const src = b.length > 32 ? b.subarray(b.length - 32) : b;
    out.set(src, 32 - src.length);
  }
  return out;
}

/** The name a rendition is stored and signed under. */
export function profileName(p: VideoProfileMsg): string {
  return p.name || `net_${p.width ?? 0}x${p.height ?? 0}_${p.bitrate ?? 0}`;
}

/** The bytes a broadcaster signs for a segment (docs/wire.md, segment signature), from what was decoded. */
function segFlatten(seg: SegData, profiles: readonly VideoProfileMsg[]): Uint8Array {
  const seq = seg.seq ?? 0n;
  return concatBytes(
    seg.manifestId ?? new Uint8Array(0),
    be32(seq < 0n ? -seq : seq),
    fixed32(seg.hash),
    new TextEncoder().encode(profiles.map((p) => profileIdHex(profileName(p))).join('')),
  );
}

function checkProfiles(profiles: readonly VideoProfileMsg[]): void {
  for (const p of profiles) {
    if (![0, 1].includes(p.format ?? 0)) throw new HttpError(403, 'unrecognized profile output format');
    if (![0, 1, 2, 3, 4].includes(p.profile ?? 0)) throw new HttpError(403, 'unrecognized encoder profile');
    if (![0, 1, 2, 3].includes(p.encoder ?? 0)) throw new HttpError(403, 'unrecognized video codec');
  }
}

function decodePayment(header: string): Payment {
  try {
    return decodeMessage('Payment', strictBase64(header));
  } catch (err) {
    throw new HttpError(402, `could not decode payment: ${errorMessage(err)}`);
  }
}

function decodeSegData(header: string): SegData {
  try {
    return decodeMessage('SegData', strictBase64(header));
  } catch (err) {
    const message = errorMessage(err);
    throw new HttpError(403, message.includes('base64') ? 'ErrorSegEncoding' : message);
  }
}

type CredentialContext = Pick<OrchestratorContext, 'onChain' | 'capabilities' | 'tokens' | 'sessions'>;

/** Decodes and checks both headers; throws an HttpError with go-livepeer's status and text. */
export function checkSegmentCredentials(ctx: CredentialContext, req: Http2ServerRequest): SegmentCredentials {
  const payment = decodePayment(String(req.headers['livepeer-payment'] ?? ''));
  const sender = paymentSender(payment);
  const seg = decodeSegData(String(req.headers['livepeer-segment'] ?? ''));
  const profiles = profilesFromSegData(seg);
  checkProfiles(profiles);
  const duration = seg.duration ?? 0;
  if (duration < 0 || duration > MAX_SEGMENT_DURATION_MS) throw new HttpError(403, 'invalid duration');
  if (ctx.onChain && !verifyPersonalSignature(sender, keccak256(segFlatten(seg, profiles)), seg.sig ?? new Uint8Array(0))) {
    throw new HttpError(403, 'ErrSegSig');
  }
  const jobCaps: Capabilities = seg.capabilities ?? { bitstring: [] };
  if (!capabilitiesCompatible(jobCaps, ctx.capabilities.current())) throw new HttpError(403, 'incompatible capabilities');
  const authToken = seg.authToken;
  if (!authToken) throw new HttpError(403, 'missing auth token');
  if (!ctx.tokens.valid(authToken)) throw new HttpError(403, 'invalid auth token');
  if (ctx.tokens.expired(authToken)) throw new HttpError(403, 'expired auth token');
  const sessionId = authToken.sessionId ?? '';
  if (ctx.sessions.full(sessionId)) throw new HttpError(403, 'OrchestratorCapped');
  return { payment, seg, authToken, sessionId, profiles, sender };
}
