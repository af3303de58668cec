// An RTMP stream's segments: the segmenter plays the stream back over local RTMP and cuts ~2 s MPEG-TS
// segments; each goes to the stream's runner with the size its publisher announced. When the segmenter
// ends (the publisher left) or fails (no keyframes, stalled), the stream ends.
import type { RtmpSource } from '../ingest/streamRegistry.ts';
import { errorMessage } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { startSegmenter } from '../media/segmenter.ts';
import type { LiveStream, StreamLifecycle } from './streams.ts';

export function pumpRtmpStream(live: LiveStream, source: RtmpSource, streams: StreamLifecycle, log: Logger): void {
  const { manifestId } = live;
  const segmenter = startSegmenter({ inputUrl: source.playbackUrl, log: log.child({ component: 'segmenter', manifestId }) });
  live.segmenter = segmenter;
  void (async () => {
    try {
      for await (const seg of segmenter.segments) {
        const md = source.metadata();
        void live.runner.push(seg.seq, seg.data, seg.durationMs, md.width > 0 ? { resolution: { width: md.width, height: md.height } } : {});
      }
    } catch (err) {
      log.warn({ manifestId, err: errorMessage(err) }, 'segmenter stopped');
      streams.fail(live, errorMessage(err));
      return;
    }
    streams.end(live, 'publisher ended the stream');
  })();
}
