// The library's configuration: a typed object whose keys are the gateway's flag names. It is turned
// into flag values and built by the same builder as the command line, so defaults, derived settings
// (data directory per network, the HTTP-ingest rule, -localVerify per network) and every validation
// rule are the flags' own.
import { GatewayError } from '../lib/errors.ts';
import type { NodeConfig } from '../node/config.ts';
import { flagSpec } from './flags.ts';
import { buildNodeConfig } from './nodeConfig.ts';

/** A wrong option in a configuration object; the message names the option and what it takes. */
export class ConfigError extends GatewayError {}

/** Money: a bigint or number of wei, or the flag's text ("3000000000000", "1.5", and for the max price "0.5USD"). */
type Amount = bigint | number | string;
/** A Go duration ("500ms", "5m") or a number of milliseconds. */
type Duration = string | number;
/** One comma-separated string, or its items. */
type List = string | readonly string[];

/**
 * The gateway's settings, named as its flags are (`maxPricePerUnit` is `-maxPricePerUnit`). Every key is
 * optional; a missing one takes the flag's default.
 */
export interface GatewayConfig {
  /** `offchain` (default), `arbitrum-one-mainnet`, or any name together with `ethController` */
  network?: string;
  /** Arbitrum JSON-RPC endpoints; the gateway fails over between them. Required on-chain. */
  ethUrl?: List;
  /** protocol Controller address (default: the network's) */
  ethController?: string;
  /** keystore directory or key file (default `<datadir>/keystore`) */
  ethKeystorePath?: string;
  /** which account of the keystore to use */
  ethAcctAddr?: string;
  /** keystore password, or the path of a file holding it; never logged */
  ethPassword?: string;
  /** data directory (default `~/.lpData/<network>`) */
  datadir?: string;
  /** RTMP ingest, `host:port` (default `127.0.0.1:1935`; port 0 picks a free one) */
  rtmpAddr?: string;
  /** HLS playback and HTTP push, `host:port` (default `127.0.0.1:9935`) */
  httpAddr?: string;
  /** control API, `host:port` (default `127.0.0.1:5935`) */
  cliAddr?: string;
  /** accept HTTP push on `/live/` (default: on for a loopback `httpAddr` or with an `authWebhookUrl`) */
  httpIngest?: boolean;
  /** orchestrator URIs, trusted; missing scheme ⇒ https, missing port ⇒ 8935 */
  orchAddr?: List;
  /** orchestrator discovery webhook (takes precedence over `orchAddr`) */
  orchWebhookUrl?: string;
  /** orchestrator addresses never to use */
  orchBlocklist?: List;
  /** hosts renditions may be fetched from besides each orchestrator's own origin (e.g. an object store) */
  renditionHosts?: List;
  /** ignore orchestrators older than this version */
  orchMinLivepeerVersion?: string;
  /** stream authentication webhook */
  authWebhookUrl?: string;
  /** events webhook: stream, orchestrator and deposit events are POSTed here */
  eventsWebhookUrl?: string;
  /** HMAC-SHA256 secret signing the events webhook's posts; never logged */
  eventsWebhookSecret?: string;
  /** preset names (default `P240p30fps16x9,P360p30fps16x9`), or the path of a JSON profiles file */
  transcodingOptions?: List;
  /** most concurrent streams (default 10) */
  maxSessions?: number;
  /** transcode attempts per segment (default 3) */
  maxAttempts?: number;
  /** wait for GetOrchestrator replies before using the first good one (default 500ms) */
  discoveryTimeout?: Duration;
  /** max price per `pixelsPerUnit` pixels, wei or e.g. `"0.5USD"`; 0 = any price (default) */
  maxPricePerUnit?: Amount;
  /** Chainlink ETH/USD feed for USD prices */
  priceFeedAddr?: string;
  priceFeedMaxAge?: Duration;
  /** pixels per unit of `maxPricePerUnit` (default 1) */
  pixelsPerUnit?: Amount;
  /** use orchestrators above the max price when none is under it */
  ignoreMaxPriceIfNeeded?: boolean;
  /** max expected value of one ticket, wei (default 3000000000000) */
  maxTicketEV?: Amount;
  /** max expected value of one payment, wei (default 20000000000000) */
  maxTotalEV?: Amount;
  /** refuse tickets whose face value is above deposit ÷ this (default 1) */
  depositMultiplier?: number;
  /** selection weight of stake (default 0.7); the three weights sum to 1 */
  selectStakeWeight?: number;
  /** selection weight of price (default 0) */
  selectPriceWeight?: number;
  /** selection weight of chance (default 0.3) */
  selectRandFreq?: number;
  /** how sharply price differences count (default 100) */
  selectPriceExpFactor?: number;
  /** no transactions above this gas price, wei; 0 = no cap */
  maxGasPrice?: Amount;
  /** how long to wait for a transaction receipt (default 5m) */
  transactionTimeout?: Duration;
  /** seconds between polls of the latest block (default 5) */
  blockPollingInterval?: number;
  /** check result signatures and billed pixels (default: on on-chain, off off-chain) */
  localVerify?: boolean;
  localVerifyDecodeFraction?: number;
  /** also serve the newest stream at `/stream/current.m3u8` */
  currentManifest?: boolean;
  /** Prometheus metrics at `<cliAddr>/metrics` */
  monitor?: boolean;
  /** log verbosity as glog levels: 3 = info (default), 4–6 = debug */
  v?: number;
  /** log lines: `text` for people, `json`, or `auto` (default: text on a terminal, json otherwise) */
  logFormat?: 'auto' | 'json' | 'text';
  /** shared state in PostgreSQL (`postgres://user:pass@host:port/db`); empty = Level in `datadir` */
  storeUrl?: string;
  /** HLS and AI outputs in an S3 store: `s3://KEY:SECRET@REGION/BUCKET` or `s3+https://KEY:SECRET@HOST:PORT/BUCKET` */
  objectStore?: string;
  /** the URL viewers reach the object store's bucket root at (a CDN); default the store's own */
  objectStorePublicUrl?: string;
  /** whole streams recorded to an S3 store (same URL forms as `objectStore`) */
  recordStore?: string;
  /** control API token, or the path of a file holding it (Authorization: Bearer) */
  cliToken?: string;
  /** largest HTTP push segment body, bytes (default 300 MiB) */
  httpIngestMaxBytes?: number;
  hlsMaxBytesPerStream?: number;
  /** HTTP push requests handled at once (default 16) */
  httpIngestMaxConcurrent?: number;
  /** API keys: `off` (default), `optional` or `required` */
  apiKeys?: 'off' | 'optional' | 'required';
  /** proxies (addresses, CIDR ranges) whose `X-Forwarded-For` names the client */
  trustedProxies?: string | string[];
  /** requests per minute per client address without an API key */
  anonymousRequestsPerMinute?: number;
  /** AI price ceilings per pipeline and model: inline JSON or a file (`{"capabilities_prices":[…]}`) */
  maxPricePerCapability?: string;
  /** no new attempt at an AI request starts after this (default `2s`) */
  aiProcessingRetryTimeout?: Duration;
  /** minimum AI runner versions: JSON `[{"model_id","pipeline","minVersion"}]` */
  aiMinRunnerVersion?: string;
  /** read orchestrator service URIs from the AI subnet ServiceRegistry */
  aiServiceRegistry?: boolean;
  /** run as a remote signer for keyless gateways (on-chain only) */
  remoteSigner?: boolean;
  /** pay through this remote signer, with no key of our own (off-chain) */
  remoteSignerUrl?: string;
  /** headers for the remote signer, `"k:v,k2:v2"`; never logged */
  remoteSignerHeaders?: string;
  /** signer mode: the auth webhook asked before each payment */
  remoteSignerWebhookUrl?: string;
  /** signer mode: headers for the auth webhook, `"k:v,k2:v2"` */
  remoteSignerWebhookHeaders?: string;
  /** signer mode: start on a public `httpAddr` without an auth webhook */
  remoteSignerAllowNoAuth?: boolean;
  /** signer mode: serve `GET /discover-orchestrators` */
  remoteDiscovery?: boolean;
  /** signer mode: how often discovery re-polls orchestrators (default `25m`) */
  liveAICapReportInterval?: Duration;
}

