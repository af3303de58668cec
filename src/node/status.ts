// What /status shows: the node, each live stream with its runner's counters, the orchestrators its pool
// judged, and the ledger of what was sent and paid.
import type { Address } from 'viem';
import type { AiFace } from '../ai/face.ts';
import type { Ledger } from '../store/ledger.ts';
import type { ChainServices } from './chain.ts';
import { describeRunway, type SpendMeter } from './spend.ts';
import type { PaidLosses } from './paidLosses.ts';
import type { LiveStream } from './streams.ts';

export const GATEWAY_VERSION = '0.1.0';

/** Ledger entries of each kind /status shows (the ledger keeps every stream ever run; /status stays small). */
export const STATUS_LEDGER_LIMIT = 500;

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
  /** what the gateway spends and how long the deposit lasts at that pace; amounts are decimal wei strings */
  Money: MoneyStatus;
  /** per orchestrator: attempts that took payment and returned nothing usable, and the EV lost */
  PaidForNothing?: unknown;
  /** -objectStore / -recordStore: writes done, failed and skipped (the stores' URLs without credentials) */
  ObjectStores?: unknown;
}

export interface MoneyStatus {
  /** expected value of the tickets sent in the last hour */
  LastHourSpentWei: string;
  /** the same pace per hour (the first minutes of a run are scaled up) */
  PerHourWei: string;
  DepositWei?: string;
  ReserveWei?: string;
  /** seconds the deposit lasts at PerHourWei; absent when nothing was spent */
  DepositRunwaySeconds?: number;
  /** the same for people: "about 3.5 hours at the last hour's spend" */
  DepositRunway: string;
}

/** The Money block of /status. */
export function moneyStatus(spend: SpendMeter, chain: ChainServices | undefined): MoneyStatus {
  const info = chain?.senderInfo();
  const runway = info ? spend.runwaySeconds(info.deposit) : undefined;
  return {
    LastHourSpentWei: spend.lastHourWei().toString(),
    PerHourWei: spend.weiPerHour().toString(),
    ...(info ? { DepositWei: info.deposit.toString(), ReserveWei: info.reserve.fundsRemaining.toString() } : {}),
    ...(runway !== undefined ? { DepositRunwaySeconds: runway } : {}),
    DepositRunway: info ? describeRunway(runway) : 'off-chain: nothing is paid',
  };
}

export async function gatewayStatus(
  network: string,
  streams: readonly LiveStream[],
  ledger: Ledger,
  chain: ChainServices | undefined,
  ai: AiFace | undefined,
  spend: SpendMeter,
  losses?: PaidLosses,
): Promise<GatewayStatus> {
  const poolInfos = streams.flatMap((s) => s.pool.status().map((st) => ({ ...st, manifestId: s.manifestId })));
  const ctx = (s: LiveStream) => s.source.context;
  return {
    Version: GATEWAY_VERSION,
    Network: network,
    ...(chain ? { EthAddress: chain.address } : {}),
    Manifests: streams.map((s) => s.manifestId),
    Streams: Object.fromEntries(
      streams.map((s) => [
        s.manifestId,
        {
          ingest: s.ingest,
          externalIds: { streamId: ctx(s).externalStreamId, sessionId: ctx(s).sessionId },
          ...s.runner.stats,
          recent: s.runner.outcomes.slice(-10),
        },
      ]),
    ),
    OrchestratorPool: [...new Set(poolInfos.filter((p) => p.state === 'usable').map((p) => p.uri))],
    OrchestratorPoolInfos: poolInfos,
    Ledger: {
      streams: await ledger.entries('stream', STATUS_LEDGER_LIMIT),
      orchestrators: await ledger.entries('orch', STATUS_LEDGER_LIMIT),
      ai: await ledger.aiEntries('ai', STATUS_LEDGER_LIMIT),
      aiOrchestrators: await ledger.aiEntries('aiorch', STATUS_LEDGER_LIMIT),
    },
    ...(ai ? { AI: ai.status() } : {}),
    ...(chain ? { Chain: chain.status() } : {}),
    Money: moneyStatus(spend, chain),
    ...(losses ? { PaidForNothing: losses.status() } : {}),
  };
}
