// A devnet orchestrator a go-livepeer broadcaster can use: one TLS port carrying gRPC
// (GetOrchestrator, EndTranscodingSession, Ping) and HTTP (POST /segment, GET /stream/…),
// probabilistic micropayments checked against the devnet TicketBroker, ffmpeg transcoding,
// redemption of winning tickets, and fault switches for testing broadcasters.
// This file only puts the parts together; each part is its own module (see README.md).
import { pino } from 'pino';
import { zeroAddress, type Address } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import type { Logger } from '../../../src/lib/log.ts';
import { privateKeySigner } from '../../../src/pm/signer.ts';
import { AuthTokens } from './authToken.ts';
import { CapabilityProvider } from './capabilities.ts';
import { OrchestratorChain } from './chainView.ts';
import type { OrchestratorContext } from './context.ts';
import { FaultSwitches } from './faults.ts';
import { orchestratorRpcs } from './grpcService.ts';
import { resolveOptions, type OrchestratorOptions, type Settings } from './options.ts';
import { PaymentDesk } from './paymentDesk.ts';
import { Accounts } from './payments.ts';
import { Recipient } from './recipient.ts';
import { Redeemer } from './redeemer.ts';
import { RenditionStore } from './renditionStore.ts';
import { LOAD_MODE_CHAIN_TTL_MS, PrerenderedTranscoder, sharedPrerenderedTranscoder } from './loadMode.ts';
import { renditionRoute } from './renditionRoute.ts';
import { router, sendPlainText, type Route } from './router.ts';
import { segmentRoute } from './segmentRoute.ts';
import { TranscodeSessions } from './sessions.ts';
import { transcodeSegment } from './transcode.ts';
import { createStats, type OrchestratorStats } from './stats.ts';
import { listenTls, type TlsServer } from './tlsServer.ts';
import { ticketRecorder } from './ticketLog.ts';
import type { Capabilities } from '../../../src/wire/lpRpc.ts';
import { createAiWorker, type AiWorker } from './ai/worker.ts';

export type { OrchestratorFaults } from './faults.ts';
export { DEFAULT_MAX_SESSIONS, DEFAULT_TICKET_EV, ORCHESTRATOR_VERSION, type OrchestratorOptions } from './options.ts';
export type { OrchestratorStats, SessionCredit } from './stats.ts';

export interface RunningOrchestrator {
  /** https://host:port */
  uri: string;
  port: number;
  /** The orchestrator's account (the zero address off-chain without a key). */
  address: Address;
  stats: OrchestratorStats;
  /** The AI side, when the orchestrator serves AI models. */
  ai?: AiWorker;
  /** Resolves once every winning ticket received so far has been tried on chain. */
  redemptionsSettled(): Promise<void>;
  stop(): Promise<void>;
}

/** The AI pipelines and their outputs, after the video routes: whatever they do not take is a 404. */
function aiRoute(ai: AiWorker): Route {
  return {
    methods: ['GET', 'HEAD', 'POST'],
    path: /^\//,
    async handle(req, res, match) {
      if (await ai.handle(req, res, match.path)) return;
      req.resume();
      sendPlainText(res, 404, '404 page not found');
    },
  };
}

/** Forgetting expired nonces and idle balances. */
const HOUSEKEEPING_MS = 30_000;

interface Wiring {
  uri: () => string;
  shutdown: AbortSignal;
  onDie: () => void;
}

