// The account's ETH, in wei, at the latest block.
import type { Address } from 'viem';
import type { EthClient } from './client.ts';

export function readEthBalance(eth: EthClient, account: Address): Promise<bigint> {
  return eth.publicClient.getBalance({ address: account });
}