type Kind = 'string' | 'list' | 'bool' | 'int' | 'number' | 'amount' | 'duration';

/** How each option is written as flag text. The compiler keeps this in step with GatewayConfig. */
const KINDS: { readonly [K in keyof Required<GatewayConfig>]: Kind } = {
  network: 'string',
  ethUrl: 'list',
  ethController: 'string',
  ethKeystorePath: 'string',
  ethAcctAddr: 'string',
  ethPassword: 'string',
  datadir: 'string',
  rtmpAddr: 'string',
  httpAddr: 'string',
  cliAddr: 'string',
  httpIngest: 'bool',
  orchAddr: 'list',
  orchWebhookUrl: 'string',
  orchBlocklist: 'list',
  renditionHosts: 'list',
  orchMinLivepeerVersion: 'string',
  authWebhookUrl: 'string',
  eventsWebhookUrl: 'string',
  eventsWebhookSecret: 'string',
  transcodingOptions: 'list',
  maxSessions: 'int',
  maxAttempts: 'int',
  discoveryTimeout: 'duration',
  maxPricePerUnit: 'amount',
  priceFeedAddr: 'string',
  priceFeedMaxAge: 'duration',
  pixelsPerUnit: 'amount',
  ignoreMaxPriceIfNeeded: 'bool',
  maxTicketEV: 'amount',
  maxTotalEV: 'amount',
  depositMultiplier: 'int',
  selectStakeWeight: 'number',
  selectPriceWeight: 'number',
  selectRandFreq: 'number',
  selectPriceExpFactor: 'number',
  maxGasPrice: 'amount',
  transactionTimeout: 'duration',
  blockPollingInterval: 'int',
  localVerify: 'bool',
  localVerifyDecodeFraction: 'number',
  currentManifest: 'bool',
  monitor: 'bool',
  v: 'int',
  logFormat: 'string',
  storeUrl: 'string',
  objectStore: 'string',
  objectStorePublicUrl: 'string',
  recordStore: 'string',
  cliToken: 'string',
  httpIngestMaxBytes: 'int',
  hlsMaxBytesPerStream: 'int',
  httpIngestMaxConcurrent: 'int',
  apiKeys: 'string',
  trustedProxies: 'list',
  anonymousRequestsPerMinute: 'int',
  maxPricePerCapability: 'string',
  aiProcessingRetryTimeout: 'duration',
  aiMinRunnerVersion: 'string',
  aiServiceRegistry: 'bool',
  remoteSigner: 'bool',
  remoteSignerUrl: 'string',
  remoteSignerHeaders: 'string',
  remoteSignerWebhookUrl: 'string',
  remoteSignerWebhookHeaders: 'string',
  remoteSignerAllowNoAuth: 'bool',
  remoteDiscovery: 'bool',
  liveAICapReportInterval: 'duration',
};

