// LivepeerToken.balanceOf(account): the account's LPT, in LPT wei.
import type { Address } from 'viem';
import { livepeerTokenAbi } from './abi/livepeerToken.ts';
import type { EthClient } from './client.ts';
import type { LivepeerContracts } from './contracts.ts';

export function readTokenBalance(eth: EthClient, contracts: Pick<LivepeerContracts, 'livepeerToken'>, account: Address): Promise<bigint> {
  return eth.publicClient.readContract({ address: contracts.livepeerToken, abi: livepeerTokenAbi, functionName: 'balanceOf', args: [account] });
}
