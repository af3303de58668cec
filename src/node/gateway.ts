// The gateway: the only place that wires the stages together.
//   ingest (RTMP, HTTP push) → stream registry → stream lifecycle → runner (session pool, pm, net) → HLS
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { CandidateSource } from '../discovery/sources.ts';
import { createPushRoute } from '../ingest/push.ts';
import { startRtmpServer, type RtmpServer } from '../ingest/rtmp.ts';
import { PUSH_IDLE_TIMEOUT_MS, StreamRegistry } from '../ingest/streamRegistry.ts';
import type { HttpRoute } from '../lib/http.ts';
import type { Logger } from '../lib/log.ts';
import { closeSegmentConnections } from '../net/segment.ts';
import { createHlsRoute, HlsStore } from '../server/hls.ts';
import { startHttpListener } from '../server/http.ts';
import { createMetrics, type GatewayMetrics } from '../server/metrics.ts';
import { Ledger } from '../store/ledger.ts';
import { PaidLosses } from './paidLosses.ts';
import type { AiFace } from '../ai/face.ts';
import { createAiGateway } from './aiGateway.ts';
import { BroadcastConfig } from './broadcastConfig.ts';
import type { ChainServices } from './chain.ts';
import type { NodeConfig } from './config.ts';
import { GatewayEventBus } from './events.ts';
import type { KeylessPayments } from './keyless.ts';
import { attachEventsWebhook, RecentEvents } from './eventOutputs.ts';
import type { EventsWebhook } from '../server/eventsWebhook.ts';
import { SpendMeter, watchDeposit } from './spend.ts';
import { startGauges } from './gauges.ts';
import { candidateSource, orchestratorAccess } from './orchestrators.ts';
import { transcodePushSegment } from './pushTranscode.ts';
import { pumpRtmpStream } from './rtmpPump.ts';
import { GATEWAY_VERSION, gatewayStatus, type GatewayStatus } from './status.ts';
import type { StreamRunner } from './stream.ts';
import { StreamLifecycle, type StreamContext } from './streams.ts';
import { NodeTenancy } from './tenancy.ts';
import { DrainGate } from './drain.ts';
import { openObjectStores } from './objectStores.ts';
import { AiMediaStore } from '../ai/mediaStore.ts';
import { prepareDecode } from '../media/probe.ts';
import { startFfmpegLauncher, stopSpareFfmpegs } from '../media/spareFfmpeg.ts';
import { GatewayError } from '../lib/errors.ts';
import type { StateStore } from '../store/stateStore.ts';

export { GATEWAY_VERSION, type GatewayStatus } from './status.ts';

export interface GatewayOptions {
  config: NodeConfig;
  log: Logger;
  /** on-chain services (keys, payments, chain pool); undefined off-chain */
  chain?: ChainServices;
  /** a keyless gateway: payments through a remote signer */
  keyless?: KeylessPayments;
  /** shared state (keys, limits, usage); needed with -apiKeys optional|required */
  store?: StateStore;
}

export interface Gateway {
  readonly rtmpUrl: string;
  readonly httpUrl: string;
  readonly metrics: GatewayMetrics;
  readonly ledger: Ledger;
  readonly hls: HlsStore;
  readonly candidateSource: CandidateSource | undefined;
  /** max price and default profiles, changeable at run time */
  readonly broadcast: BroadcastConfig;
  /** what happens to streams, segments, payments and orchestrators, as it happens */
  readonly events: GatewayEventBus;
  /** the AI routes (batch pipelines, OpenAI front) */
  readonly ai: AiFace;
  /** API keys, limits and usage; undefined with -apiKeys off */
  readonly tenancy: NodeTenancy | undefined;
  /** the last events of the feed (dashboard) */
  readonly recentEvents: RecentEvents;
  /** ticket expected value sent over the last hour, and the deposit's runway at that pace */
  readonly spend: SpendMeter;
  /** -eventsWebhookUrl's sender (its delivery counters), when set */
  readonly webhook: EventsWebhook | undefined;
  status(): Promise<GatewayStatus>;
  /** the stream runner of a manifest, live or still finishing (tests, control API) */
  stream(manifestId: string): StreamRunner | undefined;
  stop(): Promise<void>;
}