/** The option names a GatewayConfig accepts (the gateway's flag names, less -gateway, -config, -version). */
export const CONFIG_OPTION_NAMES: readonly string[] = Object.keys(KINDS);

const EXPECTED: Record<Kind, string> = {
  string: 'a string',
  list: 'a string or an array of strings',
  bool: 'true or false',
  int: 'a whole number',
  number: 'a finite number',
  amount: 'a bigint, a number or a string of wei',
  duration: 'a Go duration string ("500ms", "5m") or a number of milliseconds',
};

/** The flag text of one option, or undefined when the value has the wrong type. */
function flagText(kind: Kind, value: unknown): string | undefined {
  switch (kind) {
    case 'string':
      return typeof value === 'string' ? value : undefined;
    case 'list':
      if (typeof value === 'string') return value;
      return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value.join(',') : undefined;
    case 'bool':
      return typeof value === 'boolean' ? String(value) : undefined;
    case 'int':
      return Number.isSafeInteger(value) ? String(value) : undefined;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
    case 'amount':
      if (typeof value === 'bigint' || typeof value === 'string') return String(value);
      // a number is taken only when it prints as plain digits (1e21 would print as "1e+21")
      return typeof value === 'number' && Number.isFinite(value) && !/e/i.test(String(value)) ? String(value) : undefined;
    case 'duration':
      if (typeof value === 'string') return value;
      return typeof value === 'number' && Number.isFinite(value) ? `${value}ms` : undefined;
  }
}

/** Flag values (name → text) from a configuration object; wrong names and types are ConfigErrors. */
export function configFlagValues(config: GatewayConfig): Map<string, string> {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new ConfigError('the gateway configuration must be an object');
  const values = new Map<string, string>();
  for (const [name, value] of Object.entries(config)) {
    if (value === undefined) continue;
    const kind = Object.hasOwn(KINDS, name) ? KINDS[name as keyof GatewayConfig] : undefined;
    if (!kind) {
      throw new ConfigError(`unknown gateway option "${name}"; options are the gateway's flag names (${CONFIG_OPTION_NAMES.join(', ')})`);
    }
    const text = flagText(kind, value);
    if (text === undefined) throw new ConfigError(`gateway option ${name} must be ${EXPECTED[kind]}, got ${typeof value}`);
    values.set(flagSpec(name)?.name ?? name, text);
  }
  return values;
}

/** The node's configuration from an object, with the flags' defaults and validation rules. */
export function nodeConfigFromObject(config: GatewayConfig = {}): NodeConfig {
  const values = configFlagValues(config);
  try {
    return buildNodeConfig(values, (name) => values.has(name));
  } catch (err) {
    throw new ConfigError((err as Error).message, { cause: err });
  }
}
