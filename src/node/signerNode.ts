// `livepeer-gateway -remoteSigner …`: a node that holds the key and the TicketBroker deposit and signs
// for keyless gateways over plain HTTP on -httpAddr (docs/remote-signer.md). No ingest, no transcoding:
// the chain services, the state store, the signer's routes and the control API.
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Address } from 'viem';
import { staticSource, webhookSource, type CandidateSource } from '../discovery/sources.ts';
import { hexToBytes } from '../lib/bytes.ts';
import { add, ZERO, type Rat } from '../lib/rat.ts';
import { getOrchestrator } from '../net/grpc.ts';
import { capabilityMaxPrice } from '../pm/capabilityPrices.ts';
import { maxPricePerPixel } from '../pm/maxPrice.ts';
import { orchestratorRequestSignature } from '../pm/requestSignatures.ts';
import { jsonReply, readRoute, startControlServer } from '../server/control.ts';
import { startHttpListener } from '../server/http.ts';
import { RemoteDiscovery } from '../signer/discovery.ts';
import { LivePaymentService } from '../signer/livePayment.ts';
import { ReplayGuard } from '../signer/replayGuard.ts';
import { createSignerRoute } from '../signer/routes.ts';
import { SignerStats, type SignerStatus } from '../signer/stats.ts';
import { openStateStore } from '../store/openStateStore.ts';
import type { StateStore } from '../store/stateStore.ts';
import type { Capabilities } from '../wire/lpRpc.ts';
import type { OnchainServices } from './chainServices.ts';
import type { NodeConfig } from './config.ts';
import { GATEWAY_VERSION } from './gateway.ts';
import { livepeerCliRoutes } from './livepeerCliRoutes.ts';
import type { Logger } from './logger.ts';
import type { StartOptions } from './run.ts';

/** go-livepeer's budget for one GetOrchestrator during signer discovery. */
const DISCOVERY_RPC_TIMEOUT_MS = 3000;

export interface RunningSignerNode {
  /** http://host:port of the signer's routes */
  signerUrl: string;
  /** http://host:port of the control API */
  controlUrl: string;
  address: Address;
  chain: OnchainServices;
  store: StateStore;
  stats: SignerStats;
  status(): SignerNodeStatus;
  stop(): Promise<void>;
}

export interface SignerNodeStatus {
  Version: string;
  Mode: 'remote-signer';
  Network: string;
  EthAddress: Address;
  Store: string;
  Webhook: boolean;
  Discovery?: { Enabled: boolean };
  Signer: SignerStatus;
  Chain: unknown;
}

/** The configured ceiling for a job: the sum over its models of -maxPricePerCapability, else -maxPricePerUnit. */
export function capabilitiesMaxPrice(config: NodeConfig, caps: Capabilities | undefined, usdPerEth: Rat | undefined): Rat | undefined {
  const per = caps?.constraints?.PerCapability as Record<string, { models?: Record<string, unknown> } | undefined> | undefined;
  let sum = ZERO;
  for (const [cap, entry] of Object.entries(per ?? {})) {
    for (const modelId of Object.keys(entry?.models ?? {})) {
      const price = capabilityMaxPrice(config.ai.maxPricePerCapability, Number(cap), modelId, usdPerEth);
      if (price) sum = add(sum, price);
    }
  }
  return sum.num > 0n ? sum : maxPricePerPixel(config.maxPrice, usdPerEth);
}

