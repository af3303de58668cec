// An RTMP stream's segments: the segmenter reads the stream as FLV piped in-process (or, from an ingest
// without that, plays it back over local RTMP) and cuts ~2 s MPEG-TS segments; each goes to the stream's
// runner with the size its publisher announced. When the segmenter ends (the publisher left) or fails (no
// keyframes, stalled, cannot keep up), the stream ends, unless a new publisher took the stream over
// meanwhile: then a new segmenter follows it, sequence numbers go on where they were, and its first
// segment starts a discontinuity.
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

export function pumpRtmpStream(live: LiveStream, first: RtmpSource, streams: StreamLifecycle, log: Logger): void {
  const { manifestId } = live;
  void (async () => {
    let source = first;
    let nextSeq = 0;
    let newPublisher = false;
    for (;;) {
      const flv = flvInput(source, () => streams.fail(live, `the segmenter fell ${MAX_PENDING_FLV_BYTES >> 20} MiB behind the stream`));
      const segmenter = startSegmenter({
        inputUrl: source.playbackUrl,
        ...(flv ? { input: flv.input } : {}),
        log: log.child({ component: 'segmenter', manifestId }),
      });
      live.segmenter = segmenter;
      void segmenter.done.finally(() => flv?.leave()).catch(() => {});
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
