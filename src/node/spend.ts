// What the gateway spends: the expected value of the tickets it sent over the last hour, the runway that
// leaves the deposit ("about N hours at the last hour's spend"), and the deposit.low event when that
// runway gets short.
import type { ChainServices } from './chain.ts';
import type { GatewayEventBus } from './events.ts';

const HOUR_MS = 3_600_000;
/** A rate over less than this is too noisy to estimate from. */
const MIN_WINDOW_MS = 60_000;

/** Payments are summed per minute: the memory stays 61 sums however many streams pay. */
const BUCKET_MS = 60_000;

/** Expected value sent in tickets, over a sliding hour (to the minute). */
export class SpendMeter {
  /** per minute (ms since the epoch / BUCKET_MS), oldest first */
  readonly #minutes: { minute: number; wei: bigint }[] = [];
  readonly #since: number;

  constructor(
    events: GatewayEventBus,
    private readonly now: () => number = Date.now,
  ) {
    this.#since = now();
    events.on('payment.sent', (p) => this.record(BigInt(p.evWei)));
  }

  record(wei: bigint): void {
    const minute = Math.floor(this.now() / BUCKET_MS);
    const last = this.#minutes.at(-1);
    // (a clock stepped back adds to the newest minute rather than out of order)
    if (last && minute <= last.minute) last.wei += wei;
    else this.#minutes.push({ minute, wei });
    this.#prune();
  }

  /** Drops the minutes wholly before the last hour. */
  #prune(): void {
    const cutoff = this.now() - HOUR_MS;
    while (this.#minutes.length > 0 && (this.#minutes[0]!.minute + 1) * BUCKET_MS <= cutoff) this.#minutes.shift();
  }

  /** How many per-minute sums are kept (at most 61). */
  get minutesKept(): number {
    return this.#minutes.length;
  }

  /** Wei sent (expected value) during the last hour (to the minute), or since start when that is shorter. */
  lastHourWei(): bigint {
    this.#prune();
    return this.#minutes.reduce((sum, m) => sum + m.wei, 0n);
  }

  /** Wei per hour at the last hour's pace; the first minutes count as a whole minute. */
  weiPerHour(): bigint {
    const windowMs = Math.max(MIN_WINDOW_MS, Math.min(HOUR_MS, this.now() - this.#since));
    return (this.lastHourWei() * BigInt(HOUR_MS)) / BigInt(windowMs);
  }

  /** Seconds `fundsWei` lasts at the last hour's pace; undefined when nothing was spent. */
  runwaySeconds(fundsWei: bigint): number | undefined {
    const perHour = this.weiPerHour();
    if (perHour === 0n) return undefined;
    return Number((fundsWei * 3600n) / perHour);
  }
}

/** "about 3.5 hours", "about 2 days", for people. */
export function describeRunway(seconds: number | undefined): string {
  if (seconds === undefined) return 'nothing spent in the last hour';
  if (seconds < 120) return `about ${Math.max(0, Math.round(seconds))} seconds at the last hour's spend`;
  if (seconds < 7200) return `about ${Math.round(seconds / 60)} minutes at the last hour's spend`;
  if (seconds < 3 * 86_400) return `about ${(seconds / 3600).toFixed(1)} hours at the last hour's spend`;
  return `about ${Math.round(seconds / 86_400)} days at the last hour's spend`;
}

export interface DepositWatchOptions {
  /** runway below this is low (default 2 h) */
  lowRunwaySeconds?: number;
  /** how often to look (default 30 s) */
  intervalMs?: number;
}

/**
 * Emits deposit.low once when the deposit is empty or its runway falls under the threshold, and again only
 * after it has recovered. Returns the stop function.
 */
export function watchDeposit(chain: ChainServices, meter: SpendMeter, events: GatewayEventBus, opts: DepositWatchOptions = {}): () => void {
  const lowRunway = opts.lowRunwaySeconds ?? 7200;
  let low = false;
  const check = () => {
    const info = chain.senderInfo();
    const runwaySeconds = meter.runwaySeconds(info.deposit);
    const isLow = info.deposit === 0n || (runwaySeconds !== undefined && runwaySeconds < lowRunway);
    if (isLow && !low) {
      events.emit('deposit.low', {
        depositWei: info.deposit.toString(),
        reserveWei: info.reserve.fundsRemaining.toString(),
        ...(runwaySeconds !== undefined ? { runwaySeconds } : {}),
      });
    }
    low = isLow;
  };
  check();
  const timer = setInterval(check, opts.intervalMs ?? 30_000);
  timer.unref();
  return () => clearInterval(timer);
}
