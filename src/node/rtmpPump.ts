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
import { KeyframeClock } from './keyframeClock.ts';
import type { LiveStream, StreamLifecycle } from './streams.ts';

/** FLV bytes the segmenter has not taken yet; past this it is not keeping up and the stream fails. */
const MAX_PENDING_FLV_BYTES = 64 << 20;

/**
 * The stream's FLV piped to the segmenter; undefined when the ingest only offers RTMP playback. The tags of
 * one read from the publisher's socket (it often holds several packets) go to ffmpeg in one write, at the
 * end of that read's processing (process.nextTick), not a turn of the event loop later: on a busy machine a
 * turn can take tens of ms, and the keyframe that closes a segment would wait for it.
 */
function flvInput(source: RtmpSource, onOverflow: () => void): { input: PassThrough; clock: KeyframeClock; leave(): void } | undefined {
  if (!source.playFlv) return undefined;
  const input = new PassThrough();
  const clock = new KeyframeClock();
  let pending: Buffer[] = [];
  let overflowed = false;
  const flush = (): void => {
    const chunk = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
    pending = [];
    if (!input.writableEnded) input.write(chunk);
    clock.onWrite(performance.now());
  };
  const player = source.playFlv({
    send: (bytes) => {
      if (input.writableEnded || overflowed) return;
      if (input.writableLength > MAX_PENDING_FLV_BYTES) {
        overflowed = true;
        onOverflow();
        return;
      }
      clock.onTag(bytes, performance.now());
      if (pending.push(bytes) === 1) process.nextTick(flush);
    },
    close: () => {
      if (pending.length > 0) flush();
      input.end();
    },
  });
  return { input, clock, leave: () => player.leave() };
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
          const cutAt = performance.now();
          const md = source.metadata();
          const closing = flv?.clock.closing(seg.endMs);
          void live.runner.push(nextSeq, seg.data, seg.durationMs, {
            ...(md.width > 0 ? { resolution: { width: md.width, height: md.height } } : {}),
            // the new encoder may differ: players and the orchestrator start afresh
            ...(newPublisher ? { discontinuity: true, forceSessionReinit: true } : {}),
            ...(closing ? { closedAt: closing.receivedAt } : {}),
          });
          if (closing && log.isLevelEnabled('debug')) {
            const ms = (a: number, b: number | undefined) => (b === undefined ? undefined : Math.round((b - a) * 10) / 10);
            const inPlaylist = performance.now();
            log.debug(
              {
                manifestId,
                seq: nextSeq,
                // the stages from the frame that closed the segment to the segment in the playlist, ms
                ingestToStdinMs: ms(closing.receivedAt, closing.writtenAt),
                stdinToListedMs: ms(closing.writtenAt ?? closing.receivedAt, seg.listedAt),
                listedToReadMs: ms(seg.listedAt, cutAt),
                readToPlaylistMs: ms(cutAt, inPlaylist),
                totalMs: ms(closing.receivedAt, inPlaylist),
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
