// The library surface, for embedding the gateway (or its byte-exact parts) in another Node program.
export { buildNodeConfig, type NodeConfig } from './cli/nodeConfig.ts';
export { startNode, type RunningNode } from './node/run.ts';
export { startGateway, type Gateway, type GatewayOptions } from './node/gateway.ts';
export { createLogger } from './node/logger.ts';

export { ticketHash, signTicket, isWinningTicket, recipientRandHash, ticketAuxData, toContractTicket, type Ticket } from './pm/ticket.ts';
export { privateKeySigner, recoverPersonalSigner, verifyPersonalSignature, type Signer } from './pm/signer.ts';
export { orchestratorRequestSignature, segDataSignature } from './pm/requestSignatures.ts';
export { ticketEV, estimateFee, MAX_WIN_PROB } from './pm/ev.ts';
export { TicketSender } from './pm/sender.ts';
export { SegmentPayer } from './pm/segmentPayer.ts';
export { buildPayment } from './pm/payment.ts';
export { validateTicketParams, TicketParamsError, SenderValidationError } from './pm/validate.ts';

export { encodeMessage, decodeMessage, WireDecodeError, type OrchestratorInfo, type Payment, type SegData, type TicketParams } from './wire/lpRpc.ts';
export { getOrchestrator, endTranscodingSession, OrchestratorRpcError } from './net/grpc.ts';
export { submitSegment, SegmentError } from './net/segment.ts';
export { buildSegData } from './net/segData.ts';

export { decryptKeystore, encryptKeystore, unlockAccount } from './eth/keystore.ts';
export { resolveNetwork } from './eth/networks.ts';