/** How long a stopping gateway lets running HTTP requests (AI jobs, pushed segments) and the streams' last segments finish. */
export const DRAIN_BOUND_MS = 8_000;
/** After the cut: the failed attempts' records and the streams' session ends (each bounded itself). */
const CUT_OFF_BOUND_MS = 1_500;
/** Orchestrator connections left once the streams are done: requests on them (none expected) get this long. */
const CLOSE_GRACE_MS = 500;

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const { config, log, chain, keyless } = opts;
  await mkdir(config.datadir, { recursive: true, mode: 0o755 });
  const events = new GatewayEventBus((event, err) => log.error({ err, event }, 'event listener failed'));
  const recentEvents = new RecentEvents(events);
  const spend = new SpendMeter(events);
  const webhook = config.eventsWebhook ? attachEventsWebhook(events, config.eventsWebhook, log) : undefined;
  const stopDepositWatch = chain ? watchDeposit(chain, spend, events) : () => {};
  const metrics = createMetrics(`${chain?.address ?? 'offchain'}-${hostname()}`);
  metrics.maxSessions.set(config.maxSessions);
  const broadcast = new BroadcastConfig(config.maxPrice, config.profiles, config.transcodingOptions, () => chain?.usdPerEth?.());
  const stopGauges = startGauges(metrics, broadcast, chain);
  // the ffmpeg launcher forked now, while this process is small: probes of pushed media and AI inputs,
  // and -localVerify's sampled decode, start their ffprobe and ffmpeg from it
  startFfmpegLauncher();
  // -localVerify's sampled decode finds its ffmpeg started (one per rendition count; the default profiles' now)
  if (config.localVerify && config.localVerifyDecodeFraction > 0) prepareDecode(config.profiles.length);
  const ledger = new Ledger(config.datadir);
  await ledger.open();
  const hls = new HlsStore({ maxBytesPerStream: config.hlsMaxBytesPerStream });
  const objectStores = await openObjectStores(config, hls, log);
  const media = new AiMediaStore(objectStores.media ? { mirror: objectStores.media } : {});
  if (config.apiKeys.mode !== 'off' && !opts.store) throw new GatewayError('-apiKeys optional|required needs the state store: start the node with startNode()');
  const tenancy =
    config.apiKeys.mode !== 'off' && opts.store
      ? new NodeTenancy(config, opts.store, log.child({ component: 'tenancy' }), chain ? () => chain.ethUsdQuote?.() : undefined)
      : undefined;
  const source = candidateSource(config, chain, log);
  if (!source) log.warn('No orchestrator specified; transcoding will not happen');

  const losses = new PaidLosses();
  const { streams, registry } = wireStreams(config, log, { chain, keyless, source, broadcast, metrics, events, hls, ledger, tenancy, losses });
  trackMapSizes(metrics, { streams, registry, hls, losses, chain, tenancy });
  // A listener that cannot start (port taken) leaves nothing running behind it.
  const abandon = async (err: unknown, started?: RtmpServer): Promise<never> => {
    stopGauges();
    stopDepositWatch();
    webhook?.close();
    await started?.close();
    registry.close('gateway failed to start');
    tenancy?.close();
    await ledger.close();
    await objectStores.close();
    throw err;
  };
  const rtmp = await startRtmpServer({ registry, host: config.rtmpAddr.host, port: config.rtmpAddr.port, log: log.child({ component: 'rtmp' }) }).catch(
    (err: unknown) => abandon(err),
  );
  const ai = createAiGateway({
    config,
    log,
    ...(chain ? { chain } : {}),
    ...(keyless ? { payer: keyless.aiPayer, identity: keyless.identity } : {}),
    source,
    ledger,
    broadcast,
    version: GATEWAY_VERSION,
    ...(tenancy ? { charge: (r) => tenancy.chargeAi(r), wrapPayer: (p) => tenancy.wrapAiPayer(p) } : {}),
    media,
  });
  const pushRoute = (): HttpRoute => {
    const route = createPushRoute({
      registry,
      transcode: (seg) => transcodePushSegment(streams.of(seg.stream), seg),
      maxSegmentBytes: config.httpIngestMaxBytes,
      maxConcurrent: config.httpIngestMaxConcurrent,
      log: log.child({ component: 'push' }),
    });
    return tenancy ? tenancy.guardPush(route, (urlId) => registry.pushStream(urlId) !== undefined) : route;
  };
  const gate = new DrainGate();
  // The faces on -httpAddr, tried in order.
  const faces: HttpRoute[] = [
    tenancy ? tenancy.guardAi(ai.route) : ai.route,
    createHlsRoute(hls, { currentManifest: config.currentManifest }),
    ...(config.httpIngest ? [pushRoute()] : []),
  ];
  const routes = faces.map((r) => gate.wrap(r));
  const http = await startHttpListener({
    host: config.httpAddr.host,
    port: config.httpAddr.port,
    log: log.child({ component: 'http' }),
    routes,
    healthy: () => !gate.draining,
  }).catch((err: unknown) => abandon(err, rtmp));
  if (config.httpIngestNote) log.warn(config.httpIngestNote);

  let stopped = false;
  return {
    rtmpUrl: rtmp.url,
    httpUrl: http.url,
    metrics,
    ledger,
    hls,
    candidateSource: source,
    broadcast,
    events,
    ai,
    tenancy,
    recentEvents,
    spend,
    webhook,
    status: async () => {
      const status = await gatewayStatus(config.network.name, streams.all(), ledger, chain, ai, spend, losses);
      const stores = objectStores.status();
      return stores ? { ...status, ObjectStores: stores } : status;
    },
    stream: (mid) => streams.find(mid)?.runner,
    async stop() {
      if (stopped) return;
      stopped = true;
      stopGauges();
      // new jobs and streams are refused from here; running requests and the streams' last segments get
      // a bounded time to finish
      const deadline = Date.now() + DRAIN_BOUND_MS;
      const drained = gate.drain(DRAIN_BOUND_MS);
      await rtmp.close();
      registry.close('gateway shutting down');
      if (!(await drained)) log.warn({ running: gate.inFlight }, `requests still running after ${DRAIN_BOUND_MS / 1000} s are cut off`);
      if (!(await streams.drain(deadline - Date.now()))) {
        // Past the bound, segments still at orchestrators are cut off: no further attempt starts, and the
        // connections are dropped, so each open attempt fails now and its tickets are recorded as sent.
        log.warn({ ending: streams.size.ending }, `segments still at orchestrators after ${DRAIN_BOUND_MS / 1000} s are cut off`);
        streams.cutOff();
        await closeSegmentConnections({ graceMs: 0 });
        if (!(await streams.drain(CUT_OFF_BOUND_MS))) log.error({ ending: streams.size.ending }, 'streams still ending after their segments were cut off');
      }
      await http.close();
      await closeSegmentConnections({ graceMs: CLOSE_GRACE_MS });
      // the drained streams' last segments and playlists get a bounded moment to reach the store
      await objectStores.close();
      tenancy?.close();
      await ledger.close();
      stopSpareFfmpegs();
      stopDepositWatch();
      // last: the stream.ended events of the drain above get a moment to go out; the rest is dropped
      await webhook?.flush(2000);
      webhook?.close();
    },
  };
}

