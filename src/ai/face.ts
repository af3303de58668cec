// The AI routes on the HTTP port (docs/ai.md): the batch pipelines, the async image-to-video result,
// re-hosted output media, and an OpenAI-compatible chat-completions front for /llm.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AiCandidateStatus } from '../discovery/aiSelector.ts';
import { errorMessage, HttpError } from '../lib/errors.ts';
import { header, type HttpRoute } from '../lib/http.ts';
import { postAiJob, postAiJobStream } from '../net/aiJob.ts';
import { AsyncResults } from './asyncResults.ts';
import { encodeForOrchestrator } from './encode.ts';
import { AiRequestError, badRequest } from './errors.ts';
import { runOnOrchestrators, type AiJobDeps } from './job.ts';
import { llmChunks, type LlmChunk } from './llmStream.ts';
import { AiMediaStore, randomId, REQUEST_ID } from './mediaStore.ts';
import { chatCompletion, chatCompletionChunk, chatCompletionToLlm } from './openai.ts';
import { llmResponse, publicAnswer } from './outputs.ts';
import { PIPELINE_BY_NAME, PIPELINE_BY_ROUTE, PIPELINES, type PipelineSpec } from './pipelines.ts';
import { parseJsonRequest, readAiRequest, readRequestBody, type AiRequest } from './request.ts';
import { jobUnits } from './units.ts';

/** The longest wait for the next chunk of a streamed LLM answer. */
export const LLM_STREAM_IDLE_MS = 60_000;

export interface AiFaceOptions extends AiJobDeps {
  media?: AiMediaStore;
}

export interface AiPipelineStatus {
  pipeline: string;
  capability: number;
  model: string;
  candidates: AiCandidateStatus[];
}

export interface AiFace {
  route: HttpRoute;
  media: AiMediaStore;
  /** per pipeline and model asked for so far: the candidates and whether each is used, and why not */
  status(): AiPipelineStatus[];
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const data = Buffer.from(`${JSON.stringify(body)}\n`);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(data.length) });
  res.end(data);
}

function sendError(res: ServerResponse, err: unknown): void {
  if (err instanceof HttpError) {
    sendJson(res, err.status, { error: { message: err.message } }, err.headers);
    return;
  }
  sendJson(res, 500, { error: { message: 'Internal Server Error' } });
}

const methodNotAllowed = (allow: string): AiRequestError => new AiRequestError(405, `method not allowed: use ${allow}`, { headers: { Allow: allow } });

