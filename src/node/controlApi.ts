// The control API on -cliAddr (what livepeer_cli talks to): the livepeer_cli routes over the chain
// services, and the node's own: /status (streams, orchestrator pool, ledger), /streams,
// /getBroadcastConfig, /setBroadcastConfig, /manifestID, the log level.
import type { NodeConfig } from './config.ts';
import { describeEthError } from '../eth/errors.ts';
import type { Logger } from '../lib/log.ts';
import { type AccessCheck, findTokenCheck, sessionCookieCheck } from '../server/access.ts';
import { admittedBy, createDashboardLoginRoute, SESSION_COOKIE } from '../server/dashboardLogin.ts';
import { LoginThrottle } from '../server/loginThrottle.ts';
import { SessionTable } from '../server/sessions.ts';
import { ControlError, emptyReply, jsonReply, readRoute, startControlServer, textReply, type ControlServer } from '../server/control.ts';
import { BroadcastConfig } from './broadcastConfig.ts';
import { EventStreamHub } from '../server/eventStream.ts';
import { createDashboardRoute } from '../server/dashboard.ts';
import { dashboardState } from './dashboardState.ts';
import type { HttpRoute } from '../lib/http.ts';
import { AI_PIPELINE_CAPABILITY } from '../net/aiCapabilities.ts';
import { DEFAULT_MODEL_KEY, setCapabilityPrice } from '../pm/capabilityPrices.ts';
import { parseMaxPricePerUnit } from '../pm/maxPrice.ts';
import type { ChainServices } from './chain.ts';
import type { OnchainServices } from './chainServices.ts';
import type { Gateway } from './gateway.ts';
import { livepeerCliRoutes, type ControlEth } from './livepeerCliRoutes.ts';
import { levelForVerbosity } from './logger.ts';
import { usageSummary } from '../tenancy/usage.ts';
import { parseUsageQuery } from '../tenancy/usageQuery.ts';
import { HttpError } from '../lib/errors.ts';

function isOnchain(chain: ChainServices | undefined): chain is OnchainServices {
  return !!chain && 'eth' in chain;
}

function controlEth(config: NodeConfig, chain: OnchainServices): ControlEth {
  return {
    client: chain.eth.client,
    contracts: chain.eth.contracts,
    wallet: chain.wallet,
    rounds: chain.rounds,
    pool: chain.pool,
    tx: { maxGasPrice: config.maxGasPrice, timeoutMs: config.transactionTimeoutMs },
  };
}

