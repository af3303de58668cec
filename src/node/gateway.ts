// The gateway: the only place that wires the stages together.
//   ingest (RTMP, HTTP push) → media (segmenter) → stream (session pool, pm, net) → server (HLS)
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Address } from 'viem';
import type { NodeConfig } from './config.ts';
import { SessionPool, type OrchSession } from '../discovery/sessionPool.ts';
import { staticSource, webhookSource, type CandidateSource } from '../discovery/sources.ts';
import { authorizeStream } from '../ingest/auth.ts';
import { createPushIngest, PushError, type PushIngest } from '../ingest/push.ts';
import { startRtmpServer, type RtmpServer, type RtmpStream } from '../ingest/rtmp.ts';
import type { VideoProfile } from '../media/profiles.ts';
import { startSegmenter, type Segmenter } from '../media/segmenter.ts';
import { streamCapabilities } from '../net/capabilities.ts';
import { getOrchestrator } from '../net/grpc.ts';
import type { Capabilities, OrchestratorInfo, OrchestratorRequest } from '../wire/lpRpc.ts';
import { closeSegmentConnections } from '../net/segment.ts';
import { hexToBytes } from '../lib/bytes.ts';
import { orchestratorRequestSignature } from '../pm/requestSignatures.ts';
import { infoPrice } from '../pm/segmentPayer.ts';
import { createHlsRoute, HlsStore } from '../server/hls.ts';
import { startHttpListener, type HttpListener } from '../server/http.ts';
import { createMetrics, type GatewayMetrics } from '../server/metrics.ts';
import { Ledger } from '../store/ledger.ts';
import type { ChainServices } from './chain.ts';
import { BroadcastConfig } from './broadcastConfig.ts';
import { GatewayEventBus } from './events.ts';
import { judgeOrchestrator } from './judge.ts';
import type { Logger } from './logger.ts';
import { StreamRunner } from './stream.ts';
import { createAiGateway } from './aiGateway.ts';
import type { AiFace } from '../ai/face.ts';
import { checkSessionPrice, type AttemptDeps } from './transcodeSegment.ts';

export const GATEWAY_VERSION = '0.1.0';

/** go-livepeer's budget for refreshing a session before a segment. */
const SESSION_REFRESH_TIMEOUT_MS = 2500;
/** Hard cut-off of one GetOrchestrator during discovery. */
const DISCOVERY_RPC_TIMEOUT_MS = 6000;

interface LiveStream {
  manifestId: string;
  ingest: 'rtmp' | 'push';
  runner: StreamRunner;
  pool: SessionPool;
  segmenter?: Segmenter;
  rtmp?: RtmpStream<StreamContext>;
  externalIds: { streamId: string; sessionId: string };
}

interface StreamContext {
  profiles: VideoProfile[];
  externalStreamId: string;
  sessionId: string;
}

export interface GatewayOptions {
  config: NodeConfig;
  log: Logger;
  /** on-chain services (keys, payments, chain pool); undefined off-chain */
  chain?: ChainServices;
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
  /** what the gateway does as it works: streams, segments, payments */
  readonly events: GatewayEventBus;
  /** the AI routes (batch pipelines, OpenAI front) */
  readonly ai: AiFace;
  status(): Promise<GatewayStatus>;
  /** the live stream runner of a manifest (tests, control API) */
  stream(manifestId: string): StreamRunner | undefined;
  stop(): Promise<void>;
}

export interface GatewayStatus {
  Version: string;
  Network: string;
  EthAddress?: Address;
  Manifests: string[];
  Streams: Record<string, unknown>;
  OrchestratorPool: string[];
  OrchestratorPoolInfos: unknown[];
  Ledger: { streams: unknown; orchestrators: unknown; ai?: unknown; aiOrchestrators?: unknown };
  /** per AI pipeline and model: the candidates and whether each is used, and why not */
  AI?: unknown;
  Chain?: unknown;
}

