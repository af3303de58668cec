// Command line for one devnet orchestrator, so the devnet launcher can run each as a child process.
// Prints pino JSON lines; the first has event "ready" with the URI and address. Stops on SIGINT/SIGTERM.
//
//   node --import tsx scripts/devnet/orchestrator/main.ts --rpc-url http://127.0.0.1:8545 \
//     --contracts contracts.json --private-key-env ORCH_KEY --price-per-unit 1000 --pixels-per-unit 1
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { isAddress, isHex, type Address, type Hex } from 'viem';
import { errorMessage } from '../../../src/lib/errors.ts';
import type { OrchestratorContracts } from './chainView.ts';
import { OrchestratorConfigError } from './options.ts';
import { startOrchestrator, type OrchestratorFaults, type OrchestratorOptions } from './orchestrator.ts';
import type { HostileTicketParams } from './recipient.ts';
import { DEFAULT_AI_MODELS } from './ai/config.ts';

const bigintArg =
  (name: string) =>
  (v: string): bigint => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a non-negative integer (wei)`);
    return BigInt(v);
  };
const intArg =
  (name: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return n;
  };
const addressArg = (v: string): Address => {
  if (!isAddress(v)) throw new InvalidArgumentError(`not an address: ${v}`);
  return v;
};

/** "1000/3" (price per unit / pixels per unit) or "1000" (per pixel). */
function priceArg(v: string): { pricePerUnit: bigint; pixelsPerUnit: bigint } {
  const m = /^(\d+)(?:\/(\d+))?$/.exec(v);
  if (!m || m[2] === '0') throw new InvalidArgumentError('price must look like 1000 or 1000/3 (wei per pixels)');
  return { pricePerUnit: BigInt(m[1]!), pixelsPerUnit: BigInt(m[2] ?? '1') };
}

/** A deploy.ts DevnetContracts JSON file (or inline JSON); only the three addresses used here are read. */
function loadContracts(arg: string): OrchestratorContracts {
  const text = arg.trim().startsWith('{') ? arg : readFileSync(arg, 'utf8');
  const json = JSON.parse(text) as Record<string, unknown>;
  const pick = (k: string): Address => {
    const v = json[k];
    if (typeof v !== 'string' || !isAddress(v)) throw new OrchestratorConfigError(`contracts: "${k}" is missing or not an address`);
    return v;
  };
  return { ticketBroker: pick('ticketBroker'), roundsManager: pick('roundsManager'), bondingManager: pick('bondingManager') };
}

const program = new Command('devnet-orchestrator')
  .description('A Livepeer orchestrator for the local devnet (gRPC + /segment on one TLS port, ffmpeg transcoding, ticket redemption)')
  .option('--host <host>', 'address to listen on and advertise', '127.0.0.1')
  .option('--port <port>', 'port (0 = any free port)', intArg('--port'), 0)
  .option('--private-key-env <name>', 'environment variable holding the orchestrator private key (0x…)', 'ORCH_PRIVATE_KEY')
  .option('--private-key-file <file>', 'file holding the orchestrator private key (0x…)')
  .option('--rpc-url <url>', 'devnet JSON-RPC URL (on-chain mode)')
  .option('--contracts <file|json>', 'deploy.ts contract addresses as JSON (on-chain mode)')
  .option('--ticket-broker <address>', 'TicketBroker address (instead of --contracts)', addressArg)
  .option('--rounds-manager <address>', 'RoundsManager address (instead of --contracts)', addressArg)
  .option('--bonding-manager <address>', 'BondingManager address (instead of --contracts)', addressArg)
  .option('--price-per-unit <wei>', 'price in wei per --pixels-per-unit pixels (default 1)', bigintArg('--price-per-unit'))
  .option('--pixels-per-unit <n>', 'pixels the price covers (default 1)', bigintArg('--pixels-per-unit'))
  .option('--ticket-ev <wei>', 'expected value of each ticket (default 8000000000)', bigintArg('--ticket-ev'))
  .option('--max-face-value <wei>', 'cap on ticket face value (0 = none)', bigintArg('--max-face-value'))
  .option('--redeem-gas <gas>', 'gas a redemption is assumed to cost', bigintArg('--redeem-gas'))
  .option('--max-sessions <n>', 'concurrent transcoding sessions', intArg('--max-sessions'), 10)
  .option('--initialize-rounds', 'initialize the current round when a redemption needs it', false)
  .option('--log-level <level>', 'pino log level', 'info')
  .option('--fail-every <n>', 'fault: every nth segment gets a TranscodeResult error', intArg('--fail-every'))
  .option('--fail-error <text>', 'fault: the error text of --fail-every', 'OrchestratorBusy')
  .option('--stall-ms <ms>', 'fault: hold every /segment this long before answering', intArg('--stall-ms'))
  .option('--refuse-payment', 'fault: answer 400 to every payment', false)
  .option('--price-override <wei[/pixels]>', 'fault: quote this price instead', priceArg)
  .addOption(
    new Option('--hostile-ticket-params <kind>', 'fault: hand out broken ticket params').choices(['huge-face-value', 'zero-win-prob', 'expired', 'malformed']),
  )
  .option('--malformed-response', 'fault: answer /segment with 200 and a garbage body', false)
  .option('--die-after <n>', 'fault: exit after answering n segments', intArg('--die-after'))
  .option('--overbill-factor <n>', 'fault: report and bill n times the pixels encoded', intArg('--overbill-factor'))
  .option('--forge-result-signature', "fault: sign results with a key that is not the orchestrator's", false)
  .option('--load-mode', 'cheap transcoding for load tests: renditions encoded once per profile and segment length, then reused', false)
  .option('--load-mode-cache <dir>', 'keep the load mode renditions in this directory too, so a restart serves at once')
  .option('--ticket-log <file>', 'append every ticket read from a payment to this file, one JSON line each (for benches)')
  .option('--ai', "also serve every AI pipeline's default model (and the docs' example model), at --ai-price-per-unit", false)
  .option('--ai-price-per-unit <wei>', 'AI price in wei per pipeline unit (default 1)', bigintArg('--ai-price-per-unit'));

interface Flags {
  host: string;
  port: number;
  privateKeyEnv: string;
  privateKeyFile?: string;
  rpcUrl?: string;
  contracts?: string;
  ticketBroker?: Address;
  roundsManager?: Address;
  bondingManager?: Address;
  pricePerUnit?: bigint;
  pixelsPerUnit?: bigint;
  ticketEv?: bigint;
  maxFaceValue?: bigint;
  redeemGas?: bigint;
  maxSessions: number;
  initializeRounds: boolean;
  logLevel: string;
  failEvery?: number;
  failError: string;
  stallMs?: number;
  refusePayment: boolean;
  priceOverride?: { pricePerUnit: bigint; pixelsPerUnit: bigint };
  hostileTicketParams?: HostileTicketParams;
  malformedResponse: boolean;
  dieAfter?: number;
  overbillFactor?: number;
  forgeResultSignature: boolean;
  loadMode: boolean;
  ticketLog?: string;
  loadModeCache?: string;
  ai: boolean;
  aiPricePerUnit?: bigint;
}

function privateKey(flags: Flags): Hex | undefined {
  const raw = flags.privateKeyFile ? readFileSync(flags.privateKeyFile, 'utf8').trim() : process.env[flags.privateKeyEnv]?.trim();
  if (!raw) return undefined;
  const key = raw.startsWith('0x') ? raw : `0x${raw}`;
  if (!isHex(key) || key.length !== 66) throw new OrchestratorConfigError('the orchestrator private key must be 32 bytes of hex');
  return key;
}

async function main(): Promise<void> {
  const flags = program.parse().opts<Flags>();
  let contracts: OrchestratorContracts | undefined;
  if (flags.contracts) contracts = loadContracts(flags.contracts);
  else if (flags.ticketBroker || flags.roundsManager || flags.bondingManager) {
    if (!flags.ticketBroker || !flags.roundsManager || !flags.bondingManager) {
      throw new OrchestratorConfigError('give all of --ticket-broker, --rounds-manager and --bonding-manager, or --contracts');
    }
    contracts = { ticketBroker: flags.ticketBroker, roundsManager: flags.roundsManager, bondingManager: flags.bondingManager };
  }
  const faults: OrchestratorFaults = {};
  if (flags.failEvery) Object.assign(faults, { failEvery: flags.failEvery, failError: flags.failError });
  if (flags.stallMs) faults.stallMs = flags.stallMs;
  if (flags.refusePayment) faults.refusePayment = true;
  if (flags.priceOverride) faults.priceOverride = flags.priceOverride;
  if (flags.hostileTicketParams) faults.hostileTicketParams = flags.hostileTicketParams;
  if (flags.malformedResponse) faults.malformedResponse = true;
  if (flags.dieAfter) faults.dieAfter = flags.dieAfter;
  if (flags.overbillFactor) faults.overbillFactor = flags.overbillFactor;
  if (flags.forgeResultSignature) faults.forgeResultSignature = true;

  const opts: OrchestratorOptions = {
    host: flags.host,
    port: flags.port,
    maxSessions: flags.maxSessions,
    initializeRounds: flags.initializeRounds,
    logLevel: flags.logLevel,
    faults,
    ...(flags.loadMode ? { transcoding: 'prerendered' as const } : {}),
  };
  const key = privateKey(flags);
  if (key) opts.privateKey = key;
  if (flags.rpcUrl) opts.rpcUrl = flags.rpcUrl;
  if (flags.ticketLog) opts.ticketLog = flags.ticketLog;
  if (flags.loadModeCache) opts.loadModeCacheDir = flags.loadModeCache;
  if (contracts) opts.contracts = contracts;
  if (flags.pricePerUnit !== undefined) opts.pricePerUnit = flags.pricePerUnit;
  if (flags.pixelsPerUnit !== undefined) opts.pixelsPerUnit = flags.pixelsPerUnit;
  if (flags.ticketEv !== undefined) opts.ticketEV = flags.ticketEv;
  if (flags.maxFaceValue !== undefined) opts.maxFaceValue = flags.maxFaceValue;
  if (flags.redeemGas !== undefined) opts.redeemGas = flags.redeemGas;
  if (flags.ai) opts.ai = { models: DEFAULT_AI_MODELS.map((m) => ({ ...m, pricePerUnit: flags.aiPricePerUnit ?? 1n })) };

  const orchestrator = await startOrchestrator({
    ...opts,
    onDie: () => {
      void orchestrator.stop().finally(() => process.exit(0));
    },
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void orchestrator.stop().finally(() => process.exit(0));
    });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`devnet orchestrator: ${errorMessage(err)}\n`);
  process.exit(1);
});
