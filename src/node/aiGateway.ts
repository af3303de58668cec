// Wires the AI face: one selector per (capability, model) over the gateway's candidate source, the
// orchestrator calls, the payer (this node's keys, or none off-chain), max prices per capability and
// the ledger.
import type { Address } from 'viem';
import { createAiFace, type AiFace } from '../ai/face.ts';
import type { AiMediaStore } from '../ai/mediaStore.ts';
import { localAiPayer, type AiPayer } from '../ai/payment.ts';
import { AiSelector, AiSelectors } from '../discovery/aiSelector.ts';
import type { CandidateSource } from '../discovery/sources.ts';
import { hexToBytes } from '../lib/bytes.ts';
import type { Logger } from '../lib/log.ts';
import { AI_PIPELINE_CAPABILITY, aiJobCapabilities, modelOffer } from '../net/aiCapabilities.ts';
import { getOrchestrator } from '../net/grpc.ts';
import { capabilityMaxPrice } from '../pm/capabilityPrices.ts';
import { orchestratorRequestSignature } from '../pm/requestSignatures.ts';
import { infoPrice } from '../pm/segmentPayer.ts';
import type { AiJobLedgerRecord, Ledger } from '../store/ledger.ts';
import type { Capabilities } from '../wire/lpRpc.ts';
import type { BroadcastConfig } from './broadcastConfig.ts';
import { type ChainServices, withFreshRound } from './chain.ts';
import type { NodeConfig } from './config.ts';
import { judgeOrchestrator } from './judge.ts';
import { checkSessionPrice } from './transcodeSegment.ts';

/** The AI subnet's ServiceRegistry on Arbitrum One (-aiServiceRegistry). */
export const AI_SERVICE_REGISTRY: Address = '0x04C0b249740175999E5BF5c9ac1dA92431EF34C5';

const SESSION_REFRESH_TIMEOUT_MS = 2500;
const DISCOVERY_RPC_TIMEOUT_MS = 6000;

export interface AiGatewayOptions {
  config: NodeConfig;
  log: Logger;
  chain?: ChainServices;
  source: CandidateSource | undefined;
  ledger: Ledger;
  broadcast: BroadcastConfig;
  version: string;
  /** after the ledger: charge the job to the request's API key */
  charge?: (r: AiJobLedgerRecord) => Promise<void>;
  /** the payer as a caller with spend caps sees it (reservations before tickets leave) */
  wrapPayer?: (payer: AiPayer) => AiPayer;
  /** another payer (e.g. a remote signer); default: this node's keys */
  payer?: AiPayer;
  /** a keyless gateway: the GetOrchestrator address and signature come from the remote signer */
  identity?: { address: Uint8Array; sig: Uint8Array };
  /** where output media are kept (and copied to the object store) */
  media?: AiMediaStore;
}

export function createAiGateway(opts: AiGatewayOptions): AiFace {
  const { config, chain, log } = opts;
  const signer = chain?.signer;
  const requestAddress = signer ? hexToBytes(signer.address) : (opts.identity?.address ?? new Uint8Array(20));
  const requestSig = signer ? hexToBytes(orchestratorRequestSignature(signer)) : (opts.identity?.sig ?? new Uint8Array(0));
  // paid sessions (our keys or a remote signer's): ticket params required, price ceilings, stake-weighted choice
  const paid = !!chain || !!opts.identity;
  const fresh = withFreshRound(chain);
  const source = opts.source ?? { kind: 'orchAddr' as const, candidates: async () => [] };

  const basePayer = opts.payer ?? localAiPayer(chain?.payer, signer);
  const payer = opts.wrapPayer ? opts.wrapPayer(basePayer) : basePayer;
  const runnerVersion = (pipeline: string, modelId: string): string =>
    config.ai.minRunnerVersions.find((v) => v.pipeline === pipeline && v.modelId === modelId)?.minVersion ?? '';
  const pipelineOf = new Map(Object.entries(AI_PIPELINE_CAPABILITY).map(([name, cap]) => [cap, name]));
  const capabilities = (cap: number, modelId: string, pipeline: string): Capabilities => {
    return aiJobCapabilities(cap, modelId, {
      version: opts.version,
      ...(config.orchMinLivepeerVersion ? { minVersion: config.orchMinLivepeerVersion } : {}),
      runnerVersion: runnerVersion(pipeline, modelId),
    });
  };
  const request = (caps: Capabilities) => ({ address: requestAddress, sig: requestSig, capabilities: caps, ignoreCapacityCheck: false });

  const selectors = new AiSelectors((cap, modelId) => {
    const caps = capabilities(cap, modelId, pipelineOf.get(cap) ?? '');
    const judgeCtx = {
      capabilities: caps,
      blocklist: config.orchBlocklist,
      ...(chain ? { payments: { limits: config.limits, senderInfo: () => chain.senderInfo(), chain: () => chain.chainView() } } : {}),
    };
    return new AiSelector({
      cap,
      modelId,
      source,
      probe: async (uri) => {
        await chain?.fresh?.(); // judged against the current round, also when no stream kept polling fast
        return fresh(await getOrchestrator(uri, request(caps), { timeoutMs: DISCOVERY_RPC_TIMEOUT_MS }));
      },
      evaluate: (c, info, latency) => judgeOrchestrator(judgeCtx, c, info, latency),
      onchain: paid,
      weights: config.weights,
      maxPrice: () => capabilityMaxPrice(config.ai.maxPricePerCapability, cap, modelId, chain?.usdPerEth?.()) ?? opts.broadcast.maxPrice(),
      discoveryTimeoutMs: config.discoveryTimeoutMs,
      log,
    });
  });

  for (const w of config.ai.warnings) log.warn(w);

  return createAiFace({
    selectors,
    capabilities,
    refresh: async (session, caps) => fresh(await getOrchestrator(session.uri, request(caps), { timeoutMs: SESSION_REFRESH_TIMEOUT_MS })),
    adopt: (session, info) => {
      const price = infoPrice(info);
      checkSessionPrice(session, price);
      if (paid && !info.ticketParams) throw new Error('orchestrator stopped sending ticket params');
      if (!info.authToken?.token?.length) throw new Error('refreshed reply has no auth token');
      const offer = modelOffer(info.capabilities, session.cap, session.modelId);
      if (!offer) throw new Error('orchestrator no longer serves the model');
      session.info = info;
      session.price = price;
    },
    payer,
    ...(chain ? { lastSeenBlock: () => chain.chainView().lastSeenL1Block } : {}),
    record: async (r) => {
      await opts.ledger.recordAiJob(r).catch((err: Error) => log.warn({ err: err.message }, 'could not record an AI job in the ledger'));
      await opts.charge?.(r).catch((err: Error) => log.warn({ err: err.message }, 'could not record usage of an AI job'));
    },
    retryTimeoutMs: config.ai.processingRetryTimeoutMs,
    log: log.child({ component: 'ai' }),
    ...(opts.media ? { media: opts.media } : {}),
  });
}
