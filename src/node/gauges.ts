// Gauges that follow state rather than events: the max price, and on-chain the deposit and reserve.
import type { GatewayMetrics } from '../server/metrics.ts';
import type { BroadcastConfig } from './broadcastConfig.ts';
import type { ChainServices } from './chain.ts';

const GAUGE_INTERVAL_MS = 5000;

/** Sets the gauges now and every 5 s; returns the stop function. */
export function startGauges(metrics: GatewayMetrics, broadcast: BroadcastConfig, chain: ChainServices | undefined): () => void {
  const update = () => {
    const price = broadcast.maxPrice();
    metrics.transcodingPrice.set(price ? Number(price.num) / Number(price.den) : 0);
    if (!chain) return;
    // gwei, as go-livepeer reports them
    const info = chain.senderInfo();
    metrics.deposit.set({ sender: chain.address }, Number(info.deposit / 10n ** 9n));
    metrics.reserve.set({ sender: chain.address }, Number(info.reserve.fundsRemaining / 10n ** 9n));
  };
  update();
  const timer = setInterval(update, GAUGE_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
