// Brings up everything on-chain a gateway needs, in go-livepeer's order: RPC (chain id checked against
// the data directory), keystore, rounds watcher, sender info, on-chain orchestrator pool.
import type { NodeConfig } from './config.ts';
import { OnchainPool } from '../discovery/onchainPool.ts';
import { connectEth, type EthConnection } from '../eth/connect.ts';
import { describeEthError } from '../eth/errors.ts';
import { EthPriceWatcher } from '../eth/priceFeed.ts';
import { RoundsWatcher } from '../eth/rounds.ts';
import { freshRounds } from './freshRounds.ts';
import { readSenderInfo } from '../eth/senderInfo.ts';
import { readTranscoderPool } from '../eth/transcoderPool.ts';
import { createWallet, type EthWallet } from '../eth/transactions.ts';
import { ratToDecimal, rat } from '../lib/rat.ts';
import { SegmentPayer } from '../pm/segmentPayer.ts';
import { TicketSender } from '../pm/sender.ts';
import type { SenderInfo } from '../pm/senderInfo.ts';
import { privateKeySigner } from '../pm/signer.ts';
import { PoolCache } from '../store/poolCache.ts';
import type { ChainServices } from './chain.ts';
import type { Logger } from '../lib/log.ts';
import { AI_SERVICE_REGISTRY } from './aiGateway.ts';
import { openAccount, type PassphrasePrompt } from './openAccount.ts';

export interface OnchainServices extends ChainServices {
  eth: EthConnection;
  wallet: EthWallet;
  rounds: RoundsWatcher;
  pool: OnchainPool;
  /** re-reads the TicketBroker sender info now */
  refreshSenderInfo(): Promise<SenderInfo>;
}

/** How often sender info is re-read between rounds (tickets won by orchestrators lower the deposit). */
const SENDER_INFO_REFRESH_MS = 30_000;
/**
 * Chain polling while no stream runs: rounds, sender info and the ETH/USD price every 10 minutes, so an
 * idle gateway sends a few dozen JSON-RPC requests an hour (rate-limited providers) instead of ~1000.
 * Nothing is paid while idle; the first stream polls at once and goes back to -blockPollingInterval.
 */
export const IDLE_POLL_MS = 10 * 60_000;

/** The ETH/USD price poll while streams run. */
const PRICE_POLL_MS = 60_000;

const eth18 = (wei: bigint): string => ratToDecimal(rat(wei, 10n ** 18n), 18);