function candidateSource(config: NodeConfig, chain: ChainServices | undefined, log: Logger): CandidateSource | undefined {
  if (config.orchWebhookUrl) {
    return webhookSource({
      url: config.orchWebhookUrl,
      onError: (err) => log.warn({ err: err.message }, 'orchestrator webhook failed; keeping the last list'),
    });
  }
  if (config.orchAddr.length > 0) return staticSource(config.orchAddr.join(','));
  return chain?.source;
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const { config, log, chain } = opts;
  await mkdir(config.datadir, { recursive: true, mode: 0o755 });
  const metrics = createMetrics(`${chain?.address ?? 'offchain'}-${hostname()}`);
  metrics.maxSessions.set(config.maxSessions);
  const broadcast = new BroadcastConfig(config.maxPrice, config.profiles, config.transcodingOptions, () => chain?.usdPerEth?.());
  const updateGauges = () => {
    const price = broadcast.maxPrice();
    metrics.transcodingPrice.set(price ? Number(price.num) / Number(price.den) : 0);
    if (!chain) return;
    // gwei, as go-livepeer reports them
    const info = chain.senderInfo();
    metrics.deposit.set({ sender: chain.address }, Number(info.deposit / 10n ** 9n));
    metrics.reserve.set({ sender: chain.address }, Number(info.reserve.fundsRemaining / 10n ** 9n));
  };
  updateGauges();
  const gauges = setInterval(updateGauges, 5000);
  gauges.unref();
  const ledger = new Ledger(config.datadir);
  await ledger.open();
  const hls = new HlsStore();
  const events = new GatewayEventBus((event, err) => log.warn({ event, err: (err as Error)?.message }, 'event listener threw'));
  const source = candidateSource(config, chain, log);
  if (!source) log.warn('No orchestrator specified; transcoding will not happen');

  const streams = new Map<string, LiveStream>();
  const signer = chain?.signer;
  const requestAddress = signer ? hexToBytes(signer.address) : new Uint8Array(20);
  const requestSig = signer ? hexToBytes(orchestratorRequestSignature(signer)) : new Uint8Array(0);

  const request = (capabilities: Capabilities): OrchestratorRequest => ({ address: requestAddress, sig: requestSig, capabilities, ignoreCapacityCheck: false });

  function newPool(capabilities: Capabilities): SessionPool {
    const judgeCtx = {
      capabilities,
      blocklist: config.orchBlocklist,
      ...(chain ? { payments: { limits: config.limits, senderInfo: () => chain.senderInfo(), chain: () => chain.chainView() } } : {}),
    };
    return new SessionPool({
      source: source ?? { kind: 'orchAddr', candidates: async () => [] },
      probe: (uri) => getOrchestrator(uri, request(capabilities), { timeoutMs: DISCOVERY_RPC_TIMEOUT_MS }),
      evaluate: (c, info, latency) => {
        const verdict = judgeOrchestrator(judgeCtx, c, info, latency);
        if (!verdict.ok) metrics.discoveryErrors.inc();
        return verdict;
      },
      onchain: !!chain,
      weights: config.weights,
      maxPrice: () => broadcast.maxPrice(),
      ignoreMaxPriceIfNeeded: config.ignoreMaxPriceIfNeeded,
      discoveryTimeoutMs: config.discoveryTimeoutMs,
      log,
    });
  }

  function attemptDeps(pool: SessionPool, capabilities: Capabilities): AttemptDeps {
    const adopt = (session: OrchSession, info: OrchestratorInfo): void => {
      const price = infoPrice(info);
      checkSessionPrice(session, price);
      if (chain && !info.ticketParams) throw new Error('orchestrator stopped sending ticket params');
      pool.update(session, info, price);
    };
    return {
      ...(signer ? { signer } : {}),
      ...(chain ? { payer: chain.payer, lastSeenBlock: () => chain.chainView().lastSeenL1Block } : {}),
      refresh: (session) => getOrchestrator(session.uri, request(capabilities), { timeoutMs: SESSION_REFRESH_TIMEOUT_MS }),
      adopt,
      drop: (session, reason) => pool.fail(session, reason),
      verify: config.localVerify,
    };
  }

  function openStream(manifestId: string, ingest: 'rtmp' | 'push', ctx: StreamContext): LiveStream {
    const capabilities = streamCapabilities({
      profiles: ctx.profiles,
      segmentSlicing: ingest === 'push',
      ...(config.orchMinLivepeerVersion ? { minVersion: config.orchMinLivepeerVersion } : {}),
    });
    const pool = newPool(capabilities);
    const runner = new StreamRunner(
      { hls, ledger, metrics, log, attempt: attemptDeps(pool, capabilities), maxAttempts: config.maxAttempts },
      {
        manifestId,
        profiles: ctx.profiles,
        capabilities,
        pool,
        onFatal: (reason) => void endStream(manifestId, `payment failure: ${reason}`),
      },
    );
    const live: LiveStream = { manifestId, ingest, runner, pool, externalIds: { streamId: ctx.externalStreamId, sessionId: ctx.sessionId } };
    streams.set(manifestId, live);
    metrics.streamCreated.inc();
    metrics.currentSessions.set(streams.size);
    log.info({ manifestId, ingest, profiles: ctx.profiles.map((p) => p.name) }, `Video Created With ManifestID: ${manifestId}`);
    if (source && ctx.profiles.length > 0) void pool.refresh();
    events.emit('stream.started', {
      manifestId,
      ingest,
      profiles: ctx.profiles.map((p) => p.name),
      externalStreamId: ctx.externalStreamId,
      sessionId: ctx.sessionId,
    });
    return live;
  }

  /** Streams whose end is under way (segments still finishing); shutdown waits for them. */
  const ending = new Map<string, { live: LiveStream; done: Promise<void> }>();

  function endStream(manifestId: string, reason: string): Promise<void> {
    const live = streams.get(manifestId);
    if (!live) return ending.get(manifestId)?.done ?? Promise.resolve();
    streams.delete(manifestId);
    const done = finishStream(live, reason).finally(() => {
      if (ending.get(manifestId)?.live === live) ending.delete(manifestId);
    });
    ending.set(manifestId, { live, done });
    return done;
  }

  async function finishStream(live: LiveStream, reason: string): Promise<void> {
    const { manifestId } = live;
    metrics.currentSessions.set(streams.size);
    metrics.streamEnded.inc();
    if (reason.startsWith('payment failure')) live.runner.abort();
    live.rtmp?.close(reason);
    if (live.ingest === 'push') push?.endStream(manifestId, reason);
    await live.segmenter?.stop();
    await live.runner.end();
    log.info({ manifestId, reason }, 'stream ended');
    events.emit('stream.ended', { manifestId, reason });
  }

  async function authorize(
    incomingUrl: string,
    ingest: 'rtmp' | 'push',
    transcodeConfiguration?: Parameters<typeof authorizeStream>[0]['transcodeConfiguration'],
    format?: 'mpegts' | 'mp4',
  ) {
    const res = await authorizeStream({
      ...(config.authWebhookUrl ? { webhookUrl: config.authWebhookUrl } : {}),
      incomingUrl,
      defaultProfiles: broadcast.profiles,
      ...(transcodeConfiguration !== undefined ? { transcodeConfiguration } : {}),
      ...(format ? { format } : {}),
    });
    if (!res.accepted) return res;
    if (streams.size >= config.maxSessions)
      return { accepted: false as const, status: 503 as const, reason: `Too many connections (-maxSessions ${config.maxSessions})` };
    if (streams.has(res.manifestId))
      return {
        accepted: false as const,
        status: 403 as const,
        reason: `stream ${res.manifestId} is already live (${streams.get(res.manifestId)!.ingest}); the new ${ingest} publish is refused`,
      };
    return res;
  }

  // ---- RTMP ingest
  const rtmp: RtmpServer<StreamContext> = await startRtmpServer<StreamContext>({
    host: config.rtmpAddr.host,
    port: config.rtmpAddr.port,
    log: log.child({ component: 'rtmp' }),
    async authorize(info) {
      const res = await authorize(info.publishUrl, 'rtmp');
      if (!res.accepted) {
        log.warn({ url: info.publishUrl, reason: res.reason }, 'RTMP publish refused');
        return { accept: false, reason: res.reason };
      }
      return {
        accept: true,
        manifestId: res.manifestId,
        streamKey: res.streamKey,
        context: { profiles: res.profiles, externalStreamId: res.externalStreamId, sessionId: res.sessionId },
      };
    },
    onStreamStarted(stream) {
      const live = openStream(stream.manifestId, 'rtmp', stream.context);
      live.rtmp = stream;
      const segmenter = startSegmenter({ inputUrl: stream.playbackUrl, log: log.child({ component: 'segmenter', manifestId: stream.manifestId }) });
      live.segmenter = segmenter;
      void (async () => {
        let reason = 'publisher ended the stream';
        try {
          for await (const seg of segmenter.segments) {
            const md = stream.metadata();
            void live.runner.push(seg.seq, seg.data, seg.durationMs, md.width > 0 ? { resolution: { width: md.width, height: md.height } } : {});
          }
        } catch (err) {
          reason = (err as Error).message;
          log.warn({ manifestId: stream.manifestId, err: reason }, 'segmenter stopped');
        }
        await endStream(stream.manifestId, reason);
      })();
    },
    onStreamEnded(stream, reason) {
      void endStream(stream.manifestId, reason);
    },
  });

  // ---- HTTP push ingest
  let push: PushIngest<StreamContext> | undefined;
  if (config.httpIngest) {
    push = createPushIngest<StreamContext>({
      log: log.child({ component: 'push' }),
      async authorize(info) {
        const res = await authorize(info.url, 'push', info.transcodeConfiguration, info.format);
        if (!res.accepted) return { accept: false, status: res.status, reason: res.reason };
        return {
          accept: true,
          manifestId: res.manifestId,
          context: { profiles: res.profiles, externalStreamId: res.externalStreamId, sessionId: res.sessionId },
        };
      },
      onStreamStarted(stream) {
        openStream(stream.manifestId, 'push', stream.context);
      },
      onStreamEnded(stream, reason) {
        void endStream(stream.manifestId, reason);
      },
      async transcode(seg) {
        const live = streams.get(seg.stream.manifestId);
        if (!live) throw new PushError(500, 'stream ended');
        const outcome = await live.runner.push(seg.seq, seg.data, seg.durationMs, { resolution: seg.resolution, format: seg.format });
        if (!outcome) return [];
        if (outcome.transcoded) return (outcome.renditions ?? []).map((r) => ({ name: r.name, format: seg.format, data: r.data }));
        if (outcome.failure === 'none') throw new PushError(503, 'No sessions available');
        if (outcome.failure === 'backlog') throw new PushError(503, outcome.error ?? 'transcoding backlog full; retry');
        if (outcome.failure === 'input') throw new PushError(422, outcome.error ?? 'input cannot be transcoded');
        throw new PushError(500, outcome.error ?? 'transcoding failed');
      },
    });
  }

  const ai = createAiGateway({ config, log, ...(chain ? { chain } : {}), source, ledger, broadcast, version: GATEWAY_VERSION });
  const http: HttpListener = await startHttpListener({
    host: config.httpAddr.host,
    port: config.httpAddr.port,
    log: log.child({ component: 'http' }),
    routes: [ai.route, createHlsRoute(hls, { currentManifest: config.currentManifest }), ...(push ? [push.route] : [])],
  });
  if (config.httpIngestNote) log.warn(config.httpIngestNote);

  async function status(): Promise<GatewayStatus> {
    const poolInfos = [...streams.values()].flatMap((s) => s.pool.status().map((st) => ({ ...st, manifestId: s.manifestId })));
    return {
      Version: GATEWAY_VERSION,
      Network: config.network.name,
      ...(chain ? { EthAddress: chain.address } : {}),
      Manifests: [...streams.keys()],
      Streams: Object.fromEntries(
        [...streams.values()].map((s) => [
          s.manifestId,
          { ingest: s.ingest, externalIds: s.externalIds, ...s.runner.stats, recent: s.runner.outcomes.slice(-10) },
        ]),
      ),
      OrchestratorPool: [...new Set(poolInfos.filter((p) => p.state === 'usable').map((p) => p.uri))],
      OrchestratorPoolInfos: poolInfos,
      Ledger: {
        streams: await ledger.entries('stream'),
        orchestrators: await ledger.entries('orch'),
        ai: await ledger.aiEntries('ai'),
        aiOrchestrators: await ledger.aiEntries('aiorch'),
      },
      AI: ai.status(),
      ...(chain ? { Chain: chain.status() } : {}),
    };
  }

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
    status,
    stream: (mid) => (streams.get(mid) ?? ending.get(mid)?.live)?.runner,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(gauges);
      await rtmp.close();
      push?.close();
      await Promise.allSettled([...streams.keys()].map((mid) => endStream(mid, 'gateway shutting down')));
      await Promise.allSettled([...ending.values()].map((e) => e.done));
      await http.close();
      await closeSegmentConnections();
      await ledger.close();
    },
  };
}
