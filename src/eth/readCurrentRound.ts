// RoundsManager.currentRound(): the round the protocol is in now, whether or not it was initialized.
import { roundsManagerAbi } from './abi/roundsManager.ts';
import type { EthClient } from './client.ts';
import type { LivepeerContracts } from './contracts.ts';

export function readCurrentRound(eth: EthClient, contracts: Pick<LivepeerContracts, 'roundsManager'>): Promise<bigint> {
  return eth.publicClient.readContract({ address: contracts.roundsManager, abi: roundsManagerAbi, functionName: 'currentRound' });
}