/** Every part of one orchestrator, connected; nothing is listening yet. */
function assemble(s: Settings, log: Logger, opts: Pick<OrchestratorOptions, 'privateKey' | 'ai'>, w: Wiring) {
  const signer = s.chain ? privateKeySigner(s.chain.privateKey) : undefined;
  const address: Address = signer ? signer.address : opts.privateKey ? privateKeyToAddress(opts.privateKey) : zeroAddress;
  // A load run's rounds do not change and its senders' funds change only by our own redemptions (which
  // drop the caches): chain reads can be kept longer, sparing the core the publishers need.
  const chainTtlMs = s.transcoding === 'prerendered' ? LOAD_MODE_CHAIN_TTL_MS : undefined;
  const chain = s.chain ? new OrchestratorChain(s.chain.rpcUrl, s.chain.contracts, address, chainTtlMs) : undefined;
  const recipient = chain
    ? new Recipient(address, chain, { ticketEV: s.ticketEV, redeemGas: s.redeemGas, maxFaceValue: s.maxFaceValue, hostile: s.faults.hostileTicketParams })
    : undefined;
  const accounts = new Accounts(recipient, chain, ticketRecorder(s.ticketLog));
  const stats = createStats(accounts);
  const redeemer = s.chain && chain && recipient ? new Redeemer(chain, recipient, s.chain.privateKey, log, stats.redemptions, s.initializeRounds) : undefined;
  const faults = new FaultSwitches(s.faults, log, w.onDie);
  const renditions = new RenditionStore();
  const tokens = new AuthTokens();
  const capabilities = new CapabilityProvider(s.version, s.maxSessions);
  const ai = opts.ai
    ? createAiWorker(opts.ai, {
        uri: w.uri,
        capabilities: () => capabilities.current(),
        onChain: s.chain !== undefined,
        ticketEV: s.ticketEV,
        tokens,
        accounts,
        onPayment: (o) => {
          stats.ticketsReceived += o.tickets;
          stats.winningTickets += o.winners.length;
          for (const w of o.winners) redeemer?.enqueue(w);
        },
        log,
        signal: w.shutdown,
      })
    : undefined;
  if (ai) capabilities.add(() => ai.contribution());
  const ctx: OrchestratorContext = {
    log,
    address,
    onChain: s.chain !== undefined,
    signer,
    uri: w.uri,
    basePrice: s.basePrice,
    tokens,
    capabilities,
    ...(ai ? { jobPrice: (request: Capabilities | undefined) => ai.priceFor(request) } : {}),
    recipient,
    accounts,
    payments: new PaymentDesk({ accounts, recipient, redeemer, stats, faults, ticketEV: s.ticketEV }),
    sessions: new TranscodeSessions(s.maxSessions, log, (id) => renditions.dropSession(id)),
    renditions,
    stats,
    faults,
    shutdown: w.shutdown,
    // the size fault transcodes the real bytes even in the load mode
    segmentBytesUnused: s.transcoding === 'prerendered' && !s.faults.renditionSize,
    transcode: transcoder(s, w.shutdown),
  };
  return { ctx, redeemer, ai };
}

function transcoder(s: Settings, shutdown: AbortSignal): OrchestratorContext['transcode'] {
  if (s.transcoding === 'prerendered') {
    const prerendered = s.loadModeCacheDir ? new PrerenderedTranscoder(s.loadModeCacheDir) : sharedPrerenderedTranscoder;
    return (_body, profiles, durationMs) => prerendered.transcode(durationMs, profiles);
  }
  return (body, profiles) => transcodeSegment(body, profiles, { signal: shutdown });
}

function logReady(ctx: OrchestratorContext, s: Settings): void {
  ctx.log.info(
    {
      event: 'ready',
      uri: ctx.uri(),
      address: ctx.address,
      mode: ctx.onChain ? 'on-chain' : 'off-chain',
      price: ctx.onChain ? `${s.price.pricePerUnit}/${s.price.pixelsPerUnit}` : undefined,
      ticketEV: ctx.onChain ? s.ticketEV.toString() : undefined,
      maxSessions: s.maxSessions,
      faults: ctx.faults.describe(),
    },
    'orchestrator ready',
  );
}

export async function startOrchestrator(opts: OrchestratorOptions = {}): Promise<RunningOrchestrator> {
  const settings = resolveOptions(opts);
  const log = opts.logger ?? pino({ level: opts.logLevel ?? 'info', base: { component: 'orchestrator' } });
  const shutdown = new AbortController();
  let server: TlsServer | undefined;
  let stopping: Promise<void> | undefined;
  const { ctx, redeemer, ai } = assemble(settings, log, opts, {
    uri: () => server?.uri ?? '',
    shutdown: shutdown.signal,
    onDie: opts.onDie ?? (() => void stop()),
  });

  // The route table: gRPC by method path, then HTTP routes in order.
  const routes: Route[] = [segmentRoute(ctx), renditionRoute(ctx), ...(ai ? [aiRoute(ai)] : [])];
  server = await listenTls(settings.host, settings.port, log, router(orchestratorRpcs(ctx), routes, log));
  const housekeeping = setInterval(() => {
    void ctx.recipient?.cleanupNonces().catch(() => {});
    ctx.accounts.all();
  }, HOUSEKEEPING_MS);
  housekeeping.unref();

  function stop(): Promise<void> {
    stopping ??= (async () => {
      shutdown.abort();
      redeemer?.stop();
      clearInterval(housekeeping);
      ctx.sessions.endAll('shutdown');
      await server?.close();
      log.info({ event: 'stopped', uri: ctx.uri() }, 'orchestrator stopped');
    })();
    return stopping;
  }

  logReady(ctx, settings);
  return {
    uri: server.uri,
    port: server.port,
    address: ctx.address,
    stats: ctx.stats,
    ...(ai ? { ai } : {}),
    redemptionsSettled: async () => {
      await redeemer?.idle();
    },
    stop,
  };
}
