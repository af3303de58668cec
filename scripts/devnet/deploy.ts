// Deploys the devnet's Livepeer-ABI contracts to an anvil chain, registers them in the Controller and
// offers the set-up steps tests need: orchestrator registration, round initialization, mining, funding.
import { contractId } from '../../src/eth/contracts.ts';
import { getAddress, type Address, type Hex, type TransactionReceipt } from 'viem';
import { bondingManagerAbi, roundsManagerAbi, ticketBrokerAbi } from '../../src/eth/abi/index.ts';
import { DEPLOYER } from './accounts.ts';
import {
  MULTICALL3_ADDRESS,
  devnetPublicClient,
  devnetTestClient,
  devnetWalletClient,
  waitForSuccess,
  type DevnetPublicClient,
  type DevnetWalletClient,
} from './chain.ts';
import { artifact, compileDevnetContracts, type DevnetArtifacts } from './compile.ts';
import { devBondingManagerAbi, devControllerAbi, devServiceRegistryAbi, devTicketBrokerAbi } from './devAbi.ts';
import { DevnetError } from './errors.ts';

export interface DevnetContracts {
  controller: Address;
  ticketBroker: Address;
  bondingManager: Address;
  roundsManager: Address;
  serviceRegistry: Address;
  minter: Address;
  livepeerToken: Address;
  multicall3: Address;
  /** Chainlink-style ETH/USD feed (not part of the protocol; -priceFeedAddr points at it). */
  priceFeed: Address;
}

export interface DeployOptions {
  /** Blocks per round (default 20, so tests can move through rounds quickly). */
  roundLength?: bigint;
  /** Rounds between unlock() and withdraw() (default 2, as on Arbitrum One). */
  unlockPeriod?: bigint;
  /** Rounds a ticket stays redeemable (default 2, as on Arbitrum One). */
  ticketValidityPeriod?: bigint;
  /** Transcoder pool size (default 100, as on Arbitrum One). */
  numActiveTranscoders?: bigint;
  /** Share of a round, in millionths, at its end during which it is locked (default 100 000 = 10 %). */
  roundLockAmount?: bigint;
  /** Key that deploys and owns the Controller (default: anvil account 0). */
  deployerPrivateKey?: Hex;
  /** Already compiled artifacts; compiled (or read from the cache) when omitted. */
  artifacts?: DevnetArtifacts;
  /** Initial ETH/USD answer of the price feed, 8 decimals (default 2000 USD). */
  ethUsdPrice?: bigint;
}

export const DEFAULT_ROUND_LENGTH = 20n;
/** ETH/USD answer of the devnet price feed at deploy: 2000 USD with 8 decimals. */
export const DEFAULT_ETH_USD_PRICE = 2000n * 10n ** 8n;

export { contractId };

function clients(rpcUrl: string, privateKey: Hex = DEPLOYER.privateKey): { pub: DevnetPublicClient; wallet: DevnetWalletClient } {
  return { pub: devnetPublicClient(rpcUrl), wallet: devnetWalletClient(rpcUrl, privateKey) };
}

async function deploy(
  pub: DevnetPublicClient,
  wallet: DevnetWalletClient,
  artifacts: DevnetArtifacts,
  name: string,
  args: readonly unknown[] = [],
): Promise<Address> {
  const a = artifact(artifacts, name);
  const hash = await wallet.deployContract({ abi: a.abi, bytecode: a.bytecode, args });
  const receipt = await waitForSuccess(pub, hash, `deploy ${name}`);
  if (!receipt.contractAddress) throw new DevnetError(`deploy ${name}: no contract address in receipt ${hash}`);
  return getAddress(receipt.contractAddress);
}

/**
 * Deploys Controller, TicketBroker, BondingManager, RoundsManager, ServiceRegistry, Minter and LivepeerToken,
 * registers them by keccak256(name) (the broker also as "JobsManager", which the Minter trusts), sets
 * unlockPeriod/ticketValidityPeriod, installs Multicall3 at its canonical address and unpauses the Controller.
 */
