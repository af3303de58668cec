// The root command: `livepeer-gateway -gateway [flags]` runs the node.
import type { Command } from 'commander';
import { createLogger } from '../node/logger.ts';
import { runUntilSignal, startNode } from '../node/run.ts';
import { FlagError, IGNORED_FLAGS } from './flags.ts';
import { buildNodeConfig } from './nodeConfig.ts';
import { flagGiven, flagValues } from './program.ts';
import { VERSION_TEXT } from './version.ts';

export function registerGatewayAction(program: Command, io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream }): void {
  program.action(async () => {
    const values = flagValues(program);
    if (values.get('version') === 'true') {
      io.out.write(`${VERSION_TEXT}\n`);
      return;
    }
    if (values.get('gateway') !== 'true' && values.get('broadcaster') !== 'true') {
      throw new FlagError('No services enabled; start the node with -gateway (or the deprecated -broadcaster), or see --help');
    }
    const config = buildNodeConfig(values, (name) => flagGiven(program, name, values));
    const log = createLogger(config.verbosity);
    for (const name of IGNORED_FLAGS) {
      if (values.has(name)) log.warn({ flag: name }, `-${name} is an orchestrator flag; a gateway ignores it`);
    }
    // A stray rejection from one stream or peer must not take every other stream down with it.
    process.on('unhandledRejection', (reason) => log.error({ err: reason instanceof Error ? reason.stack : String(reason) }, 'unhandled rejection'));
    const node = await startNode(config, log, io.out);
    await runUntilSignal(node, log);
  });
}
