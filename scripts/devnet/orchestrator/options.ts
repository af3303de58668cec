// startOrchestrator's options, their defaults, and the checks that refuse a configuration that
// cannot work, with what to change.
import type { Hex } from 'viem';
import { GatewayError } from '../../../src/lib/errors.ts';
import type { Logger } from '../../../src/lib/log.ts';
import { rat, type Rat } from '../../../src/lib/rat.ts';
import type { AiWorkerOptions } from './ai/config.ts';
import type { OrchestratorContracts } from './chainView.ts';
import type { OrchestratorFaults } from './faults.ts';

export interface OrchestratorOptions {
  host?: string;
  /** 0 (default) = a free port */
  port?: number;
  /** Required on-chain: the orchestrator's account (recipient of tickets, signer of results). */
  privateKey?: Hex;
  rpcUrl?: string;
  /** Absent ⇒ off-chain orchestrator: no tickets, no price. */
  contracts?: OrchestratorContracts;
  /** wei per pixelsPerUnit pixels (default 1) */
  pricePerUnit?: bigint;
  pixelsPerUnit?: bigint;
  /** -ticketEV, wei (default 8 000 000 000) */
  ticketEV?: bigint;
  /** -maxFaceValue, wei (default: no cap) */
  maxFaceValue?: bigint;
  /** Gas a redemption is assumed to cost (default 1 200 000, Arbitrum) */
  redeemGas?: bigint;
  /** Concurrent transcoding sessions (default 10, go-livepeer -maxSessions) */
  maxSessions?: number;
  /** Initialize the round when a redemption finds it uninitialized. */
  initializeRounds?: boolean;
  faults?: OrchestratorFaults;
  /** Version advertised in capabilities. */
  version?: string;
  logger?: Logger;
  /** When no logger is given (default info, to stdout). */
  logLevel?: string;
  /** What dieAfter does; default: stop the server. */
  onDie?: () => void;
  /** AI pipelines and models to serve (see ai/config.ts); absent = transcoding only. */
  ai?: AiWorkerOptions;
  /** 'prerendered': the load mode (loadMode.ts), renditions encoded once per profile and segment length; default 'ffmpeg' per segment. */
  transcoding?: 'ffmpeg' | 'prerendered';
  /** The load mode's renditions are also kept in this directory and read from it after a restart. */
  loadModeCacheDir?: string;
  /** Append every ticket read from a payment to this file as a JSON line (ticketLog.ts); for benches. */
  ticketLog?: string;
}

export const DEFAULT_TICKET_EV = 8_000_000_000n;
export const DEFAULT_MAX_SESSIONS = 10;
export const ORCHESTRATOR_VERSION = '0.9.1';

/** A configuration the orchestrator cannot run with. */
export class OrchestratorConfigError extends GatewayError {}

/** The on-chain part of the configuration, present only with contracts. */
export interface ChainSettings {
  privateKey: Hex;
  rpcUrl: string;
  contracts: OrchestratorContracts;
}

export interface Settings {
  host: string;
  port: number;
  faults: OrchestratorFaults;
  chain: ChainSettings | undefined;
  ticketEV: bigint;
  /** -maxFaceValue, wei; undefined = no cap */
  maxFaceValue: bigint | undefined;
  /** undefined = Arbitrum's redemption gas */
  redeemGas: bigint | undefined;
  initializeRounds: boolean;
  maxSessions: number;
  /** The quoted price: the price override fault, else the configured one (wei per pixel). */
  price: { pricePerUnit: bigint; pixelsPerUnit: bigint };
  basePrice: Rat;
  version: string;
  transcoding: 'ffmpeg' | 'prerendered';
  ticketLog: string | undefined;
  loadModeCacheDir: string | undefined;
}

export function resolveOptions(opts: OrchestratorOptions): Settings {
  const faults = opts.faults ?? {};
  let chain: ChainSettings | undefined;
  if (opts.contracts) {
    if (!opts.privateKey) {
      throw new OrchestratorConfigError('an on-chain orchestrator needs its private key (privateKey; CLI: ORCH_PRIVATE_KEY or --private-key-file)');
    }
    if (!opts.rpcUrl) throw new OrchestratorConfigError('an on-chain orchestrator needs the chain RPC URL (--rpc-url)');
    chain = { privateKey: opts.privateKey, rpcUrl: opts.rpcUrl, contracts: opts.contracts };
  }
  const ticketEV = opts.ticketEV ?? DEFAULT_TICKET_EV;
  if (ticketEV <= 0n) throw new OrchestratorConfigError('ticketEV must be > 0');
  const price = faults.priceOverride ?? { pricePerUnit: opts.pricePerUnit ?? 1n, pixelsPerUnit: opts.pixelsPerUnit ?? 1n };
  if (price.pixelsPerUnit <= 0n || price.pricePerUnit < 0n) throw new OrchestratorConfigError('the price needs pixelsPerUnit > 0 and pricePerUnit ≥ 0');
  return {
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    faults,
    chain,
    ticketEV,
    maxFaceValue: opts.maxFaceValue,
    redeemGas: opts.redeemGas,
    initializeRounds: opts.initializeRounds ?? false,
    maxSessions: opts.maxSessions ?? DEFAULT_MAX_SESSIONS,
    price,
    basePrice: rat(price.pricePerUnit, price.pixelsPerUnit),
    version: opts.version ?? ORCHESTRATOR_VERSION,
    transcoding: opts.transcoding ?? 'ffmpeg',
    ticketLog: opts.ticketLog,
    loadModeCacheDir: opts.loadModeCacheDir,
  };
}
