// The OrchestratorInfo a sender gets (GetOrchestrator and every TranscodeResult): where to send work,
// what it costs, fresh ticket params at that price, the capabilities and the session's credentials.
import type { Address } from 'viem';
import { hexToBytes } from '../../../src/lib/bytes.ts';
import type { Rat } from '../../../src/lib/rat.ts';
import type { AuthToken, OrchestratorInfo } from '../../../src/wire/lpRpc.ts';
import type { OrchestratorContext } from './context.ts';

type InfoContext = Pick<OrchestratorContext, 'uri' | 'address' | 'capabilities' | 'recipient' | 'accounts' | 'basePrice'>;

/** The price for `sender`: the one its session pinned at its first payment, else the configured one. */
export function quotedPrice(ctx: Pick<OrchestratorContext, 'accounts' | 'basePrice'>, sender: Address, sessionId: string | undefined): Rat {
  return (sessionId && ctx.accounts.fixedPrice(sender, sessionId)) || ctx.basePrice;
}

/** OrchestratorInfo for `sender`; with `sessionId`, at that session's pinned price; with `jobPrice`, at the price of the (AI) job asked about. */
export async function orchestratorInfo(ctx: InfoContext, sender: Address, authToken: AuthToken, sessionId?: string, jobPrice?: Rat): Promise<OrchestratorInfo> {
  const info: OrchestratorInfo = { transcoder: ctx.uri(), address: hexToBytes(ctx.address), capabilities: ctx.capabilities.current(), authToken };
  if (ctx.recipient) {
    const price = jobPrice ?? quotedPrice(ctx, sender, sessionId);
    info.priceInfo = { pricePerUnit: price.num, pixelsPerUnit: price.den };
    info.ticketParams = await ctx.recipient.ticketParams(sender, price);
  }
  return info;
}
