// Prometheus metrics under go-livepeer's names (livepeer_*), served on <cliAddr>/metrics with -monitor.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type GatewayMetrics = ReturnType<typeof createMetrics>;

export function createMetrics(nodeId: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ node_type: 'bctr', node_id: nodeId });
  collectDefaultMetrics({ register: registry });
  const counter = (name: string, help: string, labelNames: string[] = []) => new Counter({ name: `livepeer_${name}`, help, labelNames, registers: [registry] });
  const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name: `livepeer_${name}`, help, labelNames, registers: [registry] });
  // Sizes read at scrape time (nothing to keep in step): what the node holds per stream, session and peer.
  const trackedSizes = new Map<string, () => number>();
  let hlsBytes = () => 0;
  return {
    registry,
    trackedEntries: new Gauge({
      name: 'livepeer_gateway_tracked_entries',
      help: 'Entries held in a per-stream, per-session or per-peer map (should fall back once streams end)',
      labelNames: ['map'],
      registers: [registry],
      collect() {
        for (const [map, size] of trackedSizes) this.set({ map }, size());
      },
    }),
    /** Reports `size()` as livepeer_gateway_tracked_entries{map} at every scrape. */
    trackEntries(map: string, size: () => number): void {
      trackedSizes.set(map, size);
    },
    hlsBytes: new Gauge({
      name: 'livepeer_gateway_hls_bytes',
      help: 'Segment bytes held for HLS playback, all streams (each stream is capped by -hlsMaxBytesPerStream)',
      registers: [registry],
      collect() {
        this.set(hlsBytes());
      },
    }),
    /** Where livepeer_gateway_hls_bytes is read from at every scrape. */
    trackHlsBytes(bytes: () => number): void {
      hlsBytes = bytes;
    },
    currentSessions: gauge('current_sessions_total', 'Streams being ingested now'),
    maxSessions: gauge('max_sessions_total', 'Most concurrent streams allowed (-maxSessions)'),
    streamCreated: counter('stream_created_total', 'Streams accepted'),
    streamStarted: counter('stream_started_total', 'Streams that produced a first segment'),
    streamEnded: counter('stream_ended_total', 'Streams ended'),
    sourceAppeared: counter('segment_source_appeared_total', 'Source segments cut from ingest'),
    sourceUploaded: counter('segment_source_uploaded_total', 'Source segments uploaded to an orchestrator'),
    uploadFailed: counter('segment_source_upload_failed_total', 'Segment uploads that failed', ['error_code', 'orchestrator_uri']),
    transcoded: counter('segment_transcoded_total', 'Segments transcoded'),
    transcodeFailed: counter('segment_transcode_failed_total', 'Segments that could not be transcoded', ['error_code']),
    transcodeRetried: counter('transcode_retried', 'Segment attempts retried on another orchestrator'),
    orchestratorSwaps: counter('orchestrator_swaps', 'Streams moved to another orchestrator'),
    discoveryErrors: counter('discovery_errors_total', 'Orchestrators that failed GetOrchestrator or were refused'),
    overallLatency: new Histogram({
      name: 'livepeer_transcode_overall_latency_seconds',
      help: 'From source segment to all renditions downloaded',
      buckets: [0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 8, 12],
      registers: [registry],
    }),
    segmentOverhead: new Histogram({
      name: 'livepeer_segment_overhead_seconds',
      help: "From a source segment's transcode slot to its upload starting (shape check, hashing, session, tickets, signatures)",
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    segmentQueued: new Histogram({
      name: 'livepeer_segment_queued_seconds',
      help: "From a source segment's bytes in hand to a transcode slot (earlier segments of the stream still at the orchestrator)",
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 2, 4, 8],
      registers: [registry],
    }),
    sourceLatency: new Histogram({
      name: 'livepeer_source_segment_latency_seconds',
      help: 'From the RTMP message of the keyframe that closed a source segment to the segment in the source playlist',
      buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    renditionBeyondOrchestrator: new Histogram({
      name: 'livepeer_rendition_latency_beyond_orchestrator_seconds',
      help: "From the keyframe that closed a source segment (HTTP push: its bytes in hand) to its renditions in the playlists, less the orchestrator's time (upload start → renditions downloaded)",
      buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    ticketsSent: counter('tickets_sent', 'Tickets sent to orchestrators'),
    ticketValueSent: counter('ticket_value_sent', 'Expected value of the tickets sent (gwei)'),
    paidFailures: counter('paid_failures_total', 'Attempts that took payment and returned no usable renditions', ['orchestrator_uri']),
    ticketValueLost: counter('ticket_value_lost', 'Expected value of tickets paid for attempts that returned no usable renditions (gwei)', [
      'orchestrator_uri',
    ]),
    paymentCreateErrors: counter('payment_create_errors', 'Payments that could not be created'),
    deposit: gauge('gateway_deposit', 'TicketBroker deposit (gwei)', ['sender']),
    reserve: gauge('gateway_reserve', 'TicketBroker reserve (gwei)', ['sender']),
    transcodingPrice: gauge('transcoding_price', 'Max price per pixel accepted (wei)'),
  };
}
