// On-chain services the gateway needs: the unlocked account, payments, the chain's view of rounds
// and funding, and the on-chain orchestrator pool.
import type { OrchestratorInfo } from '../wire/lpRpc.ts';
import type { Address } from 'viem';
import type { CandidateSource } from '../discovery/sources.ts';
import type { SegmentPayer } from '../pm/segmentPayer.ts';
import type { SenderInfo } from '../pm/senderInfo.ts';
import type { Signer } from '../pm/signer.ts';
import type { ChainView } from '../pm/validate.ts';
import type { Rat } from '../lib/rat.ts';

export interface ChainServices {
  address: Address;
  signer: Signer;
  payer: SegmentPayer;
  /** cached TicketBroker sender info, refreshed by the chain watcher */
  senderInfo(): SenderInfo;
  chainView(): ChainView;
  /** Reads the rounds fresh (once per creation round) when `info`'s ticket params are newer than our view. */
  ensureRoundFor?(info: OrchestratorInfo): Promise<void> | undefined;
  source: CandidateSource;
  /** USD per ETH from the price feed, when the max price is in USD */
  usdPerEth?(): Rat | undefined;
  /** The last ETH/USD feed answer with its update time and when it was read (spend caps in USD). */
  ethUsdQuote?(): { usdPerEth: Rat; updatedAt: bigint; readAt: number } | undefined;
  status(): unknown;
  /**
   * Streams are running (true) or none is (false): chain polling runs at -blockPollingInterval while
   * they do and slows to a few requests an hour while the gateway is idle.
   */
  setActive?(active: boolean): void;
  /** Reads the chain now when the last poll is older than -blockPollingInterval (an idle gateway polls rarely). */
  fresh?(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Passes a GetOrchestrator reply on once the round view is fresh enough to judge its ticket params: a
 * reply from a round newer than our cached one waits for one fresh round read, so our stale cache is
 * never the orchestrator's fault (video and AI sessions alike).
 */
export function withFreshRound(chain: ChainServices | undefined): (info: OrchestratorInfo) => Promise<OrchestratorInfo> {
  return async (info) => {
    await chain?.ensureRoundFor?.(info);
    return info;
  };
}
