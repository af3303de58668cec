// Watches rounds and the last L1 block with light polling (no log backfill): the five values go-livepeer's
// time watcher keeps, offered as a synchronous snapshot for the payment code.
import { EventEmitter } from 'node:events';
import { zeroHash, type Hex } from 'viem';
import type { Logger } from '../lib/log.ts';
import type { ChainView } from '../pm/validate.ts';
import type { ExpirationParams } from '../pm/ticketParams.ts';
import { bondingManagerAbi } from './abi/bondingManager.ts';
import { roundsManagerAbi } from './abi/roundsManager.ts';
import { ticketBrokerAbi } from './abi/ticketBroker.ts';
import type { EthClient } from './client.ts';
import type { LivepeerContracts } from './contracts.ts';
import { describeEthError, EthError } from './errors.ts';

export interface RoundSnapshot {
  currentRound: bigint;
  currentRoundInitialized: boolean;
  lastInitializedRound: bigint;
  /** blockHashForRound(lastInitializedRound); zero is possible on Arbitrum. */
  lastInitializedBlockHash: Hex;
  /** Creation round and hash for tickets when the orchestrator sends none (round − 1 when the hash is zero). */
  expiration: ExpirationParams;
  /** Last L1 block seen: the latest block's l1BlockNumber on Arbitrum, its number elsewhere. */
  lastSeenL1Block: bigint;
  currentRoundStartBlock: bigint;
  /** In L1 blocks. */
  roundLength: bigint;
  /** getTranscoderPoolSize: divisor of the reserve share. */
  poolSize: bigint;
  ticketValidityPeriod: bigint;
  /** Date.now() of the poll that produced it. */
  updatedAt: number;
}

/**
 * The creation round a ticket should name: the last initialized round, or the round before it when its
 * stored block hash is zero (Arbitrum's blockhash can be 0, and such tickets could never be redeemed).
 */
export function expirationFor(lastInitializedRound: bigint, hash: Hex, previousHash: Hex): ExpirationParams {
  if (hash !== zeroHash || lastInitializedRound === 0n) return { creationRound: lastInitializedRound, creationRoundBlockHash: hash };
  return { creationRound: lastInitializedRound - 1n, creationRoundBlockHash: previousHash };
}

/** The latest block's L1 number (Arbitrum's extra `l1BlockNumber` field), or its own number on L1 chains. */
export async function latestL1Block(eth: EthClient): Promise<bigint> {
  const block = (await eth.publicClient.request({ method: 'eth_getBlockByNumber', params: ['latest', false] })) as {
    number?: Hex;
    l1BlockNumber?: Hex;
  } | null;
  const n = block?.l1BlockNumber ?? block?.number;
  if (!n) throw new EthError('the Ethereum RPC returned no latest block');
  return BigInt(n);
}

export interface RoundsWatcherOptions {
  /** -blockPollingInterval in ms (default 5 000). */
  intervalMs?: number;
  /** Failed polls are logged as warnings (the watcher keeps polling). */
  log: Logger;
}

export interface RoundsWatcherEvents {
  round: [RoundSnapshot, RoundSnapshot | undefined];
  error: [unknown];
}

/**
 * Emits `round` (new snapshot, previous one) whenever currentRound or lastInitializedRound changes,
 * including the first successful poll. A poll costs one eth_getBlockByNumber, plus one multicall when the
 * L1 block moved (plus one for block hashes when a new round was initialized).
 */
export class RoundsWatcher extends EventEmitter<RoundsWatcherEvents> {
  private current: RoundSnapshot | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<RoundSnapshot> | undefined;
  private readonly hashes = new Map<bigint, Hex>();
  #intervalMs: number;

  constructor(
    private readonly eth: EthClient,
    private readonly contracts: LivepeerContracts,
    private readonly opts: RoundsWatcherOptions,
  ) {
    super();
    this.#intervalMs = opts.intervalMs ?? 5_000;
  }

