// A ready devnet for integration tests: anvil (chain id 42161) with the Livepeer-ABI contracts deployed,
// three orchestrators registered with different stakes and service URIs, and an initialized round.
//
//   const devnet = withDevnet();                       // starts in before(), stops in after()
//   const devnet = withDevnet({ resetEach: true });    // also rewinds the chain before each test
//   test('...', async () => { devnet.rpcUrl; devnet.contracts.ticketBroker; devnet.accounts.broadcaster })
//
// or, outside hooks: `const d = await startDevnet(); try { ... } finally { await d.stop(); }`
import { after, before, beforeEach } from 'node:test';
import { BaseError, ContractFunctionRevertedError, type Address, type Hex } from 'viem';
import { DEVNET_ACCOUNTS, ORCHESTRATORS, type DevnetAccounts } from '../../scripts/devnet/accounts.ts';
import { startAnvil, type Anvil } from '../../scripts/devnet/anvil.ts';
import { devnetPublicClient, devnetTestClient, type DevnetPublicClient } from '../../scripts/devnet/chain.ts';
import { compileDevnetContracts } from '../../scripts/devnet/compile.ts';
import {
  deployDevnet,
  fundSender,
  initializeRound,
  registerOrchestrator,
  type DeployOptions,
  type DevnetContracts,
} from '../../scripts/devnet/deploy.ts';

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
  /** Stakes for accounts 2, 3, 4 (default DEFAULT_ORCHESTRATOR_STAKES). */
  orchestratorStakes?: readonly bigint[];
  /** Service URIs for accounts 2, 3, 4 (default DEFAULT_SERVICE_URIS). */
  serviceURIs?: readonly string[];
  /** Fund the broadcaster (account 1) during set-up; not funded by default. */
  fundBroadcaster?: { deposit: bigint; reserve: bigint };
  /** Switch to interval mining (seconds per block) once set-up is done; default: a block per transaction. */
  blockTime?: number;
  /** withDevnet only: rewind to the post-set-up state before every test. */
  resetEach?: boolean;
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

  const anvil = await startAnvil();
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

/**
 * Registers node:test hooks: a devnet starts in before() and stops in after() (also when tests fail).
 * The returned object reads through to the running devnet.
 */
export function withDevnet(opts: DevnetOptions = {}): Devnet {
  let devnet: Devnet | undefined;
  const get = (): Devnet => {
    if (!devnet) throw new Error('devnet not started yet: read it inside a test, not at module load');
    return devnet;
  };
  before(async () => {
    devnet = await startDevnet(opts);
  });
  after(async () => {
    await devnet?.stop();
  });
  if (opts.resetEach) {
    beforeEach(async () => {
      await devnet?.reset();
    });
  }
  return {
    get rpcUrl() {
      return get().rpcUrl;
    },
    get anvil() {
      return get().anvil;
    },
    get contracts() {
      return get().contracts;
    },
    get accounts() {
      return get().accounts;
    },
    get orchestrators() {
      return get().orchestrators;
    },
    get round() {
      return get().round;
    },
    get publicClient() {
      return get().publicClient;
    },
    get timings() {
      return get().timings;
    },
    reset: () => get().reset(),
    stop: async () => {
      await devnet?.stop();
    },
  };
}

/**
 * Asserts that `action` fails with a contract revert carrying exactly `reason`
 * (undefined: a revert without a reason string).
 */
export async function expectRevert(action: Promise<unknown>, reason: string | undefined): Promise<void> {
  let error: unknown;
  try {
    await action;
  } catch (err) {
    error = err;
  }
  if (error === undefined) throw new Error(`expected a revert with ${JSON.stringify(reason)}, but the call succeeded`);
  const reverted =
    error instanceof BaseError
      ? (error.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null)
      : null;
  if (!reverted) throw new Error(`expected a revert with ${JSON.stringify(reason)}, got: ${String(error)}`);
  if (reverted.reason !== reason) {
    throw new Error(`expected revert reason ${JSON.stringify(reason)}, got ${JSON.stringify(reverted.reason)}`);
  }
}
