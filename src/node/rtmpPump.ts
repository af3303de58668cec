// An RTMP stream's segments: the segmenter is fed the stream's FLV tags in-process (or, from an ingest
// without that, plays it back over local RTMP) and cuts ~2 s MPEG-TS segments; each goes to the stream's
// runner with the size its publisher announced. When the segmenter ends (the publisher left) or fails (no
// keyframes, stalled, cannot keep up), the stream ends, unless a new publisher took the stream over
// meanwhile: then a new segmenter follows it, sequence numbers go on where they were, and its first
// segment starts a discontinuity.
import type { RtmpSource } from '../ingest/streamRegistry.ts';
import { errorMessage } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { startFlvSegmenter } from '../media/flvSegmenter.ts';
import { redactStreamKey, type Segmenter, startSegmenter } from '../media/segmenter.ts';
import type { LiveStream, StreamLifecycle } from './streams.ts';

/**
 * The segmenter of one publisher's stream: fed its FLV tags in-process as they arrive, or, from an ingest
 * that only offers RTMP playback, an ffmpeg reading that.
 */
function segmenterFor(source: RtmpSource, log: Logger): { segmenter: Segmenter; leave(): void } {
  if (!source.playFlv) return { segmenter: startSegmenter({ inputUrl: source.playbackUrl, log }), leave: () => {} };
  const segmenter = startFlvSegmenter({ name: redactStreamKey(source.playbackUrl), log });
  const player = source.playFlv({
    send: (tag) => segmenter.write(tag, performance.now()),
    close: () => segmenter.end(),
  });
  return { segmenter, leave: () => player.leave() };
}

export function pumpRtmpStream(live: LiveStream, first: RtmpSource, streams: StreamLifecycle, log: Logger): void {
  const { manifestId } = live;
  void (async () => {
    let source = first;
    let nextSeq = 0;
    let newPublisher = false;
    for (;;) {
      const { segmenter, leave } = segmenterFor(source, log.child({ component: 'segmenter', manifestId }));
      live.segmenter = segmenter;
      void segmenter.done.finally(leave).catch(() => {});
      let failure: unknown;
      try {
        for await (const seg of segmenter.segments) {
          const cutAt = performance.now();
          const md = source.metadata();
          void live.runner.push(nextSeq, seg.data, seg.durationMs, {
            ...(md.width > 0 ? { resolution: { width: md.width, height: md.height } } : {}),
            // the new encoder may differ: players and the orchestrator start afresh
            ...(newPublisher ? { discontinuity: true, forceSessionReinit: true } : {}),
            ...(seg.closedAt !== undefined ? { closedAt: seg.closedAt } : {}),
            ...(seg.shape ? { shape: seg.shape } : {}),
            ...(seg.hash ? { hash: seg.hash } : {}),
          });
          if (seg.closedAt !== undefined && log.isLevelEnabled('debug')) {
            const ms = (a: number, b: number) => Math.round((b - a) * 10) / 10;
            const inPlaylist = performance.now();
            log.debug(
              {
                manifestId,
                seq: nextSeq,
                // the stages from the frame that closed the segment to the segment in the playlist, ms
                cutMs: ms(seg.closedAt, seg.listedAt),
                handOverMs: ms(seg.listedAt, cutAt),
                toPlaylistMs: ms(cutAt, inPlaylist),
                totalMs: ms(seg.closedAt, inPlaylist),
              },
              'source segment timing',
            );
          }
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