  /** Time between polls now. */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /**
   * Polls every `ms` from now on (the gateway slows down while no stream runs and speeds up again when
   * one starts). A shorter interval also polls at once, so a stream starting after a long idle stretch
   * pays with a fresh view of the chain.
   */
  setIntervalMs(ms: number): void {
    if (ms === this.#intervalMs) return;
    const sooner = ms < this.#intervalMs;
    this.#intervalMs = ms;
    if (this.timer) {
      this.stop();
      this.arm();
    }
    if (sooner) this.poll().catch(() => undefined);
  }

  private arm(): void {
    this.timer = setInterval(() => {
      this.poll().catch(() => undefined);
    }, this.#intervalMs);
    this.timer.unref();
  }

  /**
   * Starts polling every intervalMs and resolves with the first snapshot (rejects if the first poll fails;
   * polling continues either way until stop()).
   */
  start(): Promise<RoundSnapshot> {
    if (!this.timer) this.arm();
    return this.poll();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The latest snapshot, or undefined before the first successful poll. */
  snapshot(): RoundSnapshot | undefined {
    return this.current;
  }

  /** For pm/validate.ts. Throws before the first successful poll. */
  chainView(): ChainView {
    const s = this.require();
    return { lastSeenL1Block: s.lastSeenL1Block, lastInitializedRound: s.lastInitializedRound, ticketValidityPeriod: s.ticketValidityPeriod };
  }

  /** For pm/sender.ts's ExpirationFallback. Throws before the first successful poll. */
  expirationParams(): ExpirationParams {
    return this.require().expiration;
  }

  private require(): RoundSnapshot {
    if (!this.current) throw new EthError('round information is not available yet (the Ethereum RPC has not answered)');
    return this.current;
  }

  /** One poll now; concurrent callers share it. */
  poll(): Promise<RoundSnapshot> {
    this.polling ??= this.doPoll().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async doPoll(): Promise<RoundSnapshot> {
    try {
      const l1Block = await latestL1Block(this.eth);
      const prev = this.current;
      if (prev && prev.lastSeenL1Block === l1Block) {
        this.current = { ...prev, updatedAt: Date.now() };
        return this.current;
      }
      const next = await this.readRounds(l1Block);
      this.current = next;
      if (!prev || prev.currentRound !== next.currentRound || prev.lastInitializedRound !== next.lastInitializedRound) {
        this.emit('round', next, prev);
      }
      return next;
    } catch (err) {
      this.opts.log.warn({ err: describeEthError(err, this.eth.urls) }, 'round poll failed');
      if (this.listenerCount('error') > 0) this.emit('error', err);
      throw err;
    }
  }

  private async readRounds(l1Block: bigint): Promise<RoundSnapshot> {
    const rm = { address: this.contracts.roundsManager, abi: roundsManagerAbi } as const;
    const [currentRound, initialized, lastInit, startBlock, roundLength, poolSize, validity] = await this.eth.publicClient.multicall({
      allowFailure: false,
      batchSize: 0,
      contracts: [
        { ...rm, functionName: 'currentRound' },
        { ...rm, functionName: 'currentRoundInitialized' },
        { ...rm, functionName: 'lastInitializedRound' },
        { ...rm, functionName: 'currentRoundStartBlock' },
        { ...rm, functionName: 'roundLength' },
        { address: this.contracts.bondingManager, abi: bondingManagerAbi, functionName: 'getTranscoderPoolSize' },
        { address: this.contracts.ticketBroker, abi: ticketBrokerAbi, functionName: 'ticketValidityPeriod' },
      ],
    });
    // A round's stored hash never changes once initialized, so it is read once per round.
    const want = [lastInit, lastInit > 0n ? lastInit - 1n : 0n].filter((r) => !this.hashes.has(r));
    if (want.length > 0) {
      const got = await this.eth.publicClient.multicall({
        allowFailure: false,
        batchSize: 0,
        contracts: want.map((r) => ({ ...rm, functionName: 'blockHashForRound' as const, args: [r] as const })),
      });
      want.forEach((r, i) => {
        this.hashes.set(r, got[i] as Hex);
      });
      if (this.hashes.size > 64) for (const k of [...this.hashes.keys()].slice(0, this.hashes.size - 8)) this.hashes.delete(k);
    }
    const hash = this.hashes.get(lastInit) ?? zeroHash;
    const prevHash = this.hashes.get(lastInit > 0n ? lastInit - 1n : 0n) ?? zeroHash;
    return {
      currentRound,
      currentRoundInitialized: initialized,
      lastInitializedRound: lastInit,
      lastInitializedBlockHash: hash,
      expiration: expirationFor(lastInit, hash, prevHash),
      lastSeenL1Block: l1Block,
      currentRoundStartBlock: startBlock,
      roundLength,
      poolSize,
      ticketValidityPeriod: validity,
      updatedAt: Date.now(),
    };
  }
}