/** `prompt`: the operator's terminal, when there is one (passphrase, first-run account). */
export async function startChainServices(config: NodeConfig, log: Logger, prompt?: PassphrasePrompt): Promise<OnchainServices> {
  if (config.network.offchain) throw new Error('on-chain services need an on-chain -network');
  const eth = await connectEth({
    network: config.network.name,
    ethUrl: config.ethUrls.join(','),
    ethController: config.network.controller,
    onFailover: (from, to, reason) => log.warn({ from, to, reason }, 'Ethereum RPC failover'),
    onPlainReads: (message) => log.info(message),
  });
  const cleanups: (() => Promise<void> | void)[] = [];
  const stop = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c();
  };
  try {
    const cache = await PoolCache.open(config.datadir, { chainId: eth.client.chainId });
    cleanups.push(() => cache.close());

    const location = { keystorePath: config.keystorePath, ethPassword: config.ethPassword, ...(config.ethAcctAddr ? { address: config.ethAcctAddr } : {}) };
    const account = await openAccount(location, log, prompt);
    const signer = privateKeySigner(account.privateKey);
    const wallet = createWallet(eth.client, account.privateKey);

    const rounds = new RoundsWatcher(eth.client, eth.contracts, {
      // idle until a stream starts (setActive)
      intervalMs: Math.max(IDLE_POLL_MS, config.blockPollingIntervalMs),
      log,
    });
    await rounds.start();
    cleanups.push(() => rounds.stop());

    let senderInfo = await readSenderInfo(eth.client, eth.contracts, account.address);
    const refreshSenderInfo = async (): Promise<SenderInfo> => {
      senderInfo = await readSenderInfo(eth.client, eth.contracts, account.address);
      return senderInfo;
    };
    log.info({ address: account.address }, `Broadcaster Deposit: ${eth18(senderInfo.deposit)} ETH`);
    log.info({ address: account.address }, `Broadcaster Reserve: ${eth18(senderInfo.reserve.fundsRemaining)} ETH`);
    if (senderInfo.deposit === 0n || senderInfo.reserve.fundsRemaining === 0n) {
      log.warn(
        "the TicketBroker deposit or reserve is empty: orchestrators will not take this gateway's tickets; fund them with `livepeer-gateway deposit fund`",
      );
    }
    const refreshQuietly = () =>
      void refreshSenderInfo().catch((err: unknown) => log.warn({ err: describeEthError(err, eth.client.urls) }, 'sender info refresh failed'));
    rounds.on('round', refreshQuietly);
    let timer = setInterval(refreshQuietly, IDLE_POLL_MS);
    timer.unref();
    cleanups.push(() => clearInterval(timer));
    let active = false;
    const setActive = (now: boolean): void => {
      if (now === active) return;
      active = now;
      rounds.setIntervalMs(now ? config.blockPollingIntervalMs : Math.max(IDLE_POLL_MS, config.blockPollingIntervalMs));
      prices?.setIntervalMs(now ? PRICE_POLL_MS : IDLE_POLL_MS);
      clearInterval(timer);
      timer = setInterval(refreshQuietly, now ? SENDER_INFO_REFRESH_MS : IDLE_POLL_MS);
      timer.unref();
      if (now) refreshQuietly();
    };

    const pool = new OnchainPool({
      // -aiServiceRegistry: service URIs from the AI subnet's registry instead of the Controller's
      read: (hint) =>
        readTranscoderPool(eth.client, config.ai.serviceRegistry ? { ...eth.contracts, serviceRegistry: AI_SERVICE_REGISTRY } : eth.contracts, { hint }),
      cache,
      rounds,
      log,
    });
    await pool.start();
    cleanups.push(() => pool.stop());

    let prices: EthPriceWatcher | undefined;
    if (config.maxPrice.currency) {
      prices = new EthPriceWatcher(eth.client, config.priceFeedAddr, { intervalMs: IDLE_POLL_MS, log });
      const first = await prices.start();
      cleanups.push(() => prices?.stop());
      log.info({ feed: config.priceFeedAddr, usdPerEth: ratToDecimal(first.usdPerEth, 2) }, 'ETH/USD price');
    } else if (config.apiKeys.mode !== 'off') {
      // API keys may have spend caps in USD: the price is kept, but a feed that cannot be read only
      // refuses those keys' jobs (fail closed) instead of stopping the node
      prices = new EthPriceWatcher(eth.client, config.priceFeedAddr, { intervalMs: IDLE_POLL_MS, log });
      const first = await prices.startTrying();
      cleanups.push(() => prices?.stop());
      if (first) log.info({ feed: config.priceFeedAddr, usdPerEth: ratToDecimal(first.usdPerEth, 2) }, 'ETH/USD price');
    }

    const sender = new TicketSender(signer, () => rounds.expirationParams());
    const payer = new SegmentPayer(sender, config.limits, { senderInfo: () => senderInfo, chain: () => rounds.chainView() });
    const fresh = freshRounds(
      () => rounds.chainView(),
      () => rounds.poll(),
    );
    return {
      address: account.address,
      signer,
      payer,
      eth,
      wallet,
      rounds,
      pool,
      senderInfo: () => senderInfo,
      chainView: () => rounds.chainView(),
      ensureRoundFor: (info) => fresh.ensureFor(info),
      refreshSenderInfo,
      setActive,
      fresh: async () => {
        const snap = rounds.snapshot();
        if (!snap || Date.now() - snap.updatedAt > config.blockPollingIntervalMs) await rounds.poll().catch(() => undefined);
      },
      source: pool.asCandidateSource(),
      usdPerEth: () => prices?.price()?.usdPerEth,
      ethUsdQuote: () => prices?.quote(),
      status: () => {
        const snap = rounds.snapshot();
        return {
          Address: account.address,
          Deposit: senderInfo.deposit,
          Reserve: senderInfo.reserve.fundsRemaining,
          WithdrawRound: senderInfo.withdrawRound,
          CurrentRound: snap?.currentRound,
          LastInitializedRound: snap?.lastInitializedRound,
          LastSeenBlock: snap?.lastSeenL1Block,
          Pool: pool.status(),
          Rpc: { requests: eth.client.stats.requests, failovers: eth.client.stats.failovers },
        };
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
