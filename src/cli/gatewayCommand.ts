// The root command: `livepeer-gateway -gateway [flags]` runs the node.
import type { Command } from 'commander';
import { redactUrl } from '../eth/client.ts';
import { checkMediaTools, describeMediaTools } from '../media/ffmpegBinaries.ts';
import { createLogger } from '../node/logger.ts';
import { catchStopSignals, SHUTDOWN_BOUND_MS, startNode, type StopSignals } from '../node/run.ts';
import { GatewayError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { FlagError, IGNORED_FLAGS, NODE_FLAGS } from './flags.ts';
import { buildNodeConfig } from './nodeConfig.ts';
import { flagGiven, flagValues } from './program.ts';
import { terminalPrompt } from './prompt.ts';
import { VERSION_TEXT } from './version.ts';

/** URLs may carry API keys or tokens in their path or query; only scheme, host and port are shown. */
const URL_FLAGS = new Set([
  'ethUrl',
  'orchWebhookUrl',
  'authWebhookUrl',
  'storeUrl',
  'objectStore',
  'recordStore',
  'remoteSignerUrl',
  'remoteSignerWebhookUrl',
  'eventsWebhookUrl',
]);

export function registerGatewayAction(program: Command, io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream }): void {
  program.action(async () => {
    const values = flagValues(program);
    if (values.get('version') === 'true') {
      io.out.write(`${VERSION_TEXT}\n`);
      return;
    }
    const signerMode = values.get('remoteSigner') === 'true';
    if (!signerMode && values.get('gateway') !== 'true' && values.get('broadcaster') !== 'true') {
      throw new FlagError('No services enabled; start the node with -gateway (or the deprecated -broadcaster) or -remoteSigner, or see --help');
    }
    const config = buildNodeConfig(values, (name) => flagGiven(program, name, values));
    const log = createLogger(config.verbosity, process.stderr, config.logFormat);
    // Like go-livepeer's start-up table: every setting that differs from its default, secrets masked.
    const changed = Object.fromEntries(
      NODE_FLAGS.filter(
        (f) => values.has(f.name) && values.get(f.name) !== (f.default ?? '') && f.name !== 'gateway' && f.name !== 'broadcaster' && f.name !== 'remoteSigner',
      ).map((f) => [
        f.name,
        f.secret
          ? '***'
          : URL_FLAGS.has(f.name)
            ? values
                .get(f.name)!
                .split(',')
                .map((u) => redactUrl(u.trim()))
                .join(',')
            : values.get(f.name),
      ]),
    );
    log.info({ config: changed }, 'configuration (non-default settings)');
    for (const name of IGNORED_FLAGS) {
      if (values.has(name)) log.warn({ flag: name }, `-${name} is an orchestrator flag; a gateway ignores it`);
    }
    // Which ffmpeg this run uses, and a clear stop now (not at the first stream) when there is none.
    if (signerMode) {
      // go-livepeer: the first mode flag of its list wins, and -remoteSigner comes before -gateway
      if (values.get('gateway') === 'true' || values.get('broadcaster') === 'true') log.warn('-remoteSigner and -gateway given: running as a remote signer');
      logProcessFailures(log);
      const { startSignerNode } = await import('../node/signerNode.ts');
      const prompt = terminalPrompt();
      const signals = catchStopSignals(log);
      const node = await startSignerNode(config, log, io.out, prompt ? { prompt } : {});
      await serveUntilSignal(signals, node);
      return;
    }
    log.info(describeMediaTools(await checkMediaTools()));
    logProcessFailures(log);
    const prompt = terminalPrompt();
    const signals = catchStopSignals(log);
    const node = await startNode(config, log, io.out, prompt ? { prompt } : {});
    await serveUntilSignal(signals, node);
  });
}

/**
 * A stray rejection from one stream or peer must not take every other stream down with it: logged, the
 * node runs on. An uncaught exception still ends the process (its state is unknown), but first says why
 * in the log, as a fatal line, where an operator (or a harness that keeps only log lines) sees it.
 */
function logProcessFailures(log: Logger): void {
  process.on('unhandledRejection', (reason) => log.error({ err: reason instanceof Error ? reason.stack : String(reason) }, 'unhandled rejection'));
  process.on('uncaughtExceptionMonitor', (err, origin) => log.fatal({ err: err.stack ?? String(err), origin }, 'uncaught exception; the process ends'));
}

/** How long an unclean shutdown waits for the exit message before ending the process whatever holds it. */
const FORCED_EXIT_MS = 1000;

/** Serves until a signal; a shutdown that did not finish ends the process with code 1. */
async function serveUntilSignal(signals: StopSignals, node: { stop(): Promise<void> }): Promise<void> {
  if (await signals.serve(node)) return;
  // Whatever is still stuck (a socket, a child) must not keep the process running past the bound.
  setTimeout(() => process.exit(1), FORCED_EXIT_MS).unref();
  throw new GatewayError(`graceful shutdown did not finish within ${SHUTDOWN_BOUND_MS / 1000} s; work still running was dropped`);
}
