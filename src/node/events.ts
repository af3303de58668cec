// What the gateway tells the world as it works: stream lifecycle, segments, payments, orchestrator
// changes. The library API, the events webhook, the dashboard and /events all read this one feed.
// Money is decimal wei strings here, so a payload is plain JSON.
import { TypedEmitter } from '../lib/typedEmitter.ts';

export interface GatewayEvents {
  'stream.started': { manifestId: string; ingest: 'rtmp' | 'push'; profiles: string[]; externalStreamId?: string; sessionId?: string };
  'stream.ended': { manifestId: string; reason: string };
  'stream.error': { manifestId: string; error: string };
  'segment.transcoded': { manifestId: string; seq: number; orchestrator: string; attempts: number; latencyMs: number; renditions: string[] };
  'segment.failed': { manifestId: string; seq: number; error: string; failure: string };
  /**
   * Tickets left this process for one attempt (sent, whatever the answer): `evWei` is their expected value
   * together (rounded down to whole wei), `faceValueWei` what each one pays if it wins.
   */
  'payment.sent': { manifestId: string; seq: number; orchestrator: string; tickets: number; evWei: string; faceValueWei: string };
  /** A stream's renditions now come from another orchestrator (a discontinuity in its playlists). */
  'orchestrator.swapped': { manifestId: string; from: string; to: string };
  'orchestrator.suspended': { orchestrator: string; reason: string; manifestId?: string };
  /** An orchestrator was not used because of its ticket params (missing, malformed, or outside our limits). */
  'ticket.refused': { orchestrator: string; reason: string; manifestId?: string };
  'deposit.low': { depositWei: string; reserveWei: string; runwaySeconds?: number };
}

export type GatewayEventName = keyof GatewayEvents & string;

/** The gateway's event feed. */
export class GatewayEventBus extends TypedEmitter<GatewayEvents> {}