export async function deployDevnet(rpcUrl: string, opts: DeployOptions = {}): Promise<DevnetContracts> {
  const artifacts = opts.artifacts ?? (await compileDevnetContracts()).artifacts;
  const { pub, wallet } = clients(rpcUrl, opts.deployerPrivateKey);

  const controller = await deploy(pub, wallet, artifacts, 'Controller');
  const minter = await deploy(pub, wallet, artifacts, 'Minter', [controller]);
  const livepeerToken = await deploy(pub, wallet, artifacts, 'LivepeerToken');
  const bondingManager = await deploy(pub, wallet, artifacts, 'BondingManager', [controller, opts.numActiveTranscoders ?? 100n]);
  const roundsManager = await deploy(pub, wallet, artifacts, 'RoundsManager', [
    controller,
    opts.roundLength ?? DEFAULT_ROUND_LENGTH,
    opts.roundLockAmount ?? 100_000n,
  ]);
  const serviceRegistry = await deploy(pub, wallet, artifacts, 'ServiceRegistry', [controller]);
  const ticketBroker = await deploy(pub, wallet, artifacts, 'TicketBroker', [controller]);

  // The Controller keeps a "git commit hash" per entry; the devnet records its source hash there.
  const commit = `0x${artifacts.sourceHash.slice(0, 40)}` as Hex;
  const registry: [string, Address][] = [
    ['TicketBroker', ticketBroker],
    ['JobsManager', ticketBroker],
    ['BondingManager', bondingManager],
    ['RoundsManager', roundsManager],
    ['ServiceRegistry', serviceRegistry],
    ['LivepeerToken', livepeerToken],
    ['Minter', minter],
  ];
  for (const [name, address] of registry) {
    const hash = await wallet.writeContract({
      address: controller,
      abi: devControllerAbi,
      functionName: 'setContractInfo',
      args: [contractId(name), address, commit],
    });
    await waitForSuccess(pub, hash, `register ${name}`);
  }

  const setUnlock = await wallet.writeContract({
    address: ticketBroker,
    abi: devTicketBrokerAbi,
    functionName: 'setUnlockPeriod',
    args: [opts.unlockPeriod ?? 2n],
  });
  await waitForSuccess(pub, setUnlock, 'setUnlockPeriod');
  const setValidity = await wallet.writeContract({
    address: ticketBroker,
    abi: devTicketBrokerAbi,
    functionName: 'setTicketValidityPeriod',
    args: [opts.ticketValidityPeriod ?? 2n],
  });
  await waitForSuccess(pub, setValidity, 'setTicketValidityPeriod');

  // Chainlink-style ETH/USD feed for currency prices: 8 decimals, like the Arbitrum One feed.
  const priceFeed = await deploy(pub, wallet, artifacts, 'PriceFeed', [8, opts.ethUsdPrice ?? DEFAULT_ETH_USD_PRICE, 'ETH / USD']);

  await devnetTestClient(rpcUrl).setCode({
    address: MULTICALL3_ADDRESS,
    bytecode: artifact(artifacts, 'Multicall3').deployedBytecode,
  });

  const unpause = await wallet.writeContract({ address: controller, abi: devControllerAbi, functionName: 'unpause' });
  await waitForSuccess(pub, unpause, 'unpause Controller');

  return {
    controller,
    priceFeed,
    ticketBroker,
    bondingManager,
    roundsManager,
    serviceRegistry,
    minter,
    livepeerToken,
    multicall3: MULTICALL3_ADDRESS,
  };
}

export interface OrchestratorRegistration {
  address: Address;
  /** LPT wei; decides the position in the pool (largest first). */
  stake: bigint;
  /** Set when given (also "" to clear). */
  serviceURI?: string;
  /** Millionths (1 000 000 = 100 %); set together with feeShare when either is given. */
  rewardCut?: bigint;
  feeShare?: bigint;
}

/**
 * Registers (or re-stakes) an orchestrator without LPT bonding. On the devnet it is active from the current
 * round (the real network activates from the next round).
 */
export async function registerOrchestrator(rpcUrl: string, contracts: DevnetContracts, o: OrchestratorRegistration): Promise<void> {
  const { pub, wallet } = clients(rpcUrl);
  const reg = await wallet.writeContract({
    address: contracts.bondingManager,
    abi: devBondingManagerAbi,
    functionName: 'devRegisterTranscoder',
    args: [o.address, o.stake],
  });
  await waitForSuccess(pub, reg, `register orchestrator ${o.address}`);
  if (o.rewardCut !== undefined || o.feeShare !== undefined) {
    const rates = await wallet.writeContract({
      address: contracts.bondingManager,
      abi: devBondingManagerAbi,
      functionName: 'devSetTranscoderRates',
      args: [o.address, o.rewardCut ?? 0n, o.feeShare ?? 0n],
    });
    await waitForSuccess(pub, rates, `set rates of ${o.address}`);
  }
  if (o.serviceURI !== undefined) await setServiceURI(rpcUrl, contracts, o.address, o.serviceURI);
}

