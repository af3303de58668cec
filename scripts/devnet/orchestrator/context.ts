// What the RPCs and routes of one orchestrator share. startOrchestrator builds it once; each handler
// module takes the context and uses only the parts it needs.
import type { Address } from 'viem';
import type { Logger } from '../../../src/lib/log.ts';
import type { Rat } from '../../../src/lib/rat.ts';
import type { Signer } from '../../../src/pm/signer.ts';
import type { Capabilities, VideoProfileMsg } from '../../../src/wire/lpRpc.ts';
import type { AuthTokens } from './authToken.ts';
import type { CapabilityProvider } from './capabilities.ts';
import type { FaultSwitches } from './faults.ts';
import type { PaymentDesk } from './paymentDesk.ts';
import type { Accounts } from './payments.ts';
import type { Recipient } from './recipient.ts';
import type { RenditionStore } from './renditionStore.ts';
import type { TranscodeSessions } from './sessions.ts';
import type { OrchestratorStats } from './stats.ts';
import type { Rendition } from './transcode.ts';

export interface OrchestratorContext {
  log: Logger;
  /** The orchestrator's account (the zero address off-chain without a key). */
  address: Address;
  /** Checks signatures and hands out ticket params only on-chain. */
  onChain: boolean;
  /** Signs pings and results; absent off-chain. */
  signer: Signer | undefined;
  /** https://host:port, once the port is open. */
  uri(): string;
  /** The configured price (wei per pixel), before any session pins its own. */
  basePrice: Rat;
  tokens: AuthTokens;
  capabilities: CapabilityProvider;
  /** Absent off-chain. */
  recipient: Recipient | undefined;
  accounts: Accounts;
  payments: PaymentDesk;
  sessions: TranscodeSessions;
  renditions: RenditionStore;
  stats: OrchestratorStats;
  faults: FaultSwitches;
  /** The price of a non-video job (AI) the GetOrchestrator capabilities ask about; undefined = video. */
  jobPrice?: (request: Capabilities | undefined) => Rat | undefined;
  /** Aborted when the orchestrator stops: running jobs give up. */
  shutdown: AbortSignal;
  /** The load mode: renditions do not depend on the segment, whose bytes are read and dropped unhashed. */
  segmentBytesUnused: boolean;
  /** Renditions of one segment: ffmpeg per segment, or the load mode's pre-encoded ones (loadMode.ts). */
  transcode(body: Buffer, profiles: VideoProfileMsg[], durationMs: number): Promise<Rendition[]>;
}
