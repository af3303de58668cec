// Sending a contract transaction the careful way: simulate first (so a revert is seen before gas is spent),
// estimate gas, respect -maxGasPrice, check the balance covers amount + gas, send, then wait for the receipt
// with progress reports and -transactionTimeout.
import {
  BaseError,
  createWalletClient,
  formatEther,
  formatGwei,
  WaitForTransactionReceiptTimeoutError,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type Hash,
  type Hex,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { EthClient } from './client.ts';
import { EthUnreachableError, revertReason, TransactionError, unwrapEthError } from './errors.ts';

export interface EthWallet {
  address: Address;
  client: WalletClient<Transport, Chain, Account>;
}

/** A wallet that signs locally (the key never leaves the process) and sends through the client's endpoints. */
export function createWallet(eth: EthClient, privateKey: Hex): EthWallet {
  const account = privateKeyToAccount(privateKey);
  const client = createWalletClient({ account, chain: eth.chain, transport: eth.transport, pollingInterval: eth.publicClient.pollingInterval });
  return { address: account.address, client };
}

export interface ContractCall<abi extends Abi = Abi> {
  address: Address;
  abi: abi;
  functionName: ContractFunctionName<abi, 'nonpayable' | 'payable'>;
  args?: ContractFunctionArgs<abi, 'nonpayable' | 'payable'>;
  value?: bigint;
}

export interface TxOptions {
  /** -maxGasPrice in wei; 0 or undefined = no cap. */
  maxGasPrice?: bigint;
  /** -transactionTimeout in ms (default 5 min). */
  timeoutMs?: number;
  /** How often a pending transaction is reported, ms (default 5 000). */
  progressIntervalMs?: number;
  onProgress?: (p: TxProgress) => void;
}

export type TxProgress =
  | { stage: 'sent'; hash: Hash }
  | { stage: 'pending'; hash: Hash; elapsedMs: number }
  | { stage: 'mined'; hash: Hash; receipt: TransactionReceipt };

export interface TxPlan {
  call: ContractCall;
  from: Address;
  value: bigint;
  /** Gas limit to send with (estimate + 20 %). */
  gas: bigint;
  gasEstimate: bigint;
  /** eth_gasPrice now: what -maxGasPrice is compared with. */
  gasPrice: bigint;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
  /** gasEstimate × gasPrice: the likely fee. */
  expectedFee: bigint;
  /** gas × maxFeePerGas: the most the fee can be. */
  maxFee: bigint;
  balance: bigint;
}

/** Maps a contract revert reason to a plain TransactionError, or undefined to keep the generic one. */
export type RevertExplainer = (reason: string) => TransactionError | undefined;

const eth = (wei: bigint): string => `${formatEther(wei)} ETH`;

function sendFailure(err: unknown, what: string): Error {
  const e = unwrapEthError(err);
  if (e instanceof EthUnreachableError) return e;
  const short = e instanceof BaseError ? e.shortMessage : e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e);
  if (/insufficient funds/i.test(short)) {
    return new TransactionError('insufficient-eth', `not enough ETH to ${what} and pay for gas; send ETH (on Arbitrum One) to the account`);
  }
  return new TransactionError('rejected', `the Ethereum node refused to ${what}: ${short}`);
}

/**
 * Everything short of sending: balance ≥ amount, simulation (eth_call) with the contract's revert reason,
 * gas estimate, fees under -maxGasPrice, balance ≥ amount + gas.
 */
