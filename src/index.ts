// The library surface, for programs that embed the gateway: start one from a configuration object,
// follow its streams, segments and payments on the event feed, stop it. The byte-exact parts
// (tickets, signatures, wire messages, orchestrator calls, keystores) are exported below for
// programs that build their own flows. See README "Using it as a library".
import { Writable } from 'node:stream';
import type { Address } from 'viem';
import { nodeConfigFromObject, type GatewayConfig } from './cli/configObject.ts';
import type { NodeConfig } from './node/config.ts';
import type { GatewayEventBus } from './node/events.ts';
import type { GatewayStatus } from './node/gateway.ts';
import { createLogger, type Logger } from './node/logger.ts';
import { startNode } from './node/run.ts';

export { ConfigError, CONFIG_OPTION_NAMES, nodeConfigFromObject, type GatewayConfig } from './cli/configObject.ts';
export type { NodeConfig } from './node/config.ts';
export { GatewayEventBus, type GatewayEvents, type GatewayEventName } from './node/events.ts';
export type { GatewayStatus } from './node/gateway.ts';
export { createLogger } from './node/logger.ts';
export { GatewayError, HttpError } from './lib/errors.ts';
export { silentLogger, type Logger } from './lib/log.ts';

export interface StartOptions {
  /** Where logs go (a pino logger). Default: JSON lines on stderr at the `v` verbosity, as the binary logs. */
  log?: Logger;
}

/** A gateway running inside this process. */
export interface RunningGateway {
  /** `rtmp://host:port`: publish to `<rtmpUrl>/live/<name>` */
  readonly rtmpUrl: string;
  /** `http://host:port`: HLS at `/stream/<name>.m3u8`, HTTP push at `/live/<name>/<seq>.ts` */
  readonly httpUrl: string;
  /** `http://host:port` of the control API (what `livepeer_cli` talks to) */
  readonly controlUrl: string;
  /** the gateway's account on-chain; undefined off-chain */
  readonly address: Address | undefined;
  /** the configuration in force, every default filled in */
  readonly config: NodeConfig;
  /** stream, segment, payment and orchestrator events (`events.on('stream.started', …)`, `events.onAny(…)`) */
  readonly events: GatewayEventBus;
  /** what `/status` on the control API shows: streams, orchestrator pool, ledger */
  status(): Promise<GatewayStatus>;
  /** Refuses new streams, lets segments in flight finish, ends every stream, closes every listener. Safe to call twice. */
  stop(): Promise<void>;
}

const discard = (): Writable =>
  new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });

/**
 * Starts a gateway: listeners, orchestrator discovery and, on-chain, the account, rounds watcher and
 * payments. Options are the flags by name, with the same defaults; a bad option throws a ConfigError
 * before anything starts, a start-up failure stops whatever had started before it throws.
 */
export async function startGateway(config: GatewayConfig = {}, opts: StartOptions = {}): Promise<RunningGateway> {
  const nodeConfig = nodeConfigFromObject(config);
  const log = opts.log ?? createLogger(nodeConfig.verbosity, process.stderr, nodeConfig.logFormat);
  const node = await startNode(nodeConfig, log, discard());
  let stopping: Promise<void> | undefined;
  return {
    rtmpUrl: node.gateway.rtmpUrl,
    httpUrl: node.gateway.httpUrl,
    controlUrl: node.controlUrl,
    address: node.chain?.address,
    config: nodeConfig,
    events: node.gateway.events,
    status: () => node.gateway.status(),
    stop() {
      stopping ??= node.stop();
      return stopping;
    },
  };
}

// ---- the byte-exact parts

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
