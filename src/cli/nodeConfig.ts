// Flag values → the gateway's typed configuration, with go-livepeer's validation rules.
// Every problem is one FlagError whose message names the flag.
import { LOG_FORMATS, type LogFormat } from '../node/logger.ts';
import { join } from 'node:path';
import { getAddress, isAddress } from 'viem';
import { checkWeights, type SelectionWeights } from '../discovery/selection.ts';
import { parseOrchAddrList } from '../discovery/orchUri.ts';
import { resolveNetwork, type Network } from '../eth/networks.ts';
import { parseTranscodingOptions, type VideoProfile } from '../media/profiles.ts';
import type { Rat } from '../lib/rat.ts';
import { parseMaxPricePerUnit, type MaxPriceSpec } from '../pm/maxPrice.ts';
import { AI_PIPELINE_CAPABILITY } from '../net/aiCapabilities.ts';
import { parseCapabilityPrices } from '../pm/capabilityPrices.ts';
import type { AiNodeConfig } from '../node/config.ts';
import { defaultDataDir } from './account.ts';
import { FlagError, flagSpec, parseGoBool, parseGoDuration, weiFlag } from './flags.ts';
import { objectStoreConfig } from './objectStoreFlags.ts';
import { parseWei, parseWeiRat as parseWeiRatAmount } from '../lib/wei.ts';
import { isLoopback, parseListenAddr as parseAddr, type ListenAddr } from '../lib/listenAddr.ts';
import type { NodeConfig } from '../node/config.ts';
import { parseStoreUrl } from '../store/pgTarget.ts';
import { parseHeaderList } from '../signer/authWebhook.ts';
import type { RemoteSignerClientConfig, RemoteSignerConfig } from '../node/config.ts';
import { TrustedProxies } from '../tenancy/clientAddress.ts';

export type { ListenAddr, NodeConfig };

const get = (v: Map<string, string>, name: string): string => v.get(name) ?? flagSpec(name)?.default ?? '';

function bool(v: Map<string, string>, name: string): boolean {
  try {
    return parseGoBool(get(v, name) || 'false');
  } catch {
    throw new FlagError(`-${name}: invalid boolean "${get(v, name)}"`);
  }
}

function int(v: Map<string, string>, name: string, min: number): number {
  const s = get(v, name);
  const n = Number(s);
  if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(n)) throw new FlagError(`-${name}: "${s}" is not a whole number`);
  if (n < min) throw new FlagError(`-${name} must be ≥ ${min}, got ${n}`);
  return n;
}

function float(v: Map<string, string>, name: string): number {
  const s = get(v, name);
  const n = Number(s);
  if (s.trim() === '' || !Number.isFinite(n)) throw new FlagError(`-${name}: "${s}" is not a number`);
  return n;
}

function fraction(v: Map<string, string>, name: string): number {
  const n = float(v, name);
  if (n < 0 || n > 1) throw new FlagError(`-${name} must be between 0 and 1, got ${n}`);
  return n;
}

function duration(v: Map<string, string>, name: string): number {
  try {
    return parseGoDuration(get(v, name));
  } catch (err) {
    throw new FlagError(`-${name}: ${(err as Error).message}`);
  }
}

/** A non-negative rational in wei, as go-livepeer's flags take them ("3000000000000", "1.5", "3/2"). */
export function parseWeiRat(name: string, s: string): Rat {
  return weiFlag(() => parseWeiRatAmount(`-${name}:`, s));
}

function wholeNumber(name: string, s: string): bigint {
  if (!/^\d+$/.test(s.trim())) throw new FlagError(`-${name}: "${s}" is not a whole number`);
  return BigInt(s.trim());
}

/** go-livepeer's address rules (lib/listenAddr.ts), as a flag error. */
export function parseListenAddr(name: string, value: string, defaultPort: number): ListenAddr {
  try {
    return parseAddr(name, value, defaultPort);
  } catch (err) {
    throw new FlagError((err as Error).message);
  }
}

export { isLoopback };

