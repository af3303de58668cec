// The node's logs at go-livepeer's glog verbosity (-v 3 = info, 4-5 = debug, 6 = trace), in one of two
// shapes: pino's JSON lines for machines, or human-readable lines (pino-pretty) for a terminal.
// `-logFormat auto` (the default) picks human lines when the log goes to a terminal, JSON otherwise.
import { pino } from 'pino';
import { PinoPretty } from 'pino-pretty';
import type { Logger } from '../lib/log.ts';
import { redactSecrets } from '../lib/redact.ts';

export type LogFormat = 'auto' | 'json' | 'text';
export const LOG_FORMATS: readonly LogFormat[] = ['auto', 'json', 'text'];

export function levelForVerbosity(v: number): pino.Level {
  if (v >= 6) return 'trace';
  if (v >= 4) return 'debug';
  if (v >= 1) return 'info';
  return 'warn';
}

const isTerminal = (s: NodeJS.WritableStream): boolean => (s as NodeJS.WriteStream).isTTY === true;

export function createLogger(verbosity: number, destination: NodeJS.WritableStream = process.stderr, format: LogFormat = 'auto'): Logger {
  const human = format === 'text' || (format === 'auto' && isTerminal(destination));
  const out: pino.DestinationStream = human
    ? // Formatted in this thread, synchronously: a line is on the terminal before the next one is logged,
      // and no worker thread is left behind at exit.
      PinoPretty({
        destination,
        sync: true,
        colorize: isTerminal(destination),
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,node',
        singleLine: true,
      })
    : (destination as pino.DestinationStream);
  return pino(
    {
      level: levelForVerbosity(verbosity),
      base: { node: 'gateway' },
      // Secrets never reach the logs, whatever a caller passes: URL credentials and API keys anywhere in
      // the line (error texts of the RPC client carry the -ethUrl), and fields named as secrets.
      hooks: { streamWrite: redactSecrets },
      redact: { paths: ['ethPassword', 'password', 'privateKey', 'cliToken', '*.ethPassword', '*.privateKey', '*.cliToken'], censor: '***' },
    },
    out,
  );
}

export type { Logger };
