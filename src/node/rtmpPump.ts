// An RTMP stream's segments: the segmenter reads the stream as FLV piped in-process (or, from an ingest
// without that, plays it back over local RTMP) and cuts ~2 s MPEG-TS segments; each goes to the stream's
// runner with the size its publisher announced. When the segmenter ends (the publisher left) or fails (no
// keyframes, stalled, cannot keep up), the stream ends.
import { PassThrough } from 'node:stream';
import type { RtmpSource } from '../ingest/streamRegistry.ts';
import { errorMessage } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { startSegmenter } from '../media/segmenter.ts';
import type { LiveStream, StreamLifecycle } from './streams.ts';

/** FLV bytes the segmenter has not taken yet; past this it is not keeping up and the stream fails. */
const MAX_PENDING_FLV_BYTES = 64 << 20;

/**
 * The stream's FLV piped to the segmenter; undefined when the ingest only offers RTMP playback. Tags of
 * one tick go to ffmpeg in one write (a publisher's TCP read holds several packets).
 */
function flvInput(source: RtmpSource, onOverflow: () => void): { input: PassThrough; leave(): void } | undefined {
  if (!source.playFlv) return undefined;
  const input = new PassThrough();
  let pending: Buffer[] = [];
  let overflowed = false;
  const flush = (): void => {
    const chunk = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
    pending = [];
    if (!input.writableEnded) input.write(chunk);
  };
  const player = source.playFlv({
    send: (bytes) => {
      if (input.writableEnded || overflowed) return;
      if (input.writableLength > MAX_PENDING_FLV_BYTES) {
        overflowed = true;
        onOverflow();
        return;
      }
      if (pending.push(bytes) === 1) setImmediate(flush);
    },
    close: () => {
      if (pending.length > 0) flush();
      input.end();
    },
  });
  return { input, leave: () => player.leave() };
}

export function pumpRtmpStream(live: LiveStream, source: RtmpSource, streams: StreamLifecycle, log: Logger): void {
  const { manifestId } = live;
  const flv = flvInput(source, () => streams.fail(live, `the segmenter fell ${MAX_PENDING_FLV_BYTES >> 20} MiB behind the stream`));
  const segmenter = startSegmenter({
    inputUrl: source.playbackUrl,
    ...(flv ? { input: flv.input } : {}),
    log: log.child({ component: 'segmenter', manifestId }),
  });
  live.segmenter = segmenter;
  void segmenter.done.finally(() => flv?.leave()).catch(() => {});
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
