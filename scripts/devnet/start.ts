// `npm run devnet`: a local Livepeer network for manual runs, up until Ctrl-C.
//   npx tsx scripts/devnet/start.ts [--port 8545] [--round-length 20] [--no-fund]
// Prints the RPC URL, the Controller address, the orchestrators and the gateway command line that uses them.
// All keys are anvil's public test keys (accounts.ts); nothing here is for real funds.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startLocalNetwork } from './network.ts';
import { DevnetError } from './errors.ts';

const ETH = 10n ** 18n;

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'round-length': { type: 'string' },
    'no-fund': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});

function positiveInt(name: string, v: string | undefined, min = 1): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new DevnetError(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

const port = positiveInt('port', values.port, 0);
const roundLength = positiveInt('round-length', values['round-length']);

const net = await startLocalNetwork({
  ...(port !== undefined ? { port } : {}),
  ...(roundLength !== undefined ? { roundLength: BigInt(roundLength) } : {}),
  ...(values['no-fund'] ? { fundBroadcaster: null } : {}),
  log: pino({ level: values.verbose ? 'info' : 'warn' }),
});
const { devnet } = net;
const flags = Object.entries(net.gatewayFlags)
  .map(([k, v]) => `-${k} ${v}`)
  .join(' ');
const lines = [
  `devnet ready in ${net.readyMs} ms (chain + contracts ${devnet.timings.totalMs} ms, contracts ${devnet.timings.compileCached ? 'from cache' : 'compiled'})`,
  `rpc url         ${devnet.rpcUrl}   (chain id 42161)`,
  `controller      ${devnet.contracts.controller}`,
  ...Object.entries(devnet.contracts)
    .filter(([k]) => k !== 'controller')
    .map(([k, v]) => `${k.padEnd(15)} ${v}`),
  `broadcaster     ${net.broadcaster.address}  (keystore/, password "devnet")${values['no-fund'] ? '' : ', funded 1 ETH deposit + 1 ETH reserve'}`,
  ...devnet.orchestrators.map((o, i) => {
    const running = net.orchestrators[i];
    return `orchestrator ${i + 1}  ${o.address}  stake ${o.stake / ETH} LPT  ${running?.uri ?? ''}`;
  }),
  '',
  'gateway against it:',
  `  livepeer-gateway -gateway ${flags} -ethKeystorePath keystore -ethPassword devnet`,
  'Ctrl-C stops everything.',
];
process.stdout.write(`${lines.join('\n')}\n`);

const shutdown = (): void => {
  void net.stop().then(() => process.exit(0));
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
