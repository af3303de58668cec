// A sender's TicketBroker state and what it allows, as go-livepeer and the contract compute it.

export interface SenderInfo {
  deposit: bigint;
  withdrawRound: bigint;
  reserve: { fundsRemaining: bigint; claimedInCurrentRound: bigint };
}

export type SenderStatus = 'Empty' | 'Locked' | 'Unlocking' | 'Unlocked';

/** livepeer_cli's classification. */
export function senderStatus(info: SenderInfo, currentRound: bigint): SenderStatus {
  if (info.deposit === 0n && info.reserve.fundsRemaining === 0n) return 'Empty';
  if (info.withdrawRound === 0n) return 'Locked';
  return info.withdrawRound > currentRound ? 'Unlocking' : 'Unlocked';
}

/**
 * The reserve share one active orchestrator may claim this round, as the contract's
 * claimableReserve and an orchestrator's max float compute it.
 */
export function reserveShare(info: SenderInfo, poolSize: bigint, claimedByThisOrchestrator = 0n): bigint {
  if (poolSize <= 0n) return 0n;
  const share = (info.reserve.fundsRemaining + info.reserve.claimedInCurrentRound) / poolSize;
  return share > claimedByThisOrchestrator ? share - claimedByThisOrchestrator : 0n;
}

/** The largest face value the broadcaster accepts: deposit ÷ depositMultiplier (go-livepeer's rule). */
export function maxFaceValue(info: SenderInfo, depositMultiplier: bigint): bigint {
  if (depositMultiplier <= 0n) throw new RangeError('depositMultiplier must be > 0');
  return info.deposit / depositMultiplier;
}
