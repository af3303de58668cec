// viem chain definition and clients for talking to the devnet: Arbitrum One's chain id and Multicall3
// address, but the local RPC URL and fast polling (anvil mines a block per transaction).
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  http,
  type Account,
  type Chain,
  type Hash,
  type Hex,
  type PublicClient,
  type TestClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from 'viem';
import { arbitrum } from 'viem/chains';
import { privateKeyToAccount } from 'viem/accounts';
import { DevnetError } from './errors.ts';

export const MULTICALL3_ADDRESS = '0xcA11bde05977b3631167028862bE2a173976CA11' as const;

const POLLING_INTERVAL_MS = 20;

/** Arbitrum One pointed at `rpcUrl`; Multicall3 is usable from block 0 (installed at deploy). */
export function devnetChain(rpcUrl: string, chainId: number = arbitrum.id): Chain {
  return defineChain({
    ...arbitrum,
    id: chainId,
    name: 'Livepeer devnet',
    rpcUrls: { default: { http: [rpcUrl] } },
    contracts: { multicall3: { address: MULTICALL3_ADDRESS } },
  });
}

export type DevnetPublicClient = PublicClient<Transport, Chain>;
export type DevnetWalletClient = WalletClient<Transport, Chain, Account>;

export function devnetPublicClient(rpcUrl: string): DevnetPublicClient {
  return createPublicClient({ chain: devnetChain(rpcUrl), transport: http(rpcUrl), pollingInterval: POLLING_INTERVAL_MS });
}

export type DevnetTestClient = TestClient<'anvil', Transport, Chain>;

/** anvil's cheat methods (mine, setCode, snapshot/revert, mining mode). */
export function devnetTestClient(rpcUrl: string): DevnetTestClient {
  return createTestClient({ mode: 'anvil', chain: devnetChain(rpcUrl), transport: http(rpcUrl), pollingInterval: POLLING_INTERVAL_MS });
}

/** A wallet client that signs locally with `privateKey`, as a real node would. */
export function devnetWalletClient(rpcUrl: string, privateKey: Hex): DevnetWalletClient {
  return createWalletClient({
    account: privateKeyToAccount(privateKey),
    chain: devnetChain(rpcUrl),
    transport: http(rpcUrl),
    pollingInterval: POLLING_INTERVAL_MS,
  });
}

/** Waits for a transaction and fails with a clear message when it reverted. */
export async function waitForSuccess(client: DevnetPublicClient, hash: Hash, what: string): Promise<TransactionReceipt> {
  const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: POLLING_INTERVAL_MS });
  if (receipt.status !== 'success') throw new DevnetError(`devnet transaction failed: ${what} (tx ${hash})`);
  return receipt;
}
