// node:test helpers for integration tests that need the devnet (see scripts/devnet/devnet.ts):
//
//   const devnet = withDevnet();                       // starts in before(), stops in after()
//   const devnet = withDevnet({ resetEach: true });    // also rewinds the chain before each test
//   test('...', async () => { devnet.rpcUrl; devnet.contracts.ticketBroker; devnet.accounts.broadcaster })
//
// or, outside hooks: `const d = await startDevnet(); try { ... } finally { await d.stop(); }`
import { after, before, beforeEach } from 'node:test';
import { BaseError, ContractFunctionRevertedError, type Address } from 'viem';
import { ticketBrokerAbi } from '../../src/eth/abi/index.ts';
import { startDevnet, type Devnet, type DevnetOptions } from '../../scripts/devnet/devnet.ts';

export {
  DEFAULT_ORCHESTRATOR_STAKES,
  DEFAULT_SERVICE_URIS,
  startDevnet,
  type Devnet,
  type DevnetOptions,
  type DevnetOrchestrator,
  type DevnetTimings,
} from '../../scripts/devnet/devnet.ts';

export interface WithDevnetOptions extends DevnetOptions {
  /** Rewind to the post-set-up state before every test. */
  resetEach?: boolean;
}

/**
 * Registers node:test hooks: a devnet starts in before() and stops in after() (also when tests fail).
 * The returned object reads through to the running devnet.
 */
export function withDevnet(opts: WithDevnetOptions = {}): Devnet {
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
  const reverted = error instanceof BaseError ? (error.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null) : null;
  if (!reverted) throw new Error(`expected a revert with ${JSON.stringify(reason)}, got: ${String(error)}`);
  if (reason === undefined) {
    // A bare revert carries no data; viem then only repeats the node's generic message.
    if (reverted.data !== undefined || (reverted.raw !== undefined && reverted.raw !== '0x')) {
      throw new Error(`expected a revert without reason, got ${JSON.stringify(reverted.reason ?? reverted.raw)}`);
    }
    return;
  }
  if (reverted.reason !== reason) {
    throw new Error(`expected revert reason ${JSON.stringify(reason)}, got ${JSON.stringify(reverted.reason)}`);
  }
}

/** A sender's TicketBroker state, flat, for assertions: deposit, withdrawRound, reserve funds, claimed this round. */
export async function senderState(devnet: Devnet, sender: Address) {
  const [s, r] = await devnet.publicClient.readContract({
    address: devnet.contracts.ticketBroker,
    abi: ticketBrokerAbi,
    functionName: 'getSenderInfo',
    args: [sender],
  });
  return { deposit: s.deposit, withdrawRound: s.withdrawRound, reserve: r.fundsRemaining, claimed: r.claimedInCurrentRound };
}
