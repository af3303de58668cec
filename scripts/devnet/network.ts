// A whole local Livepeer network: the devnet chain and contracts, three orchestrators with different
// stakes and prices serving on loopback (their service URIs registered on chain), the devnet
// broadcaster funded, and a keeper that mines a block a second and initializes each new round.
import type { Address } from 'viem';
import { errorMessage } from '../../src/lib/errors.ts';
import { silentLogger, type Logger } from '../../src/lib/log.ts';
import { BROADCASTER } from './accounts.ts';
import { startDevnet, type Devnet, type DevnetOptions } from './devnet.ts';
import { fundSender, initializeRound, mineBlocks, setServiceURI } from './deploy.ts';
import { roundsManagerAbi, ticketBrokerAbi } from '../../src/eth/abi/index.ts';
import { startOrchestrator, type OrchestratorFaults, type RunningOrchestrator } from './orchestrator/orchestrator.ts';
import { DEFAULT_AI_MODELS, type AiWorkerOptions } from './orchestrator/ai/config.ts';

const ETH = 10n ** 18n;

export interface LocalOrchestratorSpec {
  /** wei per pixel */
  pricePerUnit: bigint;
  pixelsPerUnit?: bigint;
  faults?: OrchestratorFaults;
  /** concurrent transcoding sessions (default 10) */
  maxSessions?: number;
  /** AI models served; default: every pipeline's default model (and the docs' example) at pricePerUnit wei per unit; null = none */
  ai?: AiWorkerOptions | null;
}

/**
 * Devnet pricing is chosen so that a demo shows every part of the payment flow within seconds:
 * a 2 s segment of the two default renditions costs ≈ 2·10^10 wei at 1000 wei/pixel, each ticket is worth
 * 10^10 wei with a face value of 2·10^10 (win probability ½), so every segment carries tickets and
 * about every other ticket wins and is redeemed.
 */
export const DEVNET_TICKET_EV = 10_000_000_000n;
export const DEVNET_MAX_FACE_VALUE = 20_000_000_000n;
export const DEFAULT_ORCHESTRATOR_PRICES: readonly bigint[] = [1000n, 1200n, 1500n];

export interface LocalNetworkOptions extends Omit<DevnetOptions, 'serviceURIs' | 'fundBroadcaster'> {
  orchestrators?: readonly LocalOrchestratorSpec[];
  /** broadcaster funding; default 1 ETH deposit + 1 ETH reserve; null = leave unfunded */
  fundBroadcaster?: { deposit: bigint; reserve: bigint } | null;
  ticketEV?: bigint;
  /** the orchestrators' -redeemGas; default 1 (devnet gas costs nothing real, small face values stay acceptable) */
  redeemGas?: bigint;
  maxFaceValue?: bigint;
  /** 'prerendered': every orchestrator in the load mode (renditions encoded once, reused; bench/load.ts) */
  transcoding?: 'ffmpeg' | 'prerendered';
  /** keeper tick; 0 = no keeper (tests that move the chain themselves) */
  keeperIntervalMs?: number;
  log?: Logger;
}

export interface LocalNetwork {
  devnet: Devnet;
  orchestrators: RunningOrchestrator[];
  broadcaster: { address: Address };
  /** the broadcaster's TicketBroker deposit now */
  broadcasterDeposit(): Promise<bigint>;
  /** what a gateway needs: -network devnet -ethUrl … -ethController … (-priceFeedAddr for USD prices) */
  gatewayFlags: Record<string, string>;
  readyMs: number;
  stop(): Promise<void>;
}

/** Mines a block every `intervalMs` and initializes each new round, as the real network's keepers would. */
function startKeeper(devnet: Devnet, log: Logger, intervalMs: number): NodeJS.Timeout {
  let busy = false;
  const keeper = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      try {
        await mineBlocks(devnet.rpcUrl, 1);
        const initialized = await devnet.publicClient.readContract({
          address: devnet.contracts.roundsManager,
          abi: roundsManagerAbi,
          functionName: 'currentRoundInitialized',
        });
        if (!initialized) {
          const round = await initializeRound(devnet.rpcUrl, devnet.contracts);
          log.info({ round: String(round) }, 'round initialized');
        }
      } catch (err) {
        log.warn({ err: errorMessage(err) }, 'devnet keeper tick failed');
      } finally {
        busy = false;
      }
    })();
  }, intervalMs);
  keeper.unref();
  return keeper;
}

