// The orchestrator's 200 answer turned into the gateway's: media fetched (data: URL or the
// orchestrator's own origin), checked to be what the pipeline makes, and re-hosted under
// /stream/<requestId>/<file> (and in the object store, when there is one: the answer then points there); text answers copied field by field (nothing else of the peer's passes).
import { imageSize } from 'image-size';
import { AiOutputError, fetchOutput } from '../net/aiOutput.ts';
import type { AiMediaStore } from './mediaStore.ts';
import { safeFileName } from './mediaStore.ts';
import type { PipelineSpec } from './pipelines.ts';

const MAX_OUTPUT_FILES = 16;
const MAX_TEXT = 4 * 1024 * 1024;

export interface OutputContext {
  requestId: string;
  /** the orchestrator's origins */
  origins: readonly string[];
  media: AiMediaStore;
}

function parseJson(body: Buffer): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AiOutputError('the orchestrator answered 200 with a body that is not JSON');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new AiOutputError('the orchestrator answered 200 with JSON that is not an object');
  return v as Record<string, unknown>;
}

const str = (v: unknown, what: string): string => {
  if (typeof v !== 'string') throw new AiOutputError(`the orchestrator's answer has no ${what} string`);
  if (v.length > MAX_TEXT) throw new AiOutputError(`the orchestrator's ${what} is too long`);
  return v;
};
const optStr = (v: unknown): string => (typeof v === 'string' && v.length <= MAX_TEXT ? v : '');
const optNum = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** What the bytes are, judged by their magic numbers; the extension and MIME type come from this, not from the peer. */
function mediaType(data: Buffer, kind: 'image' | 'video' | 'audio'): { ext: string; mime: string } {
  if (kind === 'image') {
    try {
      const t = imageSize(data).type;
      if (t === 'png') return { ext: 'png', mime: 'image/png' };
      if (t === 'jpg') return { ext: 'jpg', mime: 'image/jpeg' };
      if (t === 'gif') return { ext: 'gif', mime: 'image/gif' };
      if (t === 'webp') return { ext: 'webp', mime: 'image/webp' };
    } catch {
      // not an image
    }
    throw new AiOutputError('the orchestrator returned an output that is not a PNG, JPEG, GIF or WebP image');
  }
  if (kind === 'video') {
    if (data.length > 12 && data.subarray(4, 8).toString('latin1') === 'ftyp') return { ext: 'mp4', mime: 'video/mp4' };
    throw new AiOutputError('the orchestrator returned a video that is not MP4');
  }
  if (data.length > 12 && data.subarray(0, 4).toString('latin1') === 'RIFF' && data.subarray(8, 12).toString('latin1') === 'WAVE') {
    return { ext: 'wav', mime: 'audio/wav' };
  }
  if (data.length > 3 && (data.subarray(0, 3).toString('latin1') === 'ID3' || (data[0] === 0xff && (data[1]! & 0xe0) === 0xe0)))
    return { ext: 'mp3', mime: 'audio/mpeg' };
  throw new AiOutputError('the orchestrator returned audio that is not WAV or MP3');
}

async function rehost(url: unknown, kind: 'image' | 'video' | 'audio', p: PipelineSpec, ctx: OutputContext): Promise<string> {
  const fetched = await fetchOutput(str(url, 'url'), { origins: ctx.origins, maxBytes: p.maxOutputBytes });
  const { ext, mime } = mediaType(fetched.data, kind);
  const base = fetched.fileName?.replace(/\.[^.]*$/, '');
  return ctx.media.publish(ctx.requestId, safeFileName(base ? `${base}.${ext}` : undefined, ext), fetched.data, mime);
}

/** The public JSON answer for a pipeline's 200 from an orchestrator. */
export async function publicAnswer(p: PipelineSpec, body: Buffer, ctx: OutputContext): Promise<Record<string, unknown>> {
  const o = parseJson(body);
  switch (p.output) {
    case 'images':
    case 'video': {
      const images = o.images;
      if (!Array.isArray(images) || images.length === 0) throw new AiOutputError('the orchestrator answered without images');
      if (images.length > MAX_OUTPUT_FILES) throw new AiOutputError(`the orchestrator answered with more than ${MAX_OUTPUT_FILES} files`);
      const out = [];
      for (const img of images) {
        const m = (img && typeof img === 'object' ? img : {}) as Record<string, unknown>;
        const url = await rehost(m.url, p.output === 'video' ? 'video' : 'image', p, ctx);
        out.push({ url, seed: optNum(m.seed), nsfw: m.nsfw === true });
      }
      return { images: out };
    }
    case 'speech': {
      const audio = (o.audio && typeof o.audio === 'object' ? o.audio : {}) as Record<string, unknown>;
      return { audio: { url: await rehost(audio.url, 'audio', p, ctx) } };
    }
    case 'transcript': {
      const chunks = Array.isArray(o.chunks) ? o.chunks.slice(0, 100_000) : [];
      return {
        text: str(o.text, 'text'),
        chunks: chunks.map((c) => {
          const m = (c && typeof c === 'object' ? c : {}) as Record<string, unknown>;
          const ts = Array.isArray(m.timestamp) ? m.timestamp.slice(0, 2).map(optNum) : [];
          return { timestamp: ts, text: optStr(m.text) };
        }),
      };
    }
    case 'masks':
      return { masks: str(o.masks, 'masks'), scores: str(o.scores, 'scores'), logits: str(o.logits, 'logits') };
    case 'caption':
      return { text: str(o.text, 'text') };
    case 'llm':
      return llmResponse(o);
  }
}

/** An LLM answer (or one streamed chunk) copied field by field. */
export function llmResponse(o: Record<string, unknown>): Record<string, unknown> {
  const usage = (o.usage && typeof o.usage === 'object' ? o.usage : {}) as Record<string, unknown>;
  const choices = Array.isArray(o.choices) ? o.choices.slice(0, 16) : [];
  return {
    id: optStr(o.id),
    model: optStr(o.model),
    created: optNum(o.created),
    usage: { prompt_tokens: optNum(usage.prompt_tokens), completion_tokens: optNum(usage.completion_tokens), total_tokens: optNum(usage.total_tokens) },
    choices: choices.map((c) => {
      const m = (c && typeof c === 'object' ? c : {}) as Record<string, unknown>;
      const msg = (m.message && typeof m.message === 'object' ? m.message : {}) as Record<string, unknown>;
      const delta = (m.delta && typeof m.delta === 'object' ? m.delta : {}) as Record<string, unknown>;
      return {
        index: optNum(m.index),
        finish_reason: optStr(m.finish_reason),
        message: { role: optStr(msg.role), content: optStr(msg.content) },
        delta: { role: optStr(delta.role), content: optStr(delta.content) },
      };
    }),
  };
}
