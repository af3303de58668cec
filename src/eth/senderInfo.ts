// The broadcaster's on-chain state in one Multicall3 request: TicketBroker sender info and parameters,
// the round position (for "unlocks in about H hours"), the pool size (reserve share) and the ETH balance.
import type { Address } from 'viem';
import { reserveShare, senderStatus, type SenderInfo, type SenderStatus } from '../pm/senderInfo.ts';
import { bondingManagerAbi } from './abi/bondingManager.ts';
import { multicall3Abi } from './abi/multicall3.ts';
import { roundsManagerAbi } from './abi/roundsManager.ts';
import { ticketBrokerAbi } from './abi/ticketBroker.ts';
import type { EthClient } from './client.ts';
import type { LivepeerContracts } from './contracts.ts';

/** Seconds per L1 block, used only to turn block counts into hours for people. */
export const L1_BLOCK_SECONDS = 12n;

export interface SenderState {
  address: Address;
  info: SenderInfo;
  status: SenderStatus;
  /** ETH balance of the account, wei. */
  balance: bigint;
  currentRound: bigint;
  currentRoundInitialized: boolean;
  /** Block number as the contracts see it (the L1 block estimate on Arbitrum). */
  blockNum: bigint;
  currentRoundStartBlock: bigint;
  roundLength: bigint;
  /** TicketBroker.unlockPeriod(), rounds. */
  unlockPeriod: bigint;
  /** TicketBroker.ticketValidityPeriod(), rounds. */
  ticketValidityPeriod: bigint;
  /** Orchestrators in the pool: what the reserve is divided by. */
  poolSize: bigint;
  /** (reserve + claimed this round) / poolSize: what each active orchestrator may claim this round. */
  reserveShare: bigint;
}

/** Reads everything `deposit info` and the unlock/withdraw checks need, in one request. */
export async function readSenderState(eth: EthClient, contracts: LivepeerContracts, address: Address): Promise<SenderState> {
  const tb = { address: contracts.ticketBroker, abi: ticketBrokerAbi } as const;
  const rm = { address: contracts.roundsManager, abi: roundsManagerAbi } as const;
  const [senderInfo, unlockPeriod, validity, currentRound, initialized, blockNum, startBlock, roundLength, poolSize, balance] =
    await eth.publicClient.multicall({
      allowFailure: false,
      batchSize: 0,
      contracts: [
        { ...tb, functionName: 'getSenderInfo', args: [address] },
        { ...tb, functionName: 'unlockPeriod' },
        { ...tb, functionName: 'ticketValidityPeriod' },
        { ...rm, functionName: 'currentRound' },
        { ...rm, functionName: 'currentRoundInitialized' },
        { ...rm, functionName: 'blockNum' },
        { ...rm, functionName: 'currentRoundStartBlock' },
        { ...rm, functionName: 'roundLength' },
        { address: contracts.bondingManager, abi: bondingManagerAbi, functionName: 'getTranscoderPoolSize' },
        { address: eth.multicall3, abi: multicall3Abi, functionName: 'getEthBalance', args: [address] },
      ],
    });
  const info = senderInfoFromTuples(senderInfo);
  return {
    address,
    info,
    status: senderStatus(info, currentRound),
    balance,
    currentRound,
    currentRoundInitialized: initialized,
    blockNum,
    currentRoundStartBlock: startBlock,
    roundLength,
    unlockPeriod,
    ticketValidityPeriod: validity,
    poolSize,
    reserveShare: reserveShare(info, poolSize),
  };
}

/** TicketBroker.getSenderInfo's two tuples as a SenderInfo. */
export function senderInfoFromTuples([sender, reserve]: readonly [
  { deposit: bigint; withdrawRound: bigint },
  { fundsRemaining: bigint; claimedInCurrentRound: bigint },
]): SenderInfo {
  return {
    deposit: sender.deposit,
    withdrawRound: sender.withdrawRound,
    reserve: { fundsRemaining: reserve.fundsRemaining, claimedInCurrentRound: reserve.claimedInCurrentRound },
  };
}

/** Just TicketBroker.getSenderInfo. */
export async function readSenderInfo(eth: EthClient, contracts: LivepeerContracts, address: Address): Promise<SenderInfo> {
  return senderInfoFromTuples(
    await eth.publicClient.readContract({ address: contracts.ticketBroker, abi: ticketBrokerAbi, functionName: 'getSenderInfo', args: [address] }),
  );
}

export interface TicketBrokerParams {
  unlockPeriod: bigint;
  ticketValidityPeriod: bigint;
}

export async function readTicketBrokerParams(eth: EthClient, contracts: LivepeerContracts): Promise<TicketBrokerParams> {
  const tb = { address: contracts.ticketBroker, abi: ticketBrokerAbi } as const;
  const [unlockPeriod, ticketValidityPeriod] = await eth.publicClient.multicall({
    allowFailure: false,
    batchSize: 0,
    contracts: [
      { ...tb, functionName: 'unlockPeriod' },
      { ...tb, functionName: 'ticketValidityPeriod' },
    ],
  });
  return { unlockPeriod, ticketValidityPeriod };
}

export interface ReserveClaims {
  orchestrator: Address;
  /** What this orchestrator may still claim from the reserve this round (0 if it is not active). */
  claimable: bigint;
  /** What it has claimed this round. */
  claimed: bigint;
}

/** claimableReserve / claimedReserve for each orchestrator asked about, in one request. */
export async function readReserveClaims(
  eth: EthClient,
  contracts: LivepeerContracts,
  sender: Address,
  orchestrators: readonly Address[],
): Promise<ReserveClaims[]> {
  if (orchestrators.length === 0) return [];
  const tb = { address: contracts.ticketBroker, abi: ticketBrokerAbi } as const;
  const results = await eth.publicClient.multicall({
    allowFailure: false,
    batchSize: 0,
    contracts: orchestrators.flatMap((o) => [
      { ...tb, functionName: 'claimableReserve' as const, args: [sender, o] as const },
      { ...tb, functionName: 'claimedReserve' as const, args: [sender, o] as const },
    ]),
  });
  return orchestrators.map((orchestrator, i) => ({
    orchestrator,
    claimable: results[2 * i] as bigint,
    claimed: results[2 * i + 1] as bigint,
  }));
}

/** L1 blocks until `withdrawRound` starts. */
export function blocksUntilRound(state: Pick<SenderState, 'currentRound' | 'blockNum' | 'currentRoundStartBlock' | 'roundLength'>, round: bigint): bigint {
  if (round <= state.currentRound) return 0n;
  const roundEnd = state.currentRoundStartBlock + state.roundLength;
  const left = roundEnd > state.blockNum ? roundEnd - state.blockNum : 0n;
  return left + (round - state.currentRound - 1n) * state.roundLength;
}

/** "about 26 hours" / "about 40 minutes", from a block count at 12 s per L1 block. */
export function describeBlocks(blocks: bigint): string {
  const seconds = blocks * L1_BLOCK_SECONDS;
  if (seconds >= 5400n) return `about ${(seconds + 1800n) / 3600n} hours`;
  const minutes = (seconds + 59n) / 60n;
  return `about ${minutes} minute${minutes === 1n ? '' : 's'}`;
}