export function createAiFace(opts: AiFaceOptions): AiFace {
  const media = opts.media ?? new AiMediaStore();
  const asyncResults = new AsyncResults();
  const llm = PIPELINE_BY_NAME.get('llm')!;

  /** Runs a prepared request to its public JSON answer. */
  async function runBatch(r: AiRequest, requestId: string): Promise<Record<string, unknown>> {
    const p = r.pipeline;
    const u = await jobUnits(r);
    const body = encodeForOrchestrator(r, u.audioSeconds !== undefined ? { metadata: JSON.stringify({ duration: String(u.audioSeconds) }) } : {});
    return runOnOrchestrators(opts, { pipeline: p, modelId: r.modelId, units: u.units, ...(u.steps !== undefined ? { steps: u.steps } : {}) }, async (a) => {
      const answer = await postAiJob({
        transcoder: a.session.transcoder,
        path: p.route,
        contentType: body.contentType,
        body: body.body,
        segmentHeader: a.payment.segmentHeader,
        paymentHeader: a.payment.paymentHeader,
        maxResponseBytes: p.maxOutputBytes * 2,
        timeoutMs: p.timeoutMs,
      });
      return publicAnswer(p, answer.body, { requestId, origins: a.origins, media });
    });
  }

  /** Opens a streamed LLM answer on an orchestrator (retries happen until the stream starts). */
  async function openLlmStream(r: AiRequest): Promise<AsyncGenerator<LlmChunk>> {
    const u = await jobUnits(r);
    const body = encodeForOrchestrator(r);
    return runOnOrchestrators(opts, { pipeline: llm, modelId: r.modelId, units: u.units }, async (a) => {
      const s = await postAiJobStream({
        transcoder: a.session.transcoder,
        path: llm.route,
        contentType: body.contentType,
        body: body.body,
        segmentHeader: a.payment.segmentHeader,
        paymentHeader: a.payment.paymentHeader,
        maxResponseBytes: llm.maxOutputBytes,
        timeoutMs: llm.timeoutMs,
      });
      return llmChunks(s.response, { maxBytes: llm.maxOutputBytes, idleMs: LLM_STREAM_IDLE_MS });
    });
  }

  function startEventStream(res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  }

  /** Relays chunks to the client; a client that goes away stops the orchestrator's stream. */
  async function relay(
    req: IncomingMessage,
    res: ServerResponse,
    chunks: AsyncGenerator<LlmChunk>,
    write: (c: LlmChunk, first: boolean) => string,
    end = '',
  ): Promise<void> {
    const gone = () => void chunks.return(undefined);
    res.once('close', gone);
    let first = true;
    try {
      for await (const c of chunks) {
        if (res.destroyed) break;
        res.write(write(c, first));
        first = false;
      }
      if (!res.destroyed) res.end(end);
    } catch (err) {
      opts.log.warn({ err: errorMessage(err), url: req.url }, 'LLM stream ended early');
      res.destroy();
    } finally {
      res.off('close', gone);
    }
  }

  async function handlePipeline(p: PipelineSpec, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const r = await readAiRequest(p, req);
    if (p.name === 'llm' && r.fields.stream === true) {
      const chunks = await openLlmStream(r);
      startEventStream(res);
      await relay(req, res, chunks, (c) => `data: ${JSON.stringify(c)}\n\n`);
      return;
    }
    const requestId = randomId();
    if (p.name === 'image-to-video' && /respond-async/i.test(header(req, 'prefer') ?? '')) {
      await jobUnits(r); // a bad image is still a 400 now, not a failed result later
      if (!asyncResults.start(requestId)) throw new AiRequestError(503, 'too many image-to-video requests in progress; retry later');
      void runBatch(r, requestId).then(
        (answer) => asyncResults.complete(requestId, answer),
        (err) => {
          opts.log.warn({ requestId, err: errorMessage(err) }, 'async image-to-video failed');
          asyncResults.complete(requestId, { error: { message: 'Internal Server Error' } });
        },
      );
      sendJson(res, 202, { request_id: requestId });
      return;
    }
    sendJson(res, 200, await runBatch(r, requestId));
  }

  async function handleAsyncResult(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readRequestBody(req, 4096);
    let id: unknown;
    try {
      id = (JSON.parse(body.toString('utf8')) as { request_id?: unknown }).request_id;
    } catch {
      throw badRequest('the body must be {"request_id": "…"}');
    }
    const entry = typeof id === 'string' && REQUEST_ID.test(id) ? asyncResults.get(id) : undefined;
    if (!entry) throw badRequest('invalid request ID');
    if (entry.status === 'processing') sendJson(res, 202, { status: 'processing' });
    else sendJson(res, 200, { status: 'complete', result: entry.result });
  }

  async function handleChatCompletions(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const r = parseJsonRequest(llm, chatCompletionToLlm(await readRequestBody(req, 4 * 1024 * 1024)));
    const id = `chatcmpl-${randomId()}${randomId()}`;
    if (r.fields.stream === true) {
      const chunks = await openLlmStream(r);
      startEventStream(res);
      await relay(req, res, chunks, (c, first) => `data: ${JSON.stringify(chatCompletionChunk(c, r.modelId, id, first))}\n\n`, 'data: [DONE]\n\n');
      return;
    }
    const answer = await runBatch(r, randomId());
    sendJson(res, 200, chatCompletion(llmResponse(answer), r.modelId, id));
  }

  function models(): unknown {
    const ids = new Set([llm.defaultModel]);
    for (const s of opts.selectors.all()) if (s.cap === llm.cap && s.size > 0) ids.add(s.modelId);
    return { object: 'list', data: [...ids].map((id) => ({ id, object: 'model', created: 0, owned_by: 'livepeer' })) };
  }

  function serveMedia(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const m = /^\/stream\/([0-9a-f]{8})\/([^/]+)$/.exec(path);
    if (!m) return false;
    const file = media.get(m[1]!, m[2]!);
    if (!file) return false;
    res.writeHead(200, {
      'Content-Type': file.contentType,
      'Content-Length': String(file.data.length),
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'private, max-age=3600',
    });
    res.end(req.method === 'HEAD' ? undefined : file.data);
    return true;
  }

  const route: HttpRoute = async (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const method = req.method ?? 'GET';
    try {
      if (path.startsWith('/stream/') && (method === 'GET' || method === 'HEAD')) return serveMedia(req, res, path);
      const p = PIPELINE_BY_ROUTE.get(path);
      if (p) {
        if (method !== 'POST') throw methodNotAllowed('POST');
        await handlePipeline(p, req, res);
        return true;
      }
      if (path === '/image-to-video/result') {
        if (method !== 'POST') throw methodNotAllowed('POST');
        await handleAsyncResult(req, res);
        return true;
      }
      if (path === '/v1/chat/completions') {
        if (method !== 'POST') throw methodNotAllowed('POST');
        await handleChatCompletions(req, res);
        return true;
      }
      if (path === '/v1/models') {
        if (method !== 'GET') throw methodNotAllowed('GET');
        sendJson(res, 200, models());
        return true;
      }
      return false;
    } catch (err) {
      if (!(err instanceof HttpError)) opts.log.error({ err: errorMessage(err), url: path }, 'AI request failed');
      req.resume();
      sendError(res, err);
      return true;
    }
  };

  return {
    route,
    media,
    status: () =>
      opts.selectors.all().map((s) => ({
        pipeline: PIPELINES.find((p) => p.cap === s.cap)?.name ?? String(s.cap),
        capability: s.cap,
        model: s.modelId,
        candidates: s.status(),
      })),
  };
}
