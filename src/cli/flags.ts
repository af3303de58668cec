// The gateway's flags, named and defaulted as go-livepeer names them, and the bridge from Go's flag
// syntax (-flag value, -flag=value, --flag, -bool, -bool=false) to commander.
import { Option } from 'commander';
import { GatewayError } from '../lib/errors.ts';
import { WeiAmountError } from '../lib/wei.ts';

export type FlagType = 'string' | 'bool' | 'int' | 'float' | 'duration';

export interface FlagSpec {
  name: string;
  type: FlagType;
  default?: string;
  help: string;
  /** other spellings go-livepeer accepts (e.g. -dataDir for -datadir) */
  aliases?: string[];
  /** never printed (passwords) */
  secret?: boolean;
}

/** Flags a gateway uses. Defaults are go-livepeer's gateway defaults. */
export const NODE_FLAGS: readonly FlagSpec[] = [
  { name: 'gateway', type: 'bool', help: 'Run as a gateway (broadcaster) node' },
  { name: 'broadcaster', type: 'bool', help: 'Deprecated alias of -gateway' },
  { name: 'network', type: 'string', default: 'offchain', help: 'Network: offchain, arbitrum-one-mainnet, or any name with -ethController' },
  { name: 'ethUrl', type: 'string', default: '', help: 'Ethereum (Arbitrum) JSON-RPC URL; a comma list fails over between endpoints' },
  { name: 'ethController', type: 'string', default: '', help: "Protocol Controller contract address (default: the network's)" },
  { name: 'ethKeystorePath', type: 'string', default: '', help: 'Keystore directory or key file (default <datadir>/keystore)' },
  { name: 'ethAcctAddr', type: 'string', default: '', help: 'Account to use when the keystore holds several' },
  { name: 'ethPassword', type: 'string', default: '', help: 'Keystore password, or the path of a file holding it', secret: true },
  { name: 'datadir', type: 'string', default: '', help: 'Data directory (default ~/.lpData/<network>)', aliases: ['dataDir'] },
  { name: 'storeUrl', type: 'string', default: '', help: 'PostgreSQL URL for state shared by gateways; empty = the Level DB in -datadir' },
  {
    name: 'objectStore',
    type: 'string',
    default: '',
    help: 'S3 store for HLS segments, playlists and AI outputs: s3://KEY:SECRET@REGION/BUCKET or s3+https://KEY:SECRET@HOST:PORT/BUCKET',
  },
  { name: 'objectStorePublicUrl', type: 'string', default: '', help: "URL that serves -objectStore's bucket root to viewers (a CDN); default the store's own" },
  {
    name: 'recordStore',
    type: 'string',
    default: '',
    help: 'S3 store that keeps whole streams (every segment and a VOD playlist); same URL forms as -objectStore',
  },
  {
    name: 'apiKeys',
    type: 'string',
    default: 'off',
    help: 'API keys on AI routes, HTTP push and RTMP: off, optional (anonymous callers limited per address) or required',
  },
  { name: 'trustedProxies', type: 'string', default: '', help: 'Comma-separated proxy addresses/CIDRs whose X-Forwarded-For names the client' },
  { name: 'anonymousRequestsPerMinute', type: 'int', default: '10', help: 'Requests per minute per client address without an API key (-apiKeys optional)' },
  { name: 'rtmpAddr', type: 'string', default: '127.0.0.1:1935', help: 'RTMP ingest address' },
  { name: 'httpAddr', type: 'string', default: '127.0.0.1:9935', help: 'HTTP address: HLS playback and HTTP push ingest' },
  { name: 'cliAddr', type: 'string', default: '127.0.0.1:5935', help: 'Control API address (livepeer_cli -http 5935)' },
  {
    name: 'cliToken',
    type: 'string',
    default: '',
    help: 'Control API token, or the path of a file holding it; clients send Authorization: Bearer <token> (required on a public -cliAddr)',
    secret: true,
  },
  { name: 'httpIngest', type: 'bool', default: 'true', help: 'Accept HTTP push ingest on /live/' },
  { name: 'httpIngestMaxBytes', type: 'string', default: '314572800', help: 'Largest HTTP push segment body, in bytes' },
  {
    name: 'hlsMaxBytesPerStream',
    type: 'string',
    default: '536870912',
    help: 'Segment bytes kept for HLS playback per stream; the oldest are dropped beyond it',
  },
  { name: 'httpIngestMaxConcurrent', type: 'string', default: '16', help: 'HTTP push requests handled at once; more are refused with 503' },
  { name: 'orchAddr', type: 'string', default: '', help: 'Comma-separated orchestrator URIs (trusted)' },
  { name: 'orchWebhookUrl', type: 'string', default: '', help: 'Orchestrator discovery webhook (takes precedence over -orchAddr)' },
  { name: 'orchBlocklist', type: 'string', default: '', help: 'Comma-separated orchestrator ETH addresses never to use' },
  {
    name: 'renditionHosts',
    type: 'string',
    default: '',
    help: "Comma-separated hosts (or host:port) renditions may be fetched from besides the orchestrator's own origin, e.g. an object store",
  },
  { name: 'orchMinLivepeerVersion', type: 'string', default: '', help: 'Ignore orchestrators older than this version' },
  { name: 'authWebhookUrl', type: 'string', default: '', help: 'Stream authentication webhook URL' },
  { name: 'eventsWebhookUrl', type: 'string', default: '', help: 'POST stream, orchestrator and deposit events here (JSON, retried; see docs/events.md)' },
  { name: 'eventsWebhookSecret', type: 'string', default: '', help: 'Sign -eventsWebhookUrl posts with HMAC-SHA256 under this secret', secret: true },
  { name: 'transcodingOptions', type: 'string', default: 'P240p30fps16x9,P360p30fps16x9', help: 'Preset names, or a JSON profiles file' },
  { name: 'maxSessions', type: 'int', default: '10', help: 'Most concurrent streams (RTMP and HTTP push together)' },
  { name: 'maxAttempts', type: 'int', default: '3', help: 'Transcode attempts per segment' },
  { name: 'discoveryTimeout', type: 'duration', default: '500ms', help: 'Wait for GetOrchestrator replies before using the first good one' },
  { name: 'maxPricePerUnit', type: 'string', default: '0', help: 'Max price per -pixelsPerUnit pixels, in wei or in USD (e.g. 0.5USD); 0 = any price' },
  { name: 'priceFeedAddr', type: 'string', default: '0x639Fe6ab55C921f74e7fac1ee960C0B6293ba612', help: 'Chainlink ETH/USD feed for USD prices' },
  { name: 'priceFeedMaxAge', type: 'duration', default: '25h', help: 'API keys: spend caps in USD refuse jobs while the feed answer is older than this' },
  { name: 'pixelsPerUnit', type: 'string', default: '1', help: 'Pixels per unit of -maxPricePerUnit' },
  { name: 'ignoreMaxPriceIfNeeded', type: 'bool', default: 'false', help: 'Use orchestrators above the max price when none is under it' },
  {
    name: 'maxPricePerCapability',
    type: 'string',
    default: '',
    help: 'Max AI prices per pipeline and model: inline JSON or a file, {"capabilities_prices":[{"pipeline","model_id","price_per_unit","pixels_per_unit","currency"}]}',
  },
  { name: 'aiProcessingRetryTimeout', type: 'duration', default: '2s', help: 'No new attempt at an AI request starts after this' },
  { name: 'aiMinRunnerVersion', type: 'string', default: '[]', help: 'Minimum AI runner versions: [{"model_id","pipeline","minVersion"}]' },
  { name: 'aiServiceRegistry', type: 'bool', default: 'false', help: 'Read orchestrator service URIs from the AI subnet ServiceRegistry' },
  { name: 'remoteSigner', type: 'bool', help: 'Run as a remote signer: sign tickets and orchestrator requests for keyless gateways (on-chain only)' },
  {
    name: 'remoteSignerUrl',
    type: 'string',
    default: '',
    help: 'Remote signer to pay through: the gateway then runs off-chain with no key (https:// assumed without a scheme)',
  },
  { name: 'remoteSignerHeaders', type: 'string', default: '', help: 'Headers for the remote signer, "k:v,k2:v2"', secret: true },
  { name: 'remoteSignerWebhookUrl', type: 'string', default: '', help: 'Signer mode: auth webhook asked before each payment' },
  { name: 'remoteSignerWebhookHeaders', type: 'string', default: '', help: 'Signer mode: headers for the auth webhook, "k:v,k2:v2"', secret: true },
  { name: 'remoteSignerAllowNoAuth', type: 'bool', default: 'false', help: 'Signer mode: start on a public -httpAddr without an auth webhook' },
  { name: 'remoteDiscovery', type: 'bool', default: 'false', help: 'Signer mode: serve GET /discover-orchestrators' },
  { name: 'liveAICapReportInterval', type: 'duration', default: '25m', help: 'Signer mode: how often -remoteDiscovery re-polls orchestrators' },
  { name: 'maxTicketEV', type: 'string', default: '3000000000000', help: 'Max expected value of one ticket (wei)' },
  { name: 'maxTotalEV', type: 'string', default: '20000000000000', help: 'Max expected value of one payment (wei)' },
  { name: 'depositMultiplier', type: 'int', default: '1', help: 'Refuse tickets with face value above deposit / multiplier' },
  { name: 'selectStakeWeight', type: 'float', default: '0.7', help: 'Weight of stake in orchestrator selection' },
  { name: 'selectPriceWeight', type: 'float', default: '0', help: 'Weight of price in orchestrator selection' },
  { name: 'selectRandFreq', type: 'float', default: '0.3', help: 'Weight of chance in orchestrator selection' },
  { name: 'selectPriceExpFactor', type: 'float', default: '100', help: 'How sharply price differences count' },
  { name: 'maxGasPrice', type: 'string', default: '0', help: 'Do not send transactions above this gas price (wei); 0 = no cap' },
  { name: 'transactionTimeout', type: 'duration', default: '5m', help: 'How long to wait for a transaction receipt' },
  { name: 'blockPollingInterval', type: 'int', default: '5', help: 'Seconds between polls of the latest block' },
  { name: 'localVerify', type: 'bool', help: 'Check result signatures and billed pixel counts (default: on-chain on, off-chain off)' },
  {
    name: 'localVerifyDecodeFraction',
    type: 'float',
    default: '0.05',
    help: 'Share of verified segments whose renditions are also fully decoded (pixels are counted from the bitstream on every one)',
  },
  { name: 'currentManifest', type: 'bool', default: 'false', help: 'Also serve the newest stream at /stream/current.m3u8' },
  { name: 'monitor', type: 'bool', default: 'false', help: 'Prometheus metrics at <cliAddr>/metrics' },
  { name: 'v', type: 'string', default: '3', help: 'Log verbosity (glog levels: 3 = info, 4-6 = debug)' },
  { name: 'logFormat', type: 'string', default: 'auto', help: 'Log lines: text (for people), json, or auto (text on a terminal, json otherwise)' },
  { name: 'config', type: 'string', default: '', help: 'Config file: one "flagName value" per line' },
  { name: 'version', type: 'bool', default: 'false', help: 'Print the version and exit' },
];

