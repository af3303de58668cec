// The net.Orchestrator gRPC service a broadcaster calls: GetOrchestrator (signed request ⇒ price,
// ticket params and a session token), EndTranscodingSession and Ping.
import { keccak256 } from '../../../src/lib/keccak.ts';
import { hexToBytes } from '../../../src/lib/bytes.ts';
import { errorMessage } from '../../../src/lib/errors.ts';
import { verifyPersonalSignature } from '../../../src/pm/signer.ts';
import { decodeMessage, encodeMessage } from '../../../src/wire/lpRpc.ts';
import type { OrchestratorContext } from './context.ts';
import { RpcFailure, type UnaryHandler } from './grpcUnary.ts';
import { orchestratorInfo } from './orchestratorInfo.ts';
import { paymentSender } from './payments.ts';
import { InsufficientReserveError } from './recipient.ts';

async function getOrchestrator(ctx: OrchestratorContext, body: Uint8Array): Promise<Uint8Array> {
  const req = decodeMessage('OrchestratorRequest', body);
  const sender = paymentSender({ sender: req.address ?? new Uint8Array(0) });
  if (ctx.onChain) {
    const msg = keccak256(new TextEncoder().encode(sender));
    if (!verifyPersonalSignature(sender, msg, req.sig ?? new Uint8Array(0))) {
      throw new RpcFailure('Invalid orchestrator request: orchestrator req sig check failed');
    }
  }
  if (ctx.sessions.full()) throw new RpcFailure('Invalid orchestrator request: OrchestratorCapped');
  try {
    return encodeMessage('OrchestratorInfo', await orchestratorInfo(ctx, sender, ctx.tokens.issue(), undefined, ctx.jobPrice?.(req.capabilities)));
  } catch (err) {
    if (err instanceof InsufficientReserveError) ctx.log.warn({ event: 'params-refused', sender, reason: err.detail }, 'no ticket params for this sender');
    throw new RpcFailure(errorMessage(err));
  }
}

async function endTranscodingSession(ctx: OrchestratorContext, body: Uint8Array): Promise<Uint8Array> {
  const req = decodeMessage('EndTranscodingSessionRequest', body);
  if (!req.authToken || !ctx.tokens.valid(req.authToken)) throw new RpcFailure('Invalid auth token');
  ctx.sessions.end(req.authToken.sessionId ?? '', 'ended by broadcaster');
  ctx.stats.sessionsEndedByBroadcaster++;
  return encodeMessage('EndTranscodingSessionResponse', {});
}

/** Ping: the orchestrator signs keccak256 of the value (nothing to sign with off-chain). */
async function ping(ctx: OrchestratorContext, body: Uint8Array): Promise<Uint8Array> {
  const req = decodeMessage('PingPong', body);
  const value = ctx.signer ? hexToBytes(ctx.signer.signHash(keccak256(req.value ?? new Uint8Array(0)))) : new Uint8Array(0);
  return encodeMessage('PingPong', { value });
}

/** The unary RPC table, by gRPC path. */
export function orchestratorRpcs(ctx: OrchestratorContext): Record<string, UnaryHandler> {
  return {
    '/net.Orchestrator/GetOrchestrator': (body) => getOrchestrator(ctx, body),
    '/net.Orchestrator/EndTranscodingSession': (body) => endTranscodingSession(ctx, body),
    '/net.Orchestrator/Ping': (body) => ping(ctx, body),
  };
}