export async function startLocalNetwork(opts: LocalNetworkOptions = {}): Promise<LocalNetwork> {
  const t0 = performance.now();
  const log = opts.log ?? silentLogger();
  const {
    orchestrators: _specs,
    fundBroadcaster: _funding,
    ticketEV: _ev,
    redeemGas: _redeemGas,
    maxFaceValue: _max,
    keeperIntervalMs: _k,
    log: _log,
    transcoding: _t,
    ...devnetOpts
  } = opts;
  const devnet = await startDevnet(devnetOpts);
  const orchestrators: RunningOrchestrator[] = [];
  let keeper: NodeJS.Timeout | undefined;
  const stop = async (): Promise<void> => {
    if (keeper) clearInterval(keeper);
    await Promise.allSettled(orchestrators.map((o) => o.stop()));
    await devnet.stop();
  };
  try {
    const specs: readonly LocalOrchestratorSpec[] = opts.orchestrators ?? DEFAULT_ORCHESTRATOR_PRICES.map((pricePerUnit) => ({ pricePerUnit }));
    for (const [i, o] of devnet.orchestrators.entries()) {
      const spec = specs[i];
      if (!spec) continue;
      const running = await startOrchestrator({
        privateKey: o.privateKey,
        rpcUrl: devnet.rpcUrl,
        contracts: devnet.contracts,
        pricePerUnit: spec.pricePerUnit,
        pixelsPerUnit: spec.pixelsPerUnit ?? 1n,
        ticketEV: opts.ticketEV ?? DEVNET_TICKET_EV,
        maxFaceValue: opts.maxFaceValue ?? DEVNET_MAX_FACE_VALUE,
        // Devnet gas costs nothing real: a nominal redemption gas keeps small face values acceptable
        // (go-livepeer refuses face values below one redemption's gas cost).
        redeemGas: opts.redeemGas ?? 1n,
        initializeRounds: true,
        logger: log.child({ orchestrator: i + 1 }),
        ...(spec.faults ? { faults: spec.faults } : {}),
        ...(spec.maxSessions ? { maxSessions: spec.maxSessions } : {}),
        ...(opts.transcoding ? { transcoding: opts.transcoding } : {}),
        ...(spec.ai !== null ? { ai: spec.ai ?? { models: DEFAULT_AI_MODELS.map((m) => ({ ...m, pricePerUnit: spec.pricePerUnit })) } } : {}),
      });
      orchestrators.push(running);
      await setServiceURI(devnet.rpcUrl, devnet.contracts, o.address, running.uri);
    }
    const funding = opts.fundBroadcaster === undefined ? { deposit: ETH, reserve: ETH } : opts.fundBroadcaster;
    if (funding) await fundSender(devnet.rpcUrl, devnet.contracts, BROADCASTER.privateKey, funding.deposit, funding.reserve);

    const interval = opts.keeperIntervalMs ?? 1000;
    if (interval > 0) keeper = startKeeper(devnet, log, interval);
    return {
      devnet,
      orchestrators,
      broadcaster: { address: BROADCASTER.address },
      async broadcasterDeposit() {
        const [sender] = await devnet.publicClient.readContract({
          address: devnet.contracts.ticketBroker,
          abi: ticketBrokerAbi,
          functionName: 'getSenderInfo',
          args: [BROADCASTER.address],
        });
        return sender.deposit;
      },
      gatewayFlags: { network: 'devnet', ethUrl: devnet.rpcUrl, ethController: devnet.contracts.controller, priceFeedAddr: devnet.contracts.priceFeed },
      readyMs: Math.round(performance.now() - t0),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
