// Is an orchestrator's GetOrchestrator reply usable for this stream? (go-livepeer's discovery filters)
import { getAddress, isAddressEqual, type Address } from 'viem';
import type { Evaluation } from '../discovery/sessionPool.ts';
import type { Candidate } from '../discovery/sources.ts';
import { capabilitiesCompatible } from '../net/capabilities.ts';
import type { Capabilities, OrchestratorInfo } from '../wire/lpRpc.ts';
import { bytesToHex } from '../lib/bytes.ts';
import { infoPrice } from '../pm/segmentPayer.ts';
import type { SenderInfo } from '../pm/senderInfo.ts';
import { parseTicketParams } from '../pm/ticketParams.ts';
import { validateTicketParams, type ChainView, type PaymentLimits } from '../pm/validate.ts';

export interface JudgeContext {
  capabilities: Capabilities;
  blocklist: readonly Address[];
  /** on-chain: what ticket params are checked against; undefined = off-chain */
  payments?: { limits: PaymentLimits; senderInfo(): SenderInfo; chain(): ChainView };
}

export function judgeOrchestrator(ctx: JudgeContext, candidate: Candidate, info: OrchestratorInfo, latencyMs: number): Evaluation {
  if (!info.transcoder) return { ok: false, reason: 'reply has no transcoder URI' };
  let transcoder: URL;
  try {
    transcoder = new URL(info.transcoder);
    if (transcoder.protocol !== 'https:' && transcoder.protocol !== 'http:') throw new Error();
  } catch {
    return { ok: false, reason: `transcoder URI "${info.transcoder.slice(0, 100)}" is not http(s)` };
  }
  let address: Address | undefined;
  if (info.address?.length === 20) address = getAddress(bytesToHex(info.address));
  if (address && ctx.blocklist.some((b) => isAddressEqual(b, address!))) return { ok: false, reason: `orchestrator ${address} is in -orchBlocklist` };
  if (!capabilitiesCompatible(ctx.capabilities, info.capabilities)) return { ok: false, reason: 'orchestrator lacks capabilities this stream needs' };
  if (!info.authToken?.token?.length || !info.authToken.sessionId) return { ok: false, reason: 'reply has no auth token' };

  let price: ReturnType<typeof infoPrice>;
  try {
    price = infoPrice(info);
  } catch {
    return { ok: false, reason: 'price info with pixelsPerUnit 0' };
  }
  if (price.num < 0n) return { ok: false, reason: 'negative price' };
  let recipient: Address | undefined;
  if (ctx.payments) {
    if (!address) return { ok: false, reason: 'reply has no orchestrator address' };
    if (!info.priceInfo) return { ok: false, reason: 'reply has no price info' };
    if (!info.priceInfo.pixelsPerUnit) return { ok: false, reason: 'pixels per unit is 0' };
    if (!info.ticketParams) return { ok: false, reason: 'reply has no ticket params' };
    try {
      const params = parseTicketParams(info.ticketParams);
      validateTicketParams(params, 1, ctx.payments.senderInfo(), ctx.payments.chain(), ctx.payments.limits);
      recipient = params.recipient;
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
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
