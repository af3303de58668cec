// An HTTP push segment through its stream's runner, and the outcome as the push answer go-livepeer
// gives: the renditions (200), 503 when no orchestrator could take it, 422 for input no orchestrator
// can transcode, 500 otherwise.
import type { PushRendition, PushSegment } from '../ingest/push.ts';
import { HttpError } from '../lib/errors.ts';
import type { SegmentOutcome } from './stream.ts';
import type { LiveStream, StreamContext } from './streams.ts';

export async function transcodePushSegment(live: LiveStream | undefined, seg: PushSegment<StreamContext>): Promise<PushRendition[]> {
  if (!live) throw new HttpError(500, 'stream ended', { code: 'STREAM_ENDED' });
  const outcome = await live.runner.push(seg.seq, seg.data, seg.durationMs, {
    resolution: seg.resolution,
    format: seg.format,
    ...(seg.forceSessionReinit ? { forceSessionReinit: true } : {}),
    ...(seg.clip ? { clip: seg.clip } : {}),
  });
  return pushAnswer(outcome, seg);
}

/** Renditions in profile order, or the HttpError that answers a segment that was not transcoded. */
export function pushAnswer(outcome: SegmentOutcome | undefined, seg: Pick<PushSegment<unknown>, 'format'>): PushRendition[] {
  if (!outcome) return []; // no profiles, or the stream is ending: nothing to do
  if (outcome.transcoded) return (outcome.renditions ?? []).map((r) => ({ name: r.name, format: seg.format, data: r.data }));
  switch (outcome.failure) {
    case 'none':
      throw new HttpError(503, 'No sessions available', { code: 'NO_SESSIONS' });
    case 'backlog':
      throw new HttpError(503, outcome.error ?? 'transcoding backlog full; retry', { code: 'BACKLOG' });
    case 'input':
      throw new HttpError(422, outcome.error ?? 'input cannot be transcoded', { code: 'BAD_INPUT' });
    case 'spend-cap':
      throw new HttpError(402, outcome.error ?? 'spend cap reached', { code: 'SPEND_CAP_REACHED' });
    default:
      throw new HttpError(500, outcome.error ?? 'transcoding failed', { code: 'TRANSCODE_FAILED' });
  }
}