function httpUrl(name: string, s: string): string | undefined {
  if (!s) return undefined;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    // not echoed: a mistyped URL may still carry its API key
    throw new FlagError(`-${name} is not a URL (expected http(s)://host[:port]/path)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new FlagError(`-${name} must be an http(s) URL, got ${u.protocol}`);
  return s;
}

export function buildNodeConfig(values: Map<string, string>, given: (name: string) => boolean = () => false): NodeConfig {
  let network: Network;
  try {
    network = resolveNetwork(get(values, 'network'), get(values, 'ethController'));
  } catch (err) {
    throw new FlagError((err as Error).message);
  }
  const ethUrls = get(values, 'ethUrl')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!network.offchain && ethUrls.length === 0) {
    throw new FlagError('Need to specify an Ethereum node JSON-RPC URL using -ethUrl');
  }
  for (const u of ethUrls) httpUrl('ethUrl', u);
  const datadir = get(values, 'datadir') || defaultDataDir(network.name);
  const storeUrl = get(values, 'storeUrl').trim();
  if (storeUrl) {
    try {
      parseStoreUrl(storeUrl);
    } catch (err) {
      throw new FlagError((err as Error).message);
    }
  }
  const { objectStore, recordStore } = objectStoreConfig(values);
  const signerMode = bool(values, 'remoteSigner');
  if (signerMode && network.offchain) throw new FlagError('Remote signer mode requires on-chain network');
  // go-livepeer's signer ports: HTTP 8935, control API 3935, unless set
  const httpAddr = parseListenAddr('httpAddr', signerMode && !given('httpAddr') ? '127.0.0.1:8935' : get(values, 'httpAddr'), signerMode ? 8935 : 9935);
  const authWebhookUrl = httpUrl('authWebhookUrl', get(values, 'authWebhookUrl'));
  const eventsWebhookUrl = httpUrl('eventsWebhookUrl', get(values, 'eventsWebhookUrl'));
  const eventsWebhookSecret = get(values, 'eventsWebhookSecret');
  if (eventsWebhookSecret && !eventsWebhookUrl) throw new FlagError('-eventsWebhookSecret needs -eventsWebhookUrl');

  // go-livepeer: HTTP ingest turns itself off on a public address without an auth webhook, unless asked for.
  let httpIngest = bool(values, 'httpIngest');
  let httpIngestNote: string | undefined;
  if (!given('httpIngest') && !isLoopback(httpAddr.host) && !authWebhookUrl) {
    httpIngest = false;
    httpIngestNote = `HTTP ingest disabled: -httpAddr ${httpAddr.host} is not loopback and no -authWebhookUrl is set (pass -httpIngest to enable)`;
  }

  let profiles: VideoProfile[];
  try {
    profiles = parseTranscodingOptions(get(values, 'transcodingOptions'));
  } catch (err) {
    throw new FlagError(`-transcodingOptions: ${(err as Error).message}`);
  }

  const orchBlocklist = get(values, 'orchBlocklist')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((a) => {
      if (!isAddress(a, { strict: false })) throw new FlagError(`-orchBlocklist: "${a}" is not an Ethereum address`);
      return getAddress(a);
    });

  let orchAddr: string[];
  try {
    orchAddr = parseOrchAddrList(get(values, 'orchAddr'));
  } catch (err) {
    throw new FlagError(`-orchAddr: ${(err as Error).message}`);
  }

  const pixelsPerUnit = wholeNumber('pixelsPerUnit', get(values, 'pixelsPerUnit'));
  if (pixelsPerUnit <= 0n) throw new FlagError('-pixelsPerUnit must be > 0');
  let maxPrice: MaxPriceSpec;
  try {
    maxPrice = parseMaxPricePerUnit(get(values, 'maxPricePerUnit'), pixelsPerUnit);
  } catch (err) {
    throw new FlagError(`-maxPricePerUnit: ${(err as Error).message}`);
  }
  const priceFeedAddr = get(values, 'priceFeedAddr');
  if (!isAddress(priceFeedAddr, { strict: false })) throw new FlagError(`-priceFeedAddr: "${priceFeedAddr}" is not an Ethereum address`);
  const depositMultiplier = int(values, 'depositMultiplier', 1);

  const weights: SelectionWeights = {
    stake: float(values, 'selectStakeWeight'),
    price: float(values, 'selectPriceWeight'),
    random: float(values, 'selectRandFreq'),
    priceExpFactor: float(values, 'selectPriceExpFactor'),
  };
  if (!network.offchain) {
    try {
      checkWeights(weights);
    } catch (err) {
      throw new FlagError((err as Error).message);
    }
  }

  const logFormat = get(values, 'logFormat') as LogFormat;
  if (!LOG_FORMATS.includes(logFormat)) throw new FlagError(`-logFormat: "${logFormat}" is not one of ${LOG_FORMATS.join(', ')}`);
  const verbosity = Number(get(values, 'v'));
  if (!Number.isInteger(verbosity) || verbosity < 0) throw new FlagError(`-v: "${get(values, 'v')}" is not a log level (0-6)`);
  const ethAcctAddr = get(values, 'ethAcctAddr');
  if (ethAcctAddr && !isAddress(ethAcctAddr, { strict: false })) throw new FlagError(`-ethAcctAddr: "${ethAcctAddr}" is not an Ethereum address`);

  const ai = aiConfig(values, maxPrice);
  let remoteSignerClient: RemoteSignerClientConfig | undefined;
  const signerUrl = get(values, 'remoteSignerUrl').trim();
  if (signerUrl && !signerMode) {
    if (!network.offchain) {
      throw new FlagError(
        '-remoteSignerUrl runs the gateway without a key, paid by the signer: use it with -network offchain (the signer is the on-chain node)',
      );
    }
    remoteSignerClient = { url: parseRemoteSignerUrl(signerUrl), headers: parseHeaderList(get(values, 'remoteSignerHeaders')) };
  }
  const orchWebhookUrl = httpUrl('orchWebhookUrl', get(values, 'orchWebhookUrl'));
  const orchMinLivepeerVersion = get(values, 'orchMinLivepeerVersion');
  return {
    deprecatedBroadcasterFlag: bool(values, 'broadcaster') && !bool(values, 'gateway'),
    network,
    ethUrls,
    keystorePath: get(values, 'ethKeystorePath') || join(datadir, 'keystore'),
    ...(ethAcctAddr ? { ethAcctAddr } : {}),
    ethPassword: get(values, 'ethPassword'),
    datadir,
    ...(storeUrl ? { storeUrl } : {}),
    ...(objectStore ? { objectStore } : {}),
    ...(recordStore ? { recordStore } : {}),
    apiKeys: apiKeysConfig(values),
    rtmpAddr: parseListenAddr('rtmpAddr', get(values, 'rtmpAddr'), 1935),
    httpAddr,
    cliAddr: parseListenAddr('cliAddr', signerMode && !given('cliAddr') ? '127.0.0.1:3935' : get(values, 'cliAddr'), signerMode ? 3935 : 5935),
    ...(get(values, 'cliToken') ? { cliToken: get(values, 'cliToken') } : {}),
    httpIngest,
    httpIngestMaxBytes: int(values, 'httpIngestMaxBytes', 1),
    hlsMaxBytesPerStream: int(values, 'hlsMaxBytesPerStream', 1),
    httpIngestMaxConcurrent: int(values, 'httpIngestMaxConcurrent', 1),
    ...(httpIngestNote ? { httpIngestNote } : {}),
    orchAddr,
    ...(orchWebhookUrl ? { orchWebhookUrl } : {}),
    orchBlocklist,
    renditionHosts: parseRenditionHosts(get(values, 'renditionHosts')),
    ...(orchMinLivepeerVersion ? { orchMinLivepeerVersion } : {}),
    ...(authWebhookUrl ? { authWebhookUrl } : {}),
    ...(eventsWebhookUrl ? { eventsWebhook: { url: eventsWebhookUrl, ...(eventsWebhookSecret ? { secret: eventsWebhookSecret } : {}) } } : {}),
    profiles,
    transcodingOptions: get(values, 'transcodingOptions'),
    maxSessions: int(values, 'maxSessions', 1),
    maxAttempts: int(values, 'maxAttempts', 0),
    discoveryTimeoutMs: duration(values, 'discoveryTimeout'),
    maxPrice,
    priceFeedAddr: getAddress(priceFeedAddr),
    priceFeedMaxAgeMs: duration(values, 'priceFeedMaxAge'),
    ignoreMaxPriceIfNeeded: bool(values, 'ignoreMaxPriceIfNeeded'),
    limits: {
      maxTicketEV: parseWeiRat('maxTicketEV', get(values, 'maxTicketEV')),
      maxTotalEV: parseWeiRat('maxTotalEV', get(values, 'maxTotalEV')),
      depositMultiplier: BigInt(depositMultiplier),
    },
    weights,
    maxGasPrice: weiFlag(() => parseWei('-maxGasPrice:', get(values, 'maxGasPrice'))),
    transactionTimeoutMs: duration(values, 'transactionTimeout'),
    blockPollingIntervalMs: int(values, 'blockPollingInterval', 1) * 1000,
    localVerify: values.has('localVerify') ? bool(values, 'localVerify') : !network.offchain,
    localVerifyDecodeFraction: fraction(values, 'localVerifyDecodeFraction'),
    currentManifest: bool(values, 'currentManifest'),
    monitor: bool(values, 'monitor'),
    verbosity,
    logFormat,
    ai,
    ...(signerMode ? { remoteSigner: remoteSignerConfig(values, httpAddr) } : {}),
    ...(remoteSignerClient ? { remoteSignerClient } : {}),
    ignoredFlags: [],
  };
}

/**
 * Signer mode. Fail closed: a signer on a non-loopback -httpAddr without an auth webhook would sign
 * payments from its deposit for anyone who can reach it, so it does not start unless told to.
 */
function remoteSignerConfig(values: Map<string, string>, httpAddr: ListenAddr): RemoteSignerConfig {
  const webhookUrl = httpUrl('remoteSignerWebhookUrl', get(values, 'remoteSignerWebhookUrl'));
  const allowNoAuth = bool(values, 'remoteSignerAllowNoAuth');
  if (!webhookUrl && !isLoopback(httpAddr.host) && !allowNoAuth) {
    throw new FlagError(
      `Refusing to start: remote signer on public -httpAddr ${httpAddr.host}:${httpAddr.port} with no -remoteSignerWebhookUrl signs payments from this node's deposit for any caller. Set the webhook, or pass -remoteSignerAllowNoAuth to override.`,
    );
  }
  return {
    ...(webhookUrl ? { webhookUrl } : {}),
    webhookHeaders: parseHeaderList(get(values, 'remoteSignerWebhookHeaders')),
    allowNoAuth,
    discovery: bool(values, 'remoteDiscovery'),
    capReportIntervalMs: duration(values, 'liveAICapReportInterval'),
  };
}

