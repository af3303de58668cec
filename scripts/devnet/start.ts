// Starts a devnet for manual runs and keeps it up until Ctrl-C:
//   npx tsx scripts/devnet/start.ts [--port 8545] [--round-length 20] [--block-time 1] [--fund-broadcaster]
// Prints the RPC URL, the Controller address (what a node needs) and the account addresses; their keys are
// anvil's public test keys, listed in accounts.ts.
import { parseArgs } from 'node:util';
import { startDevnet } from './devnet.ts';

const ETH = 10n ** 18n;

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'round-length': { type: 'string' },
    'block-time': { type: 'string' },
    'fund-broadcaster': { type: 'boolean', default: false },
  },
});

function positiveInt(name: string, v: string | undefined, min = 1): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

const port = positiveInt('port', values.port, 0);
const roundLength = positiveInt('round-length', values['round-length']);
const blockTime = positiveInt('block-time', values['block-time']);

const devnet = await startDevnet({
  ...(port !== undefined ? { port } : {}),
  ...(roundLength !== undefined ? { roundLength: BigInt(roundLength) } : {}),
  ...(blockTime !== undefined ? { blockTime } : {}),
  ...(values['fund-broadcaster'] ? { fundBroadcaster: { deposit: 10n * ETH, reserve: 10n * ETH } } : {}),
});

const lines = [
  `devnet ready in ${devnet.timings.totalMs} ms (contracts ${devnet.timings.compileCached ? 'from cache' : 'compiled'})`,
  `rpc url         ${devnet.rpcUrl}   (chain id 42161)`,
  ...Object.entries(devnet.contracts).map(([k, v]) => `${k.padEnd(15)} ${v}`),
  `round           ${devnet.round}`,
  `deployer        ${devnet.accounts.deployer.address}  (account 0, Controller owner)`,
  `broadcaster     ${devnet.accounts.broadcaster.address}  (account 1)`,
  ...devnet.orchestrators.map(
    (o, i) => `orchestrator ${i + 1}  ${o.address}  (account ${i + 2}) stake ${o.stake / ETH} LPT  ${o.serviceURI}`,
  ),
  'Ctrl-C stops it.',
];
process.stdout.write(`${lines.join('\n')}\n`);

const shutdown = (): void => {
  void devnet.stop().then(() => process.exit(0));
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
