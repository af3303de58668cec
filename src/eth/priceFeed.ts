// The ETH/USD price behind currency prices (-maxPricePerUnit 0.5USD): a Chainlink AggregatorV3 feed
// (-priceFeedAddr), read at start and then polled so the wei price follows the market.
import type { Address } from 'viem';
import { priceFeedAbi } from './abi/priceFeed.ts';
import type { EthClient } from './client.ts';
import { describeEthError, EthError } from './errors.ts';
import type { Logger } from '../lib/log.ts';
import { rat, type Rat } from '../lib/rat.ts';

/** Chainlink ETH/USD on Arbitrum One (go-livepeer's -priceFeedAddr default). */
export const ARBITRUM_ETH_USD_FEED: Address = '0x639Fe6ab55C921f74e7fac1ee960C0B6293ba612';

export interface EthPrice {
  /** USD per ETH, exact */
  usdPerEth: Rat;
  /** unix seconds of the feed's last update */
  updatedAt: bigint;
}

/** The feed answered, with something that is no price: the last good price is dropped too. */
export class PriceFeedAnswerError extends EthError {}

export async function readEthPrice(eth: EthClient, feed: Address): Promise<EthPrice> {
  let decimals: number;
  let answer: bigint;
  let updatedAt: bigint;
  try {
    const [d, round] = await eth.publicClient.multicall({
      allowFailure: false,
      contracts: [
        { address: feed, abi: priceFeedAbi, functionName: 'decimals' },
        { address: feed, abi: priceFeedAbi, functionName: 'latestRoundData' },
      ],
    });
    decimals = d;
    answer = round[1];
    updatedAt = round[3];
  } catch (err) {
    throw new EthError(`cannot read the ETH/USD price feed at ${feed} (-priceFeedAddr): ${(err as Error).message.split('\n')[0]}`);
  }
  if (answer <= 0n) throw new PriceFeedAnswerError(`the ETH/USD price feed at ${feed} reports a non-positive price (${answer})`);
  if (decimals > 36) throw new PriceFeedAnswerError(`the ETH/USD price feed at ${feed} reports ${decimals} decimals`);
  return { usdPerEth: rat(answer, 10n ** BigInt(decimals)), updatedAt };
}

/** Keeps the latest ETH/USD price; a failed poll keeps the previous one. */
export class EthPriceWatcher {
  private latest: EthPrice | undefined;
  /** when `latest` was read, ms */
  private readAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly eth: EthClient,
    readonly feed: Address,
    /** Failed polls are logged as warnings (the last price is kept). */
    private readonly opts: { intervalMs?: number; log: Logger },
  ) {}

  /** Reads once (throws when the feed cannot be read) and keeps polling. */
  async start(): Promise<EthPrice> {
    const first = await readEthPrice(this.eth, this.feed);
    this.keep(first);
    this.arm(this.opts.intervalMs ?? 60_000);
    return first;
  }

  /** Like start(), but a feed that cannot be read yet is only logged, and polled again. */
  async startTrying(): Promise<EthPrice | undefined> {
    try {
      return await this.start();
    } catch (err) {
      this.opts.log.warn({ err: describeEthError(err, this.eth.urls) }, 'ETH/USD price feed not readable; spend caps in USD refuse jobs until it is');
      this.arm(this.opts.intervalMs ?? 60_000);
      return undefined;
    }
  }

  private keep(p: EthPrice): void {
    this.latest = p;
    this.readAt = Date.now();
  }

  /** Polls every `ms` from now on (slower while the gateway is idle). */
  setIntervalMs(ms: number): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.arm(ms);
  }

  private arm(ms: number): void {
    this.timer = setInterval(() => {
      readEthPrice(this.eth, this.feed).then(
        (p) => this.keep(p),
        (err: unknown) => {
          // unreachable: the last price stays (its age bounds its use); a nonsense answer voids it
          if (err instanceof PriceFeedAnswerError) this.latest = undefined;
          this.opts.log.warn({ err: describeEthError(err, this.eth.urls) }, 'ETH/USD price poll failed');
        },
      );
    }, ms);
    this.timer.unref();
  }

  price(): EthPrice | undefined {
    return this.latest;
  }

  /** The latest price with the time it was read (ms). */
  quote(): (EthPrice & { readAt: number }) | undefined {
    return this.latest && { ...this.latest, readAt: this.readAt };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