/** Orchestrator/transcoder-only flags: accepted so shared config files work, then ignored with a warning. */
export const IGNORED_FLAGS: readonly string[] = [
  'orchestrator',
  'transcoder',
  'serviceAddr',
  'orchSecret',
  'pricePerUnit',
  'ticketEV',
  'maxFaceValue',
  'redeemer',
  'redeemerAddr',
  'ethOrchAddr',
  'nvidia',
  'netint',
  'reward',
  'initializeRound',
  'autoAdjustPrice',
];

const byName = new Map<string, FlagSpec>();
for (const f of NODE_FLAGS) {
  byName.set(f.name, f);
  for (const a of f.aliases ?? []) byName.set(a, f);
}

export function flagSpec(name: string): FlagSpec | undefined {
  return byName.get(name);
}

/** A flag or argument the operator must change: a usage error (exit 2). */
export class FlagError extends GatewayError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { code: 'FLAG_INVALID', cause: opts.cause });
  }
}

/** Runs a lib/wei.ts parser; a bad amount becomes a FlagError with its message, or with `message` when given. */
export function weiFlag<T>(parse: () => T, message?: string): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof WeiAmountError) throw new FlagError(message ?? err.message, { cause: err });
    throw err;
  }
}

export interface NormalizeOptions {
  /** Boolean flags of subcommands (beyond NODE_FLAGS), e.g. --yes. */
  extraBools?: readonly string[];
  /** Flags with a value of subcommands (beyond NODE_FLAGS), e.g. --deposit. */
  extraValues?: readonly string[];
}

