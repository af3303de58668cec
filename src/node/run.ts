// `livepeer-gateway -gateway …`: start the node, say what listens where, stop cleanly on a signal.
import type { NodeConfig } from './config.ts';
import { startGateway, type Gateway } from './gateway.ts';
import type { ChainServices } from './chain.ts';
import type { KeylessPayments } from './keyless.ts';
import type { Logger } from '../lib/log.ts';
import type { PassphrasePrompt } from './openAccount.ts';
import { openStateStore } from '../store/openStateStore.ts';
import type { StateStore } from '../store/stateStore.ts';
import type { AccessCheck } from '../server/access.ts';
import { controlAccess } from './controlAccess.ts';
import { keepHelperThreadsBatched } from './helperThreads.ts';

export interface RunningNode {
  gateway: Gateway;
  chain?: ChainServices;
  /** http://host:port of the control API */
  controlUrl: string;
  /** shared state: Level in -datadir, or PostgreSQL with -storeUrl */
  store: StateStore;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** The operator's terminal, if any: asked for the key's passphrase or a new account's. */
  prompt?: PassphrasePrompt;
}

/** Starts everything; on any startup failure, whatever had started is stopped again before the error is thrown. */
export async function startNode(config: NodeConfig, log: Logger, out: NodeJS.WritableStream, opts: StartOptions = {}): Promise<RunningNode> {
  // a public -cliAddr without -cliToken is refused before anything starts
  const access = await controlAccess(config, log);
  // first: a wrong -storeUrl is reported before anything else starts
  const store = await openStateStore({ ...(config.storeUrl ? { storeUrl: config.storeUrl } : {}), datadir: config.datadir, log });
  log.info({ store: store.location }, 'state store open');
  try {
    return await startWithStore(config, log, out, opts, store, access);
  } catch (err) {
    await store.close();
    throw err;
  }
}

async function startWithStore(
  config: NodeConfig,
  log: Logger,
  out: NodeJS.WritableStream,
  opts: StartOptions,
  store: StateStore,
  access: AccessCheck[],
): Promise<RunningNode> {
  let chain: ChainServices | undefined;
  if (!config.network.offchain) {
    const { startChainServices } = await import('./chainServices.ts');
    chain = await startChainServices(config, log, opts.prompt);
  }
  let keyless: KeylessPayments | undefined;
  if (config.remoteSignerClient) {
    const { startKeylessPayments } = await import('./keyless.ts');
    keyless = await startKeylessPayments(config.remoteSignerClient, log);
  }
  let gateway: Gateway;
  try {
    gateway = await startGateway({ config, log, store, ...(chain ? { chain } : {}), ...(keyless ? { keyless } : {}) });
  } catch (err) {
    await chain?.stop();
    throw err;
  }
  let control: { url: string; close(): Promise<void> };
  try {
    const { startControlApi } = await import('./controlApi.ts');
    control = await startControlApi(config, gateway, chain, log, access);
  } catch (err) {
    await gateway.stop();
    await chain?.stop();
    throw err;
  }
  followStreams(gateway, chain);
  const helpers = keepHelperThreadsBatched();
  if (config.deprecatedBroadcasterFlag) log.warn('-broadcaster is deprecated; use -gateway');
  out.write('***Livepeer Running in Gateway Mode***\n');
  out.write(`Video Ingest Endpoint - ${gateway.rtmpUrl}\n`);
  out.write(`HTTP Server listening on ${gateway.httpUrl}\n`);
  out.write(`CLI server listening on ${control.url}\n`);
  if (chain) out.write(`Gateway account ${chain.address} on ${config.network.name}\n`);
  if (keyless) out.write(`Keyless gateway paying through remote signer ${keyless.client.origin} (account ${keyless.address})\n`);
  return {
    gateway,
    ...(chain ? { chain } : {}),
    controlUrl: control.url,
    store,
    async stop() {
      helpers.stop();
      await control.close();
      await gateway.stop();
      await chain?.stop();
      await store.close();
    },
  };
}

/** Graceful shutdown is given this long, as go-livepeer does. */
export const SHUTDOWN_BOUND_MS = 10_000;

/** SIGINT/SIGTERM caught from the start of the process, before the node is up. */
export interface StopSignals {
  /**
   * Serves `node` until a signal, then stops it. Resolves true once it has stopped, false when the stop
   * failed or took longer than SHUTDOWN_BOUND_MS.
   */
  serve(node: { stop(): Promise<void> }): Promise<boolean>;
}

/**
 * Takes over SIGINT/SIGTERM now. Until serve() is given the node, a signal ends the process as it would
 * have without a handler (a start-up can hang on an unreachable chain, and Ctrl-C must still end it);
 * from then on it is a graceful stop. Caught before the node starts, so that a Ctrl-C right after the
 * start-up banner can never meet a process with no handler yet.
 *
 * During the stop, the bound's timer holds the process alive: if it did not, a stop waiting on something
 * that holds nothing (an unreferenced socket) would let the event loop empty mid-shutdown, and Node would
 * end the process with code 13 (unsettled top-level await).
 */
export function catchStopSignals(log: Logger): StopSignals {
  let served: { node: { stop(): Promise<void> }; resolve(ok: boolean): void } | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!served) {
      log.warn({ signal: sig }, 'interrupted during start-up');
      process.kill(process.pid, sig); // no handler left: the default action ends the process
      return;
    }
    const { node, resolve } = served;
    log.info({ signal: sig }, 'shutting down');
    const timer = setTimeout(() => {
      log.error(`graceful shutdown took more than ${SHUTDOWN_BOUND_MS / 1000} s; exiting`);
      resolve(false);
    }, SHUTDOWN_BOUND_MS);
    node.stop().then(
      () => {
        clearTimeout(timer);
        log.info('stopped');
        resolve(true);
      },
      (err: unknown) => {
        clearTimeout(timer);
        log.error({ err }, 'graceful shutdown failed');
        resolve(false);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    serve: (node) =>
      new Promise<boolean>((resolve) => {
        served = { node, resolve };
      }),
  };
}

/** Runs until SIGINT/SIGTERM, then stops the node (see catchStopSignals). */
export function runUntilSignal(node: { stop(): Promise<void> }, log: Logger): Promise<boolean> {
  return catchStopSignals(log).serve(node);
}

/** Chain polling at full rate while streams run, slow while none does (see chainServices.ts). */
function followStreams(gateway: Gateway, chain: ChainServices | undefined): void {
  const setActive = chain?.setActive;
  if (!setActive) return;
  const live = new Set<string>();
  gateway.events.on('stream.started', ({ manifestId }) => {
    live.add(manifestId);
    setActive(true);
  });
  gateway.events.on('stream.ended', ({ manifestId }) => {
    live.delete(manifestId);
    if (live.size === 0) setActive(false);
  });
}
