// The gateway's typed configuration. The command line (cli/) parses flags into it; the node and a
// program that embeds the gateway read it.
import type { Address } from 'viem';
import type { ListenAddr } from '../lib/listenAddr.ts';
import type { SelectionWeights } from '../discovery/selection.ts';
import type { Network } from '../eth/networks.ts';
import type { VideoProfile } from '../media/profiles.ts';
import type { CapabilityPriceEntry } from '../pm/capabilityPrices.ts';
import type { MaxPriceSpec } from '../pm/maxPrice.ts';
import type { PaymentLimits } from '../pm/validate.ts';

export type { ListenAddr };

/** The AI gateway's settings (docs/ai.md, flags). */
export interface AiNodeConfig {
  /** -maxPricePerCapability, parsed */
  maxPricePerCapability: CapabilityPriceEntry[];
  /** -aiProcessingRetryTimeout */
  processingRetryTimeoutMs: number;
  /** -aiMinRunnerVersion */
  minRunnerVersions: { pipeline: string; modelId: string; minVersion: string }[];
  /** -aiServiceRegistry */
  serviceRegistry: boolean;
  /** problems found in the AI flags that were ignored (logged at start) */
  warnings: string[];
}

/** -remoteSigner: this node signs for keyless gateways (docs/remote-signer.md). */
export interface RemoteSignerConfig {
  /** -remoteSignerWebhookUrl: asked before each payment; holds no secret of ours but may carry the operator's */
  webhookUrl?: string;
  /** -remoteSignerWebhookHeaders; never logged */
  webhookHeaders: Record<string, string>;
  /** -remoteSignerAllowNoAuth */
  allowNoAuth: boolean;
  /** -remoteDiscovery */
  discovery: boolean;
  /** -liveAICapReportInterval */
  capReportIntervalMs: number;
}

/** -remoteSignerUrl: a keyless gateway paying through a remote signer. */
export interface RemoteSignerClientConfig {
  /** the signer's origin (scheme, host, port); paths are the protocol's own */
  url: string;
  /** -remoteSignerHeaders, sent to the signer only; never logged */
  headers: Record<string, string>;
}

/** An S3 store the gateway writes to (README "Running as a managed provider"). */
export interface ObjectStoreConfig {
  /** go-livepeer's URL form, credentials included */
  url: string;
  /** where viewers reach the bucket's root (a CDN); default the store's own URL */
  publicUrl?: string;
  /** one write, retries included (default 15 s) */
  timeoutMs?: number;
}

export interface NodeConfig {
  /** -broadcaster was used (deprecated alias of -gateway) */
  deprecatedBroadcasterFlag: boolean;
  network: Network;
  ethUrls: string[];
  keystorePath: string;
  ethAcctAddr?: string;
  /** literal or path; resolved when the keystore is opened. Never logged. */
  ethPassword: string;
  datadir: string;
  /** -apiKeys, -trustedProxies, -anonymousRequestsPerMinute (docs: README "Running as a managed provider") */
  apiKeys: { mode: 'off' | 'optional' | 'required'; trustedProxies: string; anonymousRequestsPerMinute: number };
  /** -storeUrl: PostgreSQL for shared state; absent = Level in datadir. Holds a password: never logged. */
  storeUrl?: string;
  /** -objectStore and -objectStorePublicUrl: live HLS and AI outputs copied to an S3 store. The URL holds credentials: never logged. */
  objectStore?: ObjectStoreConfig;
  /** -recordStore: whole streams kept in an S3 store. The URL holds credentials: never logged. */
  recordStore?: ObjectStoreConfig;
  rtmpAddr: ListenAddr;
  httpAddr: ListenAddr;
  cliAddr: ListenAddr;
  /** -cliToken: literal or path of a file holding it; resolved at start. A secret: never logged. */
  cliToken?: string;
  httpIngest: boolean;
  /** -httpIngestMaxBytes: largest push segment body */
  httpIngestMaxBytes: number;
  /** -hlsMaxBytesPerStream: segment bytes kept for HLS playback per stream (oldest dropped beyond it) */
  hlsMaxBytesPerStream: number;
  /** -httpIngestMaxConcurrent: push requests handled at once */
  httpIngestMaxConcurrent: number;
  /** why HTTP ingest was turned off, if it was */
  httpIngestNote?: string;
  orchAddr: string[];
  orchWebhookUrl?: string;
  orchBlocklist: Address[];
  /** -renditionHosts: hosts renditions may come from besides each orchestrator's own origin */
  renditionHosts: string[];
  orchMinLivepeerVersion?: string;
  authWebhookUrl?: string;
  /** -eventsWebhookUrl and its -eventsWebhookSecret (never logged) */
  eventsWebhook?: { url: string; secret?: string };
  profiles: VideoProfile[];
  transcodingOptions: string;
  maxSessions: number;
  maxAttempts: number;
  discoveryTimeoutMs: number;
  /** -maxPricePerUnit / -pixelsPerUnit, in wei or USD (see pm/maxPrice.ts) */
  maxPrice: MaxPriceSpec;
  /** -priceFeedAddr: ETH/USD feed for USD prices */
  priceFeedAddr: Address;
  /** -priceFeedMaxAge: a feed answer older than this does not convert USD spend caps */
  priceFeedMaxAgeMs: number;
  ignoreMaxPriceIfNeeded: boolean;
  limits: PaymentLimits;
  weights: SelectionWeights;
  maxGasPrice: bigint;
  transactionTimeoutMs: number;
  blockPollingIntervalMs: number;
  /** -localVerify: check result signatures and billed pixels */
  localVerify: boolean;
  /** -localVerifyDecodeFraction: share of verified segments also fully decoded (0–1) */
  localVerifyDecodeFraction: number;
  currentManifest: boolean;
  monitor: boolean;
  verbosity: number;
  /** -logFormat: text, json, or auto (text on a terminal) */
  logFormat: 'auto' | 'json' | 'text';
  ai: AiNodeConfig;
  /** signer mode (-remoteSigner); absent = a gateway */
  remoteSigner?: RemoteSignerConfig;
  /** a keyless gateway (-remoteSignerUrl) */
  remoteSignerClient?: RemoteSignerClientConfig;
  /** flags given that a gateway ignores (orchestrator-only) */
  ignoredFlags: string[];
}