export async function planContractTx(
  client: EthClient,
  wallet: EthWallet,
  call: ContractCall,
  opts: TxOptions & { explain?: RevertExplainer; what: string },
): Promise<TxPlan> {
  const pub = client.publicClient;
  const value = call.value ?? 0n;
  const from = wallet.address;
  try {
    const balance = await pub.getBalance({ address: from });
    if (balance < value) {
      throw new TransactionError(
        'insufficient-eth',
        `insufficient ETH: ${from} has ${eth(balance)} but ${opts.what} needs ${eth(value)} plus gas; ` +
          `send ETH on Arbitrum One to ${from} or use a smaller amount`,
      );
    }
    const request = { account: wallet.client.account, address: call.address, abi: call.abi, functionName: call.functionName, args: call.args, value } as never;
    try {
      await pub.simulateContract(request);
    } catch (err) {
      const reason = revertReason(err);
      if (reason === undefined) throw err;
      throw opts.explain?.(reason) ?? new TransactionError('reverted', `the contract would refuse to ${opts.what}: ${reason} (nothing was sent, no gas spent)`);
    }
    const gasEstimate = await pub.estimateContractGas(request);
    const gas = (gasEstimate * 12n) / 10n;
    const gasPrice = await pub.getGasPrice();
    const cap = opts.maxGasPrice && opts.maxGasPrice > 0n ? opts.maxGasPrice : undefined;
    if (cap !== undefined && gasPrice > cap) {
      throw new TransactionError(
        'gas-price-too-high',
        `the network gas price is ${formatGwei(gasPrice)} gwei, above -maxGasPrice ${formatGwei(cap)} gwei; ` +
          'nothing was sent: try again later or raise -maxGasPrice',
      );
    }
    const fees = await pub.estimateFeesPerGas();
    let maxFeePerGas = fees.maxFeePerGas > gasPrice ? fees.maxFeePerGas : gasPrice;
    if (cap !== undefined && maxFeePerGas > cap) maxFeePerGas = cap;
    const maxPriorityFeePerGas = fees.maxPriorityFeePerGas < maxFeePerGas ? fees.maxPriorityFeePerGas : maxFeePerGas;
    const maxFee = gas * maxFeePerGas;
    if (balance < value + maxFee) {
      throw new TransactionError(
        'insufficient-eth',
        `insufficient ETH: ${from} has ${eth(balance)}; ${opts.what} needs ${eth(value)} plus up to ${eth(maxFee)} for gas; ` +
          `send ETH on Arbitrum One to ${from} or use a smaller amount`,
      );
    }
    return {
      call,
      from,
      value,
      gas,
      gasEstimate,
      gasPrice,
      maxFeePerGas,
      maxPriorityFeePerGas,
      expectedFee: gasEstimate * gasPrice,
      maxFee,
      balance,
    };
  } catch (err) {
    if (err instanceof TransactionError) throw err;
    throw sendFailure(err, opts.what);
  }
}

/** Sends a planned transaction and waits for its receipt; a reverted or late receipt is a TransactionError. */
export async function sendPlannedTx(client: EthClient, wallet: EthWallet, plan: TxPlan, opts: TxOptions & { what: string }): Promise<TransactionReceipt> {
  let hash: Hash;
  try {
    hash = await wallet.client.writeContract({
      address: plan.call.address,
      abi: plan.call.abi,
      functionName: plan.call.functionName,
      args: plan.call.args,
      value: plan.value,
      gas: plan.gas,
      maxFeePerGas: plan.maxFeePerGas,
      maxPriorityFeePerGas: plan.maxPriorityFeePerGas,
    } as never);
  } catch (err) {
    throw sendFailure(err, opts.what);
  }
  opts.onProgress?.({ stage: 'sent', hash });
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const started = Date.now();
  const ticker = opts.onProgress
    ? setInterval(() => opts.onProgress?.({ stage: 'pending', hash, elapsedMs: Date.now() - started }), opts.progressIntervalMs ?? 5_000)
    : undefined;
  let receipt: TransactionReceipt;
  try {
    receipt = await client.publicClient.waitForTransactionReceipt({ hash, timeout: timeoutMs });
  } catch (err) {
    if (err instanceof WaitForTransactionReceiptTimeoutError || findTimeout(err)) {
      throw new TransactionError(
        'timeout',
        `no receipt for transaction ${hash} after ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`} ` +
          '(-transactionTimeout); it may still be mined: ' +
          'check `livepeer-gateway deposit info` before sending it again',
        hash,
      );
    }
    throw sendFailure(err, opts.what);
  } finally {
    if (ticker) clearInterval(ticker);
  }
  opts.onProgress?.({ stage: 'mined', hash, receipt });
  if (receipt.status !== 'success') {
    throw new TransactionError(
      'reverted',
      `transaction ${hash} was mined in block ${receipt.blockNumber} but reverted: nothing changed except the gas spent ` +
        `(${eth(receipt.gasUsed * receipt.effectiveGasPrice)}); check \`livepeer-gateway deposit info\` and try again`,
      hash,
    );
  }
  return receipt;
}

function findTimeout(err: unknown): boolean {
  return err instanceof BaseError && err.walk((e) => e instanceof WaitForTransactionReceiptTimeoutError) !== null;
}