/**
 * Rewrites Go-style arguments into commander's form: every flag becomes `--name=value` under its
 * canonical name, booleans get an explicit `=true`. Go stops at the first non-flag argument; so do we.
 */
export function normalizeGoArgs(argv: readonly string[], opts: NormalizeOptions = {}): string[] {
  const bools = new Set([...(opts.extraBools ?? []), ...NODE_FLAGS.filter((f) => f.type === 'bool').map((f) => f.name), ...IGNORED_FLAGS]);
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^--?([A-Za-z][\w.-]*)(?:=(.*))?$/s.exec(arg);
    if (!m) {
      out.push(arg);
      continue;
    }
    const given = m[1]!;
    const name = flagSpec(given)?.name ?? given;
    if (name === 'h' || name === 'help') {
      out.push('--help');
      continue;
    }
    let value = m[2];
    if (!flagSpec(given) && !bools.has(given) && !opts.extraValues?.includes(given)) {
      throw new FlagError(`flag provided but not defined: -${given}`);
    }
    if (bools.has(name) || bools.has(given)) {
      if (value === undefined) value = 'true';
      if (!/^(true|false|1|0|t|f|TRUE|FALSE|True|False|T|F)$/.test(value)) {
        throw new FlagError(`invalid boolean value "${value}" for -${given}`);
      }
    } else if (value === undefined) {
      if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: -${given}`);
      value = argv[++i]!;
    }
    out.push(`--${name}=${value}`);
  }
  return out;
}

/** Go's strconv.ParseBool. */
export function parseGoBool(value: string): boolean {
  if (/^(1|t|T|true|TRUE|True)$/.test(value)) return true;
  if (/^(0|f|F|false|FALSE|False)$/.test(value)) return false;
  throw new FlagError(`invalid boolean value "${value}"`);
}

/** Go's time.ParseDuration for the units operators use (ns … h, combinable: "1m30s"). Returns ms. */
export function parseGoDuration(value: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (value === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    total += Number(m[1]) * units[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (consumed === 0 || consumed !== value.length) throw new FlagError(`invalid duration "${value}" (examples: 500ms, 2s, 5m)`);
  return total;
}

/** A commander Option for a flag spec; values stay strings, typed later by the config builder. */
export function commanderOption(spec: FlagSpec): Option {
  const opt = spec.type === 'bool' ? new Option(`--${spec.name} [bool]`, spec.help) : new Option(`--${spec.name} <value>`, spec.help);
  if (spec.default !== undefined && spec.default !== '') opt.default(spec.default);
  // LP_<FLAG> environment variables, as go-livepeer reads them
  opt.env(`LP_${spec.name.toUpperCase()}`);
  return opt;
}

/**
 * Parses a go-livepeer config file: one `flagName value` per line, leading dashes optional,
 * `#` starts a comment, a name alone sets a boolean.
 */
export function parseConfigFile(text: string, source = 'config file'): Map<string, string> {
  const values = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, idx) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    const m = /^-{0,2}([A-Za-z][\w.-]*)(?:[\s=]+(.*))?$/.exec(line);
    if (!m) throw new FlagError(`${source}:${idx + 1}: cannot parse "${raw.trim()}"`);
    const spec = flagSpec(m[1]!);
    const name = spec?.name ?? m[1]!;
    if (!spec && !IGNORED_FLAGS.includes(name)) throw new FlagError(`${source}:${idx + 1}: flag provided but not defined: -${m[1]}`);
    values.set(name, m[2]?.trim() ?? 'true');
  });
  return values;
}