export async function startControlApi(
  config: NodeConfig,
  gateway: Gateway,
  chain: ChainServices | undefined,
  log: Logger,
  access: readonly AccessCheck[] = [],
): Promise<ControlServer> {
  let lastManifest = '';
  let verbosity = config.verbosity;
  const eth = isOnchain(chain) ? controlEth(config, chain) : undefined;
  const rpcUrls = eth?.client.urls ?? [];
  // /events: the whole feed as server-sent events (the dashboard reads it too)
  const hub = new EventStreamHub();
  const unsubscribe = gateway.events.onAny((name, payload) => hub.publish(name, payload));
  const eventsRoute: HttpRoute = (req, res) => {
    if (new URL(req.url ?? '/', 'http://control').pathname !== '/events') return false;
    hub.handle(req, res);
    return true;
  };
  // with -cliToken, the dashboard's login page trades the token for a session cookie that admits the
  // dashboard's reads (not the routes that move money)
  const hlsOrigin = new URL(gateway.httpUrl).origin;
  const token = findTokenCheck(access);
  const publicRoutes: HttpRoute[] = [];
  let checks = access;
  if (token) {
    const sessions = new SessionTable();
    checks = [...access, sessionCookieCheck(sessions, SESSION_COOKIE)];
    publicRoutes.push(
      createDashboardLoginRoute({ token, sessions, throttle: new LoginThrottle(), admitted: admittedBy(checks), hlsOrigin }),
      createDashboardRoute({ state: async () => ({}), hlsOrigin, publicOnly: true }),
    );
  }
  const server = await startControlServer({
    host: config.cliAddr.host,
    port: config.cliAddr.port,
    ...(config.monitor ? { metrics: gateway.metrics.registry } : {}),
    log,
    access: checks,
    publicRoutes,
    httpRoutes: [eventsRoute, createDashboardRoute({ state: () => dashboardState(gateway, config.network.name, !!token), hlsOrigin })],
    describeError: (err) => describeEthError(err, rpcUrls),
    routes: {
      ...livepeerCliRoutes(eth, log),
      '/status': readRoute(async () => {
        const s = await gateway.status();
        if (s.Manifests.length > 0) lastManifest = s.Manifests[s.Manifests.length - 1]!;
        return jsonReply(s);
      }),
      // usage per API key for invoicing (-apiKeys optional|required): a read of the state store
      '/usage': readRoute(async (form) => {
        const t = gateway.tenancy;
        if (!t) throw new ControlError(404, 'usage is recorded with -apiKeys optional or required');
        try {
          const q = parseUsageQuery((n) => form.get(n));
          return jsonReply({
            from: q.from.toISOString(),
            to: q.to.toISOString(),
            groupBy: q.groupBy,
            ...(q.key ? { key: q.key } : {}),
            rows: await usageSummary(t.tenancy.store, q),
          });
        } catch (err) {
          if (err instanceof HttpError) throw new ControlError(err.status, err.message);
          throw err;
        }
      }),
      '/streams': readRoute(async () => jsonReply((await gateway.status()).Ledger)),
      '/manifestID': readRoute(async () => {
        const s = await gateway.status();
        return textReply(s.Manifests[s.Manifests.length - 1] ?? lastManifest);
      }),
      '/getBroadcastConfig': readRoute(() => {
        const price = gateway.broadcast.maxPrice();
        return jsonReply({ MaxPrice: price ? `${price.num}/${price.den}` : null, TranscodingOptions: gateway.broadcast.transcodingOptions });
      }),
      // go-livepeer: price (maxPricePerUnit + pixelsPerUnit, both or neither, optional currency) and/or presets
      '/setBroadcastConfig': (form) => {
        const price = form.get('maxPricePerUnit') ?? '';
        const pixels = form.get('pixelsPerUnit') ?? '';
        const presets = form.get('transcodingOptions') ?? '';
        if (!price && !pixels && !presets) throw new ControlError(400, 'missing form param: maxPricePerUnit and pixelsPerUnit, or transcodingOptions');
        if (!!price !== !!pixels) throw new ControlError(400, 'maxPricePerUnit and pixelsPerUnit go together');
        try {
          if (price) gateway.broadcast.setMaxPrice(price, pixels, form.get('currency') ?? '');
          if (presets) gateway.broadcast.setTranscodingOptions(presets);
        } catch (err) {
          throw new ControlError(400, (err as Error).message);
        }
        log.info(
          { maxPricePerUnit: price || undefined, pixelsPerUnit: pixels || undefined, transcodingOptions: presets || undefined },
          'broadcast config changed',
        );
        return emptyReply();
      },
      // go-livepeer: the max price of one AI pipeline (and model; none = every model) while the node runs
      '/setMaxPriceForCapability': (form) => {
        const pipeline = form.get('pipeline') ?? '';
        const cap = AI_PIPELINE_CAPABILITY[pipeline];
        if (cap === undefined || !Object.hasOwn(AI_PIPELINE_CAPABILITY, pipeline)) throw new ControlError(400, `unknown pipeline "${pipeline}"`);
        try {
          const pixels = BigInt(form.get('pixelsPerUnit') || '1');
          const spec = parseMaxPricePerUnit(`${form.get('maxPricePerUnit') ?? ''}${form.get('currency') ?? ''}`, pixels);
          setCapabilityPrice(config.ai.maxPricePerCapability, { cap, modelId: form.get('modelID') || DEFAULT_MODEL_KEY, spec });
        } catch (err) {
          throw new ControlError(400, (err as Error).message);
        }
        log.info({ pipeline, modelID: form.get('modelID') || DEFAULT_MODEL_KEY }, 'max price per capability changed');
        return emptyReply();
      },
      '/getAvailableTranscodingOptions': readRoute(() => jsonReply(BroadcastConfig.availablePresets())),
      // -v at run time, glog levels as go-livepeer takes them
      '/getLogLevel': readRoute(() => textReply(String(verbosity))),
      '/setLogLevel': (form) => {
        const v = form.get('loglevel') ?? '';
        if (!/^\d+$/.test(v)) throw new ControlError(400, `invalid loglevel "${v}" (0-6)`);
        verbosity = Number(v);
        log.level = levelForVerbosity(verbosity);
        return emptyReply();
      },
    },
  });
  return {
    ...server,
    async close() {
      unsubscribe();
      hub.close();
      await server.close();
    },
  };
}
