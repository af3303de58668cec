// Structured JSON logs (pino) at go-livepeer's glog verbosity: -v 3 = info, 4-5 = debug, 6 = trace.
import { pino } from 'pino';
import type { Logger } from '../lib/log.ts';
import { redactSecrets } from '../lib/redact.ts';

export function levelForVerbosity(v: number): pino.Level {
  if (v >= 6) return 'trace';
  if (v >= 4) return 'debug';
  if (v >= 1) return 'info';
  return 'warn';
}

export function createLogger(verbosity: number, destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino(
    {
      level: levelForVerbosity(verbosity),
      base: { node: 'gateway' },
      // Secrets never reach the logs, whatever a caller passes: URL credentials and API keys anywhere in
      // the line (error texts of the RPC client carry the -ethUrl), and fields named as secrets.
      hooks: { streamWrite: redactSecrets },
      redact: { paths: ['ethPassword', 'password', 'privateKey', 'cliToken', '*.ethPassword', '*.privateKey', '*.cliToken'], censor: '***' },
    },
    destination as pino.DestinationStream,
  );
}

export type { Logger };
