// POST /segment: check the credentials, take the payment while reading the segment, transcode it in its
// session and answer with a TranscodeResult (renditions or an error) and fresh OrchestratorInfo.
// Refusals come before the 200, as plain text with go-livepeer's status codes.
import { errorMessage, HttpError } from '../../../src/lib/errors.ts';
import { ratToDecimal } from '../../../src/lib/rat.ts';
import { encodeMessage, type OrchestratorInfo, type TranscodeResult } from '../../../src/wire/lpRpc.ts';
import type { OrchestratorContext } from './context.ts';
import { orchestratorInfo } from './orchestratorInfo.ts';
import type { LogFields } from './paymentDesk.ts';
import { sendPlainText, type RouteRequest, type RouteResponse, type Route } from './router.ts';
import { drainSegment, readSegment } from './segmentBody.ts';
import { checkSegmentCredentials, type SegmentCredentials } from './segmentCredentials.ts';
import { publishRenditions, signRenditions } from './transcodeResult.ts';
import { TranscodeError, transcodeSegment } from './transcode.ts';

export function segmentRoute(ctx: OrchestratorContext): Route {
  return { methods: ['POST'], path: '/segment', handle: (req, res) => handleSegment(ctx, req, res) };
}

async function handleSegment(ctx: OrchestratorContext, req: RouteRequest, res: RouteResponse): Promise<void> {
  const started = Date.now();
  const entry: LogFields = { event: 'segment' };
  let renditionPaths: string[] = [];
  try {
    renditionPaths = await serveSegment(ctx, req, res, entry);
  } catch (err) {
    const refusal = err instanceof HttpError ? err : new HttpError(500, 'Internal Server Error');
    if (!(err instanceof HttpError)) ctx.log.error({ err: errorMessage(err) }, 'unexpected /segment failure');
    Object.assign(entry, { status: refusal.status, error: refusal.message });
    req.resume();
    sendPlainText(res, refusal.status, refusal.message);
  } finally {
    entry.ms = Date.now() - started;
    ctx.log.info(entry, 'segment');
    ctx.faults.segmentAnswered(renditionPaths);
  }
}

/** The accepted path; returns the rendition paths the broadcaster will fetch. */
async function serveSegment(ctx: OrchestratorContext, req: RouteRequest, res: RouteResponse, entry: LogFields): Promise<string[]> {
  const job = checkSegmentCredentials(ctx, req);
  const { payment, seg, sender, sessionId } = job;
  ctx.stats.segmentsReceived++;
  Object.assign(entry, { sessionId, seq: String(seg.seq ?? 0n), sender, profiles: job.profiles.length, durationMs: seg.duration ?? 0 });
  // The body is taken while the payment is checked, as go-livepeer's orchestrator (whose checks are in
  // memory) takes it at once: an unread body holds its share of the connection's flow-control window, and
  // every other upload on that connection stalls behind it. A refusal below still answers first.
  const reading = ctx.segmentBytesUnused ? drainSegment(req) : readSegment(req, seg.hash, ctx.log);
  reading.catch(() => {});
  // where the time before the headers went, in the log line: a late answer is timed out by the broadcaster
  const t0 = Date.now();
  const info = await infoForResult(ctx, job);
  const t1 = Date.now();
  await ctx.payments.accept(payment, sessionId, entry);
  ctx.payments.requireBalance(sender, sessionId, payment.expectedPrice);
  const t2 = Date.now();
  const body = await reading;
  Object.assign(entry, { infoMs: t1 - t0, paymentMs: t2 - t1, readMs: Date.now() - t2 });

  await ctx.faults.stall();
  if (res.destroyed) return [];
  // Upload accepted: headers go out now, the result follows in the body.
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  // HTTP/2 sends headers on writeHead; an HTTP/1.1 response needs an explicit flush.
  (res as unknown as { flushHeaders?: () => void }).flushHeaders?.();

  const garbage = ctx.faults.malformedBody();
  if (garbage) {
    res.end(garbage);
    entry.status = 'malformed-response';
    return [];
  }
  const { result, paths } = await transcodeForResult(ctx, job, body, info, entry);
  const extra = result.data ? ctx.faults.extraRenditionBytes() : undefined;
  const encoded = Buffer.from(encodeMessage('TranscodeResult', result));
  if (!res.destroyed) res.end(extra ? Buffer.concat([encoded, extra]) : encoded);
  return paths;
}

async function infoForResult(ctx: OrchestratorContext, job: SegmentCredentials): Promise<OrchestratorInfo> {
  try {
    return await orchestratorInfo(ctx, job.sender, job.authToken, job.sessionId);
  } catch (err) {
    ctx.log.error({ err: errorMessage(err) }, 'could not build orchestrator info');
    throw new HttpError(500, 'Internal Server Error', { cause: err });
  }
}

/** Transcodes in the job's session; a failure becomes TranscodeResult.error, never a refusal. */
async function transcodeForResult(
  ctx: OrchestratorContext,
  job: SegmentCredentials,
  body: Buffer,
  info: OrchestratorInfo,
  entry: LogFields,
): Promise<{ result: TranscodeResult; paths: string[] }> {
  const { seg, sessionId, profiles, sender } = job;
  const session = ctx.sessions.touch(sessionId);
  const result: TranscodeResult = { seq: seg.seq ?? 0n, info };
  let paths: string[] = [];
  try {
    const failure = ctx.faults.nextTranscodeFailure();
    if (failure) throw new TranscodeError(failure);
    const t0 = Date.now();
    const size = ctx.faults.config.renditionSize;
    const renditions = await ctx.sessions.run(session, () =>
      size ? transcodeSegment(body, profiles, { signal: ctx.shutdown, sizeOverride: size }) : ctx.transcode(body, profiles, seg.duration ?? 0),
    );
    entry.transcodeMs = Date.now() - t0;
    const published = publishRenditions(ctx, sessionId, seg.seq ?? 0n, profiles, renditions);
    paths = published.paths;
    result.data = { segments: published.segments, sig: signRenditions(ctx, renditions) };
    const fee = ctx.payments.charge(sender, sessionId, job.payment.expectedPrice, published.pixels);
    if (fee) entry.fee = ratToDecimal(fee, 0);
    Object.assign(entry, { pixels: String(published.pixels), status: 'ok' });
  } catch (err) {
    result.error = err instanceof TranscodeError ? err.message : `transcode failed: ${errorMessage(err)}`;
    Object.assign(entry, { status: 'transcode-error', error: result.error });
    ctx.stats.segmentErrors++;
  }
  ctx.stats.segments++;
  return { result, paths };
}
