// An RTMP stream's segments: the segmenter plays the stream back over local RTMP and cuts ~2 s MPEG-TS
// segments; each goes to the stream's runner with the size its publisher announced. When the segmenter
// ends (the publisher left) or fails (no keyframes, stalled), the stream ends, unless a new publisher took
// the stream over meanwhile: then a new segmenter follows it, sequence numbers go on where they were,
// and its first segment starts a discontinuity.
import type { RtmpSource } from '../ingest/streamRegistry.ts';
import { errorMessage } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { startSegmenter } from '../media/segmenter.ts';
import type { LiveStream, StreamLifecycle } from './streams.ts';

export function pumpRtmpStream(live: LiveStream, first: RtmpSource, streams: StreamLifecycle, log: Logger): void {
  const { manifestId } = live;
  void (async () => {
    let source = first;
    let nextSeq = 0;
    let newPublisher = false;
    for (;;) {
      const segmenter = startSegmenter({ inputUrl: source.playbackUrl, log: log.child({ component: 'segmenter', manifestId }) });
      live.segmenter = segmenter;
      let failure: unknown;
      try {
        for await (const seg of segmenter.segments) {
          const md = source.metadata();
          void live.runner.push(nextSeq, seg.data, seg.durationMs, {
            ...(md.width > 0 ? { resolution: { width: md.width, height: md.height } } : {}),
            // the new encoder may differ: players and the orchestrator start afresh
            ...(newPublisher ? { discontinuity: true, forceSessionReinit: true } : {}),
          });
          nextSeq += 1;
          newPublisher = false;
        }
      } catch (err) {
        failure = err;
      }
      const next = live.takenOver;
      if (next && streams.get(manifestId) === live) {
        // the old publisher's stream ended (or broke off) because it was replaced: follow the new one
        live.takenOver = undefined;
        source = next;
        newPublisher = true;
        continue;
      }
      if (failure !== undefined) {
        log.warn({ manifestId, err: errorMessage(failure) }, 'segmenter stopped');
        streams.fail(live, errorMessage(failure));
        return;
      }
      streams.end(live, 'publisher ended the stream');
      return;
    }
  })();
}
