// Run as its own process by segmentShutdown.test.ts: one segment to the orchestrator at argv[2] (its
// answer does not matter), then the pooled connections are closed. Nothing else keeps this process
// alive, so it ends with code 0 only if closing holds the process until the connections are gone
// (an unsettled top-level await ends it with 13).
import { closeSegmentConnections, submitSegment } from '../../src/net/segment.ts';

const uri = process.argv[2]!;
const idleMs = Number(process.argv[3] ?? 0);
await submitSegment({
  transcoderUri: uri,
  segData: { manifestId: Buffer.from('x'), seq: 0n },
  payment: undefined,
  body: Buffer.alloc(1000),
  durationMs: 2000,
}).catch(() => {});
// the connection idles a moment, as it does between a stream's last segment and shutdown
if (idleMs > 0) await new Promise((r) => setTimeout(r, idleMs));
await closeSegmentConnections();
process.stdout.write('closed\n');