export async function startSignerNode(config: NodeConfig, log: Logger, out: NodeJS.WritableStream, opts: StartOptions = {}): Promise<RunningSignerNode> {
  const signerConfig = config.remoteSigner;
  if (!signerConfig) throw new Error('startSignerNode needs -remoteSigner');
  if (config.network.offchain) throw new Error('Remote signer mode requires on-chain network');
  const store = await openStateStore({ ...(config.storeUrl ? { storeUrl: config.storeUrl } : {}), datadir: config.datadir, log });
  log.info({ store: store.location }, 'state store open');
  const cleanups: (() => Promise<void> | void)[] = [() => store.close()];
  const stop = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) await c();
  };
  try {
    const { startChainServices } = await import('./chainServices.ts');
    const chain = await startChainServices(config, log, opts.prompt);
    cleanups.push(() => chain.stop());
    // A signer answers sessions at any moment: it polls rounds at -blockPollingInterval, never at the idle rate.
    chain.setActive?.(true);
    const signer = chain.signer;
    const usd = () => chain.usdPerEth?.();

    const registry = new Registry();
    registry.setDefaultLabels({ node_type: 'remote_signer', node_id: chain.address });
    collectDefaultMetrics({ register: registry });
    const stats = new SignerStats(registry);

    const requestSig = orchestratorRequestSignature(signer);
    let discovery: RemoteDiscovery | undefined;
    if (signerConfig.discovery) {
      const source: CandidateSource = config.orchWebhookUrl
        ? webhookSource({ url: config.orchWebhookUrl, onError: (err) => log.warn({ err: err.message }, 'orchestrator webhook failed; keeping the last list') })
        : config.orchAddr.length > 0
          ? staticSource(config.orchAddr.join(','))
          : chain.source;
      const request = { address: hexToBytes(signer.address), sig: hexToBytes(requestSig), ignoreCapacityCheck: true };
      discovery = new RemoteDiscovery({
        candidates: async () => {
          const blocked = new Set(config.orchBlocklist.map((a) => a.toLowerCase()));
          return (await source.candidates()).filter((c) => !c.address || !blocked.has(c.address.toLowerCase()));
        },
        probe: (uri) => getOrchestrator(uri, request, { timeoutMs: DISCOVERY_RPC_TIMEOUT_MS }),
        maxPrice: (cap, modelId) => capabilityMaxPrice(config.ai.maxPricePerCapability, cap, modelId, usd()) ?? maxPricePerPixel(config.maxPrice, usd()),
        intervalMs: signerConfig.capReportIntervalMs,
        log: log.child({ component: 'remote-discovery' }),
      });
      const d = discovery;
      cleanups.push(() => d.stop());
    }

    const payments = new LivePaymentService({
      signer,
      chain: () => chain.chainView(),
      senderInfo: () => chain.senderInfo(),
      expirationParams: () => chain.rounds.expirationParams(),
      limits: config.limits,
      maxPrice: (caps) => capabilitiesMaxPrice(config, caps, usd()),
      ...(signerConfig.webhookUrl ? { webhook: { url: signerConfig.webhookUrl, headers: signerConfig.webhookHeaders } } : {}),
      store,
      guard: new ReplayGuard(store),
      stats,
      log: log.child({ component: 'remote-signer' }),
    });
    if (!signerConfig.webhookUrl) {
      log.warn(
        "remote signer has no webhook auth: /generate-live-payment is UNAUTHENTICATED and signs payments from this node's deposit; set -remoteSignerWebhookUrl",
      );
    }

    const http = await startHttpListener({
      host: config.httpAddr.host,
      port: config.httpAddr.port,
      log: log.child({ component: 'http' }),
      routes: [
        createSignerRoute({
          orchestratorInfoSignature: { address: signer.address, signature: requestSig },
          payments,
          ...(discovery ? { discovery } : {}),
          log,
        }),
      ],
    });
    cleanups.push(() => http.close());

    const status = (): SignerNodeStatus => ({
      Version: GATEWAY_VERSION,
      Mode: 'remote-signer',
      Network: config.network.name,
      EthAddress: chain.address,
      Store: store.location,
      Webhook: !!signerConfig.webhookUrl,
      ...(discovery ? { Discovery: { Enabled: true } } : {}),
      Signer: stats.status(),
      Chain: chain.status(),
    });
    const control = await startControlServer({
      host: config.cliAddr.host,
      port: config.cliAddr.port,
      ...(config.monitor ? { metrics: registry } : {}),
      routes: {
        // the account's deposit and reserve are managed as on any node (livepeer_cli works against it)
        ...livepeerCliRoutes(
          {
            client: chain.eth.client,
            contracts: chain.eth.contracts,
            wallet: chain.wallet,
            rounds: chain.rounds,
            pool: chain.pool,
            tx: { maxGasPrice: config.maxGasPrice, timeoutMs: config.transactionTimeoutMs },
          },
          log,
        ),
        '/status': readRoute(() => jsonReply(status())),
      },
      log,
    });
    cleanups.push(() => control.close());

    out.write('***Livepeer Running in Remote Signer Mode***\n');
    out.write(`Remote signer listening on ${http.url}\n`);
    out.write(`CLI server listening on ${control.url}\n`);
    out.write(`Remote signer account ${chain.address} on ${config.network.name}\n`);
    return { signerUrl: http.url, controlUrl: control.url, address: chain.address, chain, store, stats, status, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