/** The per-stream, per-session and per-peer maps an operator (and the hostile tests) can watch on /metrics. */
function trackMapSizes(
  metrics: GatewayMetrics,
  parts: Pick<StreamParts, 'hls' | 'losses' | 'chain' | 'tenancy'> & { streams: StreamLifecycle; registry: StreamRegistry<StreamContext> },
): void {
  const { streams, registry, hls, losses, chain, tenancy } = parts;
  metrics.trackEntries('streams', () => streams.size.live);
  metrics.trackEntries('streams_ending', () => streams.size.ending);
  metrics.trackEntries('ingest_streams', () => registry.size);
  metrics.trackEntries('push_aliases', () => registry.aliases);
  metrics.trackEntries('push_authorizing', () => registry.pending);
  metrics.trackEntries('hls_streams', () => hls.size);
  metrics.trackEntries('paid_losses', () => losses.size);
  if (chain) {
    metrics.trackEntries('session_balances', () => chain.payer.balances.size);
    metrics.trackEntries('ticket_nonces', () => chain.payer.ticketParamsTracked);
    metrics.trackEntries('tickets_signed_ahead', () => chain.payer.ticketsSignedAhead);
  }
  if (tenancy) metrics.trackEntries('tenancy_streams', () => tenancy.streamCount);
  metrics.trackHlsBytes(() => hls.bytes());
}

interface StreamParts {
  chain: ChainServices | undefined;
  keyless: KeylessPayments | undefined;
  source: CandidateSource | undefined;
  broadcast: BroadcastConfig;
  metrics: GatewayMetrics;
  events: GatewayEventBus;
  hls: HlsStore;
  ledger: Ledger;
  tenancy: NodeTenancy | undefined;
  losses: PaidLosses;
}

/** The ingest side (stream registry) and the node side (stream lifecycle), each calling the other's hooks. */
function wireStreams(config: NodeConfig, log: Logger, parts: StreamParts): { streams: StreamLifecycle; registry: StreamRegistry<StreamContext> } {
  const { chain, keyless, source, broadcast, metrics, events, hls, ledger, tenancy, losses } = parts;
  const streams: StreamLifecycle = new StreamLifecycle({
    ...(config.authWebhookUrl ? { authWebhookUrl: config.authWebhookUrl } : {}),
    ...(config.orchMinLivepeerVersion ? { minOrchestratorVersion: config.orchMinLivepeerVersion } : {}),
    maxAttempts: config.maxAttempts,
    defaultProfiles: () => broadcast.profiles,
    hasCandidates: source !== undefined,
    orchestrators: orchestratorAccess({ config, chain, source, broadcast, metrics, events, log, ...(keyless ? { keyless } : {}) }),
    endIngest: (stream, reason) => registry.end(stream, reason),
    hls,
    ledger,
    ...(tenancy ? { tenancy } : {}),
    losses,
    metrics,
    events,
    log,
  });
  const registry: StreamRegistry<StreamContext> = new StreamRegistry<StreamContext>({
    authorize: (req) => streams.authorize(req),
    onStarted: (stream) => {
      const live = streams.open(stream);
      if (stream.rtmp) pumpRtmpStream(live, stream.rtmp, streams, log);
    },
    onEnded: (stream, reason) => void streams.finish(stream, reason),
    onTakenOver: (previous, next) => streams.takeOver(previous, next),
    maxStreams: config.maxSessions,
    idleTimeoutMs: PUSH_IDLE_TIMEOUT_MS,
    log: log.child({ component: 'streams' }),
  });
  return { streams, registry };
}