/** Sets an orchestrator's service URI without its key (Controller owner). */
export async function setServiceURI(rpcUrl: string, contracts: DevnetContracts, address: Address, uri: string): Promise<void> {
  const { pub, wallet } = clients(rpcUrl);
  const hash = await wallet.writeContract({
    address: contracts.serviceRegistry,
    abi: devServiceRegistryAbi,
    functionName: 'devSetServiceURI',
    args: [address, uri],
  });
  await waitForSuccess(pub, hash, `set service URI of ${address}`);
}

/** Takes an orchestrator out of the pool; inactive from the current round, still registered. */
export async function deactivateOrchestrator(rpcUrl: string, contracts: DevnetContracts, address: Address): Promise<void> {
  const { pub, wallet } = clients(rpcUrl);
  const hash = await wallet.writeContract({
    address: contracts.bondingManager,
    abi: devBondingManagerAbi,
    functionName: 'devDeactivateTranscoder',
    args: [address],
  });
  await waitForSuccess(pub, hash, `deactivate orchestrator ${address}`);
}

/** Mines `n` empty blocks at once. */
export async function mineBlocks(rpcUrl: string, n: number | bigint): Promise<void> {
  if (BigInt(n) <= 0n) return;
  await devnetTestClient(rpcUrl).mine({ blocks: Number(n) });
}

/**
 * Mines until the latest block is the first block of the next round, so reads (which see the latest block)
 * and the next transaction agree on the round. Returns the new current round.
 */
export async function mineToNextRound(rpcUrl: string, contracts: DevnetContracts): Promise<bigint> {
  const pub = devnetPublicClient(rpcUrl);
  const [latest, start, length, round] = await Promise.all([
    pub.getBlockNumber({ cacheTime: 0 }),
    pub.readContract({ address: contracts.roundsManager, abi: roundsManagerAbi, functionName: 'currentRoundStartBlock' }),
    pub.readContract({ address: contracts.roundsManager, abi: roundsManagerAbi, functionName: 'roundLength' }),
    pub.readContract({ address: contracts.roundsManager, abi: roundsManagerAbi, functionName: 'currentRound' }),
  ]);
  await mineBlocks(rpcUrl, start + length - latest);
  return round + 1n;
}

/**
 * Initializes the current round; if it is initialized already, first mines to the next round and
 * initializes that one. Returns the initialized round.
 */
export async function initializeRound(rpcUrl: string, contracts: DevnetContracts): Promise<bigint> {
  const { pub, wallet } = clients(rpcUrl);
  const initialized = await pub.readContract({
    address: contracts.roundsManager,
    abi: roundsManagerAbi,
    functionName: 'currentRoundInitialized',
  });
  if (initialized) await mineToNextRound(rpcUrl, contracts);
  const hash = await wallet.writeContract({
    address: contracts.roundsManager,
    abi: roundsManagerAbi,
    functionName: 'initializeRound',
  });
  await waitForSuccess(pub, hash, 'initializeRound');
  return pub.readContract({ address: contracts.roundsManager, abi: roundsManagerAbi, functionName: 'lastInitializedRound' });
}

/** Funds a sender's deposit and reserve in one fundDepositAndReserve transaction signed by the sender. */
export async function fundSender(
  rpcUrl: string,
  contracts: DevnetContracts,
  senderPrivateKey: Hex,
  deposit: bigint,
  reserve: bigint,
): Promise<TransactionReceipt> {
  const { pub, wallet } = clients(rpcUrl, senderPrivateKey);
  const hash = await wallet.writeContract({
    address: contracts.ticketBroker,
    abi: ticketBrokerAbi,
    functionName: 'fundDepositAndReserve',
    args: [deposit, reserve],
    value: deposit + reserve,
  });
  return waitForSuccess(pub, hash, `fund sender ${wallet.account.address}`);
}

/** Reads the pool in order (largest stake first). */
export async function readTranscoderPool(rpcUrl: string, contracts: DevnetContracts): Promise<Address[]> {
  const pub = devnetPublicClient(rpcUrl);
  const pool: Address[] = [];
  let a = await pub.readContract({ address: contracts.bondingManager, abi: bondingManagerAbi, functionName: 'getFirstTranscoderInPool' });
  while (a !== '0x0000000000000000000000000000000000000000') {
    pool.push(a);
    a = await pub.readContract({
      address: contracts.bondingManager,
      abi: bondingManagerAbi,
      functionName: 'getNextTranscoderInPool',
      args: [a],
    });
  }
  return pool;
}