/** -remoteSignerUrl as go-livepeer takes it: a bare host:port gets https://, any path is dropped. */
export function parseRemoteSignerUrl(text: string): string {
  const t = text.trim();
  let u: URL;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(t) ? t : `https://${t}`);
  } catch {
    throw new FlagError(`-remoteSignerUrl: "${text}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new FlagError(`-remoteSignerUrl must be an http(s) URL, got ${u.protocol}`);
  if (u.username || u.password) throw new FlagError('-remoteSignerUrl must not carry credentials; pass them with -remoteSignerHeaders');
  return u.origin;
}

/** -maxPricePerCapability, -aiProcessingRetryTimeout, -aiMinRunnerVersion, -aiServiceRegistry. */
function aiConfig(values: Map<string, string>, maxPrice: MaxPriceSpec): AiNodeConfig {
  const warnings: string[] = [];
  let maxPricePerCapability: AiNodeConfig['maxPricePerCapability'];
  try {
    maxPricePerCapability = parseCapabilityPrices(get(values, 'maxPricePerCapability'), {
      pipelines: AI_PIPELINE_CAPABILITY,
      fallback: maxPrice,
      warn: (m) => warnings.push(m),
    });
  } catch (err) {
    throw new FlagError((err as Error).message);
  }
  const minRunnerVersions: AiNodeConfig['minRunnerVersions'] = [];
  const rawVersions = get(values, 'aiMinRunnerVersion').trim() || '[]';
  try {
    const list: unknown = JSON.parse(rawVersions);
    if (!Array.isArray(list)) throw new Error('not a list');
    for (const e of list) {
      const o = (e && typeof e === 'object' ? e : {}) as Record<string, unknown>;
      if (typeof o.pipeline !== 'string' || typeof o.model_id !== 'string' || typeof o.minVersion !== 'string') {
        throw new Error('each entry needs "pipeline", "model_id" and "minVersion" strings');
      }
      minRunnerVersions.push({ pipeline: o.pipeline, modelId: o.model_id, minVersion: o.minVersion });
    }
  } catch (err) {
    throw new FlagError(`-aiMinRunnerVersion: ${(err as Error).message} (expected [{"model_id","pipeline","minVersion"}])`);
  }
  const processingRetryTimeoutMs = duration(values, 'aiProcessingRetryTimeout');
  return { maxPricePerCapability, processingRetryTimeoutMs, minRunnerVersions, serviceRegistry: bool(values, 'aiServiceRegistry'), warnings };
}

/** -apiKeys, -trustedProxies, -anonymousRequestsPerMinute. */
function apiKeysConfig(values: Map<string, string>): NodeConfig['apiKeys'] {
  const mode = get(values, 'apiKeys').trim() || 'off';
  if (mode !== 'off' && mode !== 'optional' && mode !== 'required') throw new FlagError(`-apiKeys must be off, optional or required, got "${mode}"`);
  const trustedProxies = get(values, 'trustedProxies');
  try {
    new TrustedProxies(trustedProxies);
  } catch (err) {
    throw new FlagError(`-trustedProxies: ${(err as Error).message}`);
  }
  return { mode, trustedProxies, anonymousRequestsPerMinute: int(values, 'anonymousRequestsPerMinute', 1) };
}

/** -renditionHosts: host names or host:port, no scheme or path (a URL's host, as the check compares it). */
function parseRenditionHosts(raw: string): string[] {
  const hosts = raw
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  for (const h of hosts) {
    if (!URL.canParse(`https://${h}/`) || new URL(`https://${h}/`).host !== h) {
      throw new FlagError(`-renditionHosts: "${h}" is not a host name or host:port (no scheme, no path)`);
    }
  }
  return hosts;
}
