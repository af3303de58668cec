// A ready devnet in one call: anvil (chain id 42161) with the Livepeer-ABI contracts deployed, three
// orchestrators (accounts 2, 3, 4) registered with different stakes and service URIs, and an initialized
// round. Used by the integration tests (test/helpers/devnet.ts) and by start.ts for manual runs.
import type { Address, Hex } from 'viem';
import { DEVNET_ACCOUNTS, ORCHESTRATORS, type DevnetAccounts } from './accounts.ts';
import { startAnvil, type Anvil } from './anvil.ts';
import { devnetPublicClient, devnetTestClient, type DevnetPublicClient } from './chain.ts';
import { compileDevnetContracts } from './compile.ts';
import { deployDevnet, fundSender, initializeRound, registerOrchestrator, type DeployOptions, type DevnetContracts } from './deploy.ts';

const LPT = 10n ** 18n;

/** Stakes of accounts 2, 3, 4: deliberately not in account order, so the pool order is 3, 2, 4. */
export const DEFAULT_ORCHESTRATOR_STAKES: readonly bigint[] = [2_000n * LPT, 3_000n * LPT, 1_000n * LPT];

/** Placeholder URIs (the .invalid TLD never resolves); tests that run real orchestrators set their own. */
export const DEFAULT_SERVICE_URIS: readonly string[] = [
  'https://orchestrator-1.devnet.invalid:8935',
  'https://orchestrator-2.devnet.invalid:8935',
  'https://orchestrator-3.devnet.invalid:8935',
];

export interface DevnetOrchestrator {
  address: Address;
  privateKey: Hex;
  stake: bigint;
  serviceURI: string;
}

export interface DevnetTimings {
  anvilMs: number;
  compileMs: number;
  /** Whether the compiled contracts came from the on-disk cache. */
  compileCached: boolean;
  deployMs: number;
  registerMs: number;
  roundMs: number;
  totalMs: number;
}

export interface DevnetOptions extends Omit<DeployOptions, 'artifacts'> {
  /** anvil's port; a free one when omitted. */
  port?: number;
  /** Stakes for accounts 2, 3, 4 (default DEFAULT_ORCHESTRATOR_STAKES). */
  orchestratorStakes?: readonly bigint[];
  /** Service URIs for accounts 2, 3, 4 (default DEFAULT_SERVICE_URIS). */
  serviceURIs?: readonly string[];
  /** Fund the broadcaster (account 1) during set-up; not funded by default. */
  fundBroadcaster?: { deposit: bigint; reserve: bigint };
  /** Switch to interval mining (seconds per block) once set-up is done; default: a block per transaction. */
  blockTime?: number;
}

export interface Devnet {
  rpcUrl: string;
  anvil: Anvil;
  contracts: DevnetContracts;
  accounts: DevnetAccounts;
  /** The registered orchestrators, in account order (2, 3, 4). */
  orchestrators: readonly DevnetOrchestrator[];
  /** The round initialized during set-up. */
  round: bigint;
  publicClient: DevnetPublicClient;
  timings: DevnetTimings;
  /** Rewinds the chain to the state right after set-up (anvil snapshot). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startDevnet(opts: DevnetOptions = {}): Promise<Devnet> {
  const t0 = performance.now();
  let t = t0;
  const lap = (): number => {
    const now = performance.now();
    const ms = Math.round(now - t);
    t = now;
    return ms;
  };

  const anvil = await startAnvil(opts.port !== undefined ? { port: opts.port } : {});
  const anvilMs = lap();
  try {
    const { artifacts, cached } = await compileDevnetContracts();
    const compileMs = lap();
    const contracts = await deployDevnet(anvil.rpcUrl, { ...opts, artifacts });
    const deployMs = lap();

    const stakes = opts.orchestratorStakes ?? DEFAULT_ORCHESTRATOR_STAKES;
    const uris = opts.serviceURIs ?? DEFAULT_SERVICE_URIS;
    const orchestrators: DevnetOrchestrator[] = ORCHESTRATORS.map((a, i) => ({
      address: a.address,
      privateKey: a.privateKey,
      stake: stakes[i] ?? LPT,
      serviceURI: uris[i] ?? '',
    }));
    for (const o of orchestrators) {
      await registerOrchestrator(anvil.rpcUrl, contracts, { address: o.address, stake: o.stake, serviceURI: o.serviceURI });
    }
    if (opts.fundBroadcaster) {
      const { deposit, reserve } = opts.fundBroadcaster;
      await fundSender(anvil.rpcUrl, contracts, DEVNET_ACCOUNTS.broadcaster.privateKey, deposit, reserve);
    }
    const registerMs = lap();
    const round = await initializeRound(anvil.rpcUrl, contracts);
    const roundMs = lap();

    const testClient = devnetTestClient(anvil.rpcUrl);
    if (opts.blockTime !== undefined) {
      await testClient.setAutomine(false);
      await testClient.setIntervalMining({ interval: opts.blockTime });
    }
    let snapshot = await testClient.snapshot();

    return {
      rpcUrl: anvil.rpcUrl,
      anvil,
      contracts,
      accounts: DEVNET_ACCOUNTS,
      orchestrators,
      round,
      publicClient: devnetPublicClient(anvil.rpcUrl),
      timings: {
        anvilMs,
        compileMs,
        compileCached: cached,
        deployMs,
        registerMs,
        roundMs,
        totalMs: Math.round(performance.now() - t0),
      },
      async reset() {
        // A snapshot is consumed by the revert, so take a fresh one of the same state.
        await testClient.revert({ id: snapshot });
        snapshot = await testClient.snapshot();
      },
      stop: () => anvil.stop(),
    };
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}
