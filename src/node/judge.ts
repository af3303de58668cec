// Is an orchestrator's GetOrchestrator reply usable for this stream? (go-livepeer's discovery filters)
import { getAddress, isAddressEqual, type Address } from 'viem';
import type { OrchSession } from '../discovery/sessionPool.ts';
import type { Candidate } from '../discovery/sources.ts';
import { capabilitiesCompatible } from '../net/capabilities.ts';
import type { Capabilities, OrchestratorInfo } from '../wire/lpRpc.ts';
import { bytesToHex } from '../lib/bytes.ts';
import type { Rat } from '../lib/rat.ts';
import { errorMessage } from '../lib/errors.ts';
import { infoPrice } from '../pm/segmentPayer.ts';
import type { SenderInfo } from '../pm/senderInfo.ts';
import { parseTicketParams } from '../pm/ticketParams.ts';
import { SenderValidationError, validateTicketParams, type ChainView, type PaymentLimits } from '../pm/validate.ts';

export interface JudgeContext {
  capabilities: Capabilities;
  blocklist: readonly Address[];
  /** on-chain: what ticket params are checked against; undefined = off-chain */
  payments?: { limits: PaymentLimits; senderInfo(): SenderInfo; chain(): ChainView };
}

/**
 * Why a reply was refused, for programs: 'ticket-params' is the orchestrator's ticket params (missing,
 * malformed or outside our limits); 'sender' is our own deposit or reserve, which no orchestrator can fix.
 */
export type RefusalCode = 'transcoder' | 'blocklisted' | 'capabilities' | 'auth-token' | 'price' | 'address' | 'ticket-params' | 'sender';

export type Verdict = { ok: true; session: OrchSession } | { ok: false; code: RefusalCode; reason: string };

const refuse = (code: RefusalCode, reason: string): Verdict => ({ ok: false, code, reason });

export function judgeOrchestrator(ctx: JudgeContext, candidate: Candidate, info: OrchestratorInfo, latencyMs: number): Verdict {
  if (!info.transcoder) return refuse('transcoder', 'reply has no transcoder URI');
  if (!URL.canParse(info.transcoder) || !['https:', 'http:'].includes(new URL(info.transcoder).protocol)) {
    return refuse('transcoder', `transcoder URI "${info.transcoder.slice(0, 100)}" is not http(s)`);
  }
  let address: Address | undefined;
  if (info.address?.length === 20) address = getAddress(bytesToHex(info.address));
  if (address && ctx.blocklist.some((b) => isAddressEqual(b, address!))) return refuse('blocklisted', `orchestrator ${address} is in -orchBlocklist`);
  if (!capabilitiesCompatible(ctx.capabilities, info.capabilities)) return refuse('capabilities', 'orchestrator lacks capabilities this stream needs');
  if (!info.authToken?.token?.length || !info.authToken.sessionId) return refuse('auth-token', 'reply has no auth token');

  let price: Rat;
  try {
    price = infoPrice(info); // throws on a negative price (int64 fields, either sign on the wire)
  } catch (err) {
    return refuse('price', errorMessage(err));
  }
  let recipient: Address | undefined;
  if (ctx.payments) {
    if (!address) return refuse('address', 'reply has no orchestrator address');
    if (!info.priceInfo) return refuse('price', 'reply has no price info');
    if (!info.priceInfo.pixelsPerUnit) return refuse('price', 'pixels per unit is 0');
    if (!info.ticketParams) return refuse('ticket-params', 'reply has no ticket params');
    try {
      const params = parseTicketParams(info.ticketParams);
      validateTicketParams(params, 1, ctx.payments.senderInfo(), ctx.payments.chain(), ctx.payments.limits);
      recipient = params.recipient;
    } catch (err) {
      return refuse(err instanceof SenderValidationError ? 'sender' : 'ticket-params', errorMessage(err));
    }
  }
  // selection weighs the ticket recipient's stake; off-chain the reply's own address is kept for logs
  const payee = recipient ?? address;
  return {
    ok: true,
    session: {
      uri: candidate.uri,
      transcoder: info.transcoder.replace(/\/+$/, ''),
      info,
      ...(payee ? { address: payee } : {}),
      stake: candidate.stake ?? 0n,
      price,
      initialPrice: price,
      trusted: candidate.score >= 1,
      latencyMs,
    },
  };
}
