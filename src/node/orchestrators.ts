// How a stream reaches orchestrators: its session pool (discovery through GetOrchestrator, the judge,
// suspensions) and the attempt that pays for and uploads one segment, both bound to its capabilities.
import { Balances } from '../pm/balance.ts';
import { SessionPool, type OrchSession } from '../discovery/sessionPool.ts';
import { staticSource, webhookSource, type CandidateSource } from '../discovery/sources.ts';
import { hexToBytes } from '../lib/bytes.ts';
import type { Logger } from '../lib/log.ts';
import { getOrchestrator } from '../net/grpc.ts';
import { orchestratorRequestSignature } from '../pm/requestSignatures.ts';
import { infoPrice } from '../pm/segmentPayer.ts';
import type { GatewayMetrics } from '../server/metrics.ts';
import type { Capabilities, OrchestratorInfo, OrchestratorRequest } from '../wire/lpRpc.ts';
import type { BroadcastConfig } from './broadcastConfig.ts';
import { type ChainServices, withFreshRound } from './chain.ts';
import type { NodeConfig } from './config.ts';
import type { GatewayEventBus } from './events.ts';
import type { KeylessPayments } from './keyless.ts';
import { judgeOrchestrator } from './judge.ts';
import { checkSessionPrice, OrchestratorAnswerError, transcodeSegment, type AttemptDeps, type TranscodeAttempt } from './transcodeSegment.ts';

/** go-livepeer's budget for refreshing a session before a segment. */
const SESSION_REFRESH_TIMEOUT_MS = 2500;
/** Hard cut-off of one GetOrchestrator during discovery. */
const DISCOVERY_RPC_TIMEOUT_MS = 6000;

/** Where candidates come from: -orchWebhookUrl, else -orchAddr, else the on-chain pool. */
export function candidateSource(config: NodeConfig, chain: ChainServices | undefined, log: Logger): CandidateSource | undefined {
  if (config.orchWebhookUrl) {
    return webhookSource({
      url: config.orchWebhookUrl,
      onError: (err) => log.warn({ err: err.message }, 'orchestrator webhook failed; keeping the last list'),
    });
  }
  if (config.orchAddr.length > 0) return staticSource(config.orchAddr.join(','));
  // a keyless gateway with no list of its own asks its remote signer (go-livepeer does the same)
  if (config.remoteSignerClient) {
    return webhookSource({
      url: `${config.remoteSignerClient.url}/discover-orchestrators`,
      headers: config.remoteSignerClient.headers,
      // the signer may have to ask every orchestrator before it can answer the first time
      timeoutMs: 10_000,
      onError: (err) => log.warn({ err: err.message }, 'remote signer discovery failed; keeping the last list'),
    });
  }
  return chain?.source;
}

export interface OrchestratorDeps {
  config: NodeConfig;
  /** on-chain services; undefined off-chain */
  chain: ChainServices | undefined;
  source: CandidateSource | undefined;
  broadcast: BroadcastConfig;
  metrics: GatewayMetrics;
  events: GatewayEventBus;
  log: Logger;
  /** a keyless gateway paying through a remote signer */
  keyless?: KeylessPayments;
}

export interface StreamOrchestrators {
  pool: SessionPool;
  transcode: TranscodeAttempt;
  /** Forgets what the node keeps per orchestrator session (balances) once the stream has ended them. */
  release?(sessions: readonly OrchSession[]): void;
}

/** A factory of each stream's pool and transcode attempt. */
export function orchestratorAccess(deps: OrchestratorDeps): (manifestId: string, capabilities: Capabilities) => StreamOrchestrators {
  const { config, chain } = deps;
  const signer = chain?.signer;
  const { keyless } = deps;
  const address = signer ? hexToBytes(signer.address) : (keyless?.identity.address ?? new Uint8Array(20));
  const sig = signer ? hexToBytes(orchestratorRequestSignature(signer)) : (keyless?.identity.sig ?? new Uint8Array(0));
  const paidSessions = !!chain || !!keyless;
  const request = (capabilities: Capabilities): OrchestratorRequest => ({ address, sig, capabilities, ignoreCapacityCheck: false });

  return (manifestId, capabilities) => {
    const fresh = withFreshRound(chain);
    const pool = streamPool(deps, manifestId, capabilities, (uri) =>
      getOrchestrator(uri, request(capabilities), { timeoutMs: DISCOVERY_RPC_TIMEOUT_MS }).then(fresh),
    );
    const attempt: AttemptDeps = {
      ...(signer ? { signer } : {}),
      ...(chain ? { payer: chain.payer, lastSeenBlock: () => chain.chainView().lastSeenL1Block } : {}),
      ...(keyless ? { remote: keyless.segments } : {}),
      refresh: (session) => getOrchestrator(session.uri, request(capabilities), { timeoutMs: SESSION_REFRESH_TIMEOUT_MS }).then(fresh),
      ...(chain?.ensureRoundFor ? { ensureRound: (info: OrchestratorInfo) => chain.ensureRoundFor!(info) } : {}),
      adopt: (session, info) => adoptInfo(pool, session, info, paidSessions),
      drop: (session, reason) => pool.fail(session, reason),
      verify: config.localVerify,
      verifyDecodeFraction: config.localVerifyDecodeFraction,
      renditionHosts: config.renditionHosts,
    };
    return {
      pool,
      transcode: (job, session, paid, intent) => transcodeSegment(job, session, attempt, paid, intent),
      ...(chain
        ? {
            release: (sessions: readonly OrchSession[]) => {
              for (const s of sessions)
                if (s.address && s.info.authToken?.sessionId) chain.payer.balances.clear(Balances.key(s.address, s.info.authToken.sessionId));
            },
          }
        : {}),
    };
  };
}

function streamPool(deps: OrchestratorDeps, manifestId: string, capabilities: Capabilities, probe: (uri: string) => Promise<OrchestratorInfo>): SessionPool {
  const { config, chain, metrics, events, log } = deps;
  const judgeCtx = {
    capabilities,
    blocklist: config.orchBlocklist,
    ...(chain ? { payments: { limits: config.limits, senderInfo: () => chain.senderInfo(), chain: () => chain.chainView() } } : {}),
  };
  return new SessionPool({
    source: deps.source ?? { kind: 'orchAddr', candidates: async () => [] },
    probe,
    evaluate: (candidate, info, latencyMs) => {
      const verdict = judgeOrchestrator(judgeCtx, candidate, info, latencyMs);
      if (verdict.ok) return verdict;
      metrics.discoveryErrors.inc();
      if (verdict.code === 'ticket-params') events.emit('ticket.refused', { orchestrator: candidate.uri, reason: verdict.reason, manifestId });
      return verdict;
    },
    onSuspended: (orchestrator, reason) => events.emit('orchestrator.suspended', { orchestrator, reason, manifestId }),
    onchain: !!chain || !!deps.keyless,
    weights: config.weights,
    maxPrice: () => deps.broadcast.maxPrice(),
    ignoreMaxPriceIfNeeded: config.ignoreMaxPriceIfNeeded,
    discoveryTimeoutMs: config.discoveryTimeoutMs,
    log: log.child({ manifestId }),
  });
}

/** A refreshed reply (or a TranscodeResult's info) replaces the session's, if it is still acceptable. */
function adoptInfo(pool: SessionPool, session: OrchSession, info: OrchestratorInfo, onchain: boolean): void {
  const price = infoPrice(info);
  checkSessionPrice(session, price);
  if (onchain && !info.ticketParams) throw new OrchestratorAnswerError('orchestrator stopped sending ticket params');
  pool.update(session, info, price);
}
