// The OpenAI chat-completions shape in front of /llm: requests mapped onto the LLM pipeline, answers
// and streamed chunks mapped back, so OpenAI SDKs work with only their base URL changed.
import { badRequest } from './errors.ts';
import type { LlmChunk } from './llmStream.ts';

interface LlmChoice {
  index: number;
  finish_reason: string;
  message: { role: string; content: string };
  delta: { role: string; content: string };
}

/** OpenAI message content: a string, or a list of parts of which the text ones count. */
function contentText(v: unknown, i: number): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) {
    return v
      .map((part) => {
        if (part && typeof part === 'object' && (part as { type?: unknown }).type === 'text' && typeof (part as { text?: unknown }).text === 'string') {
          return (part as { text: string }).text;
        }
        throw badRequest(`messages[${i}]: only text content is supported`);
      })
      .join('');
  }
  throw badRequest(`messages[${i}].content must be a string or a list of text parts`);
}

/** The /llm request body for an OpenAI chat-completions body. */
export function chatCompletionToLlm(body: Buffer): Buffer {
  let o: unknown;
  try {
    o = JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('the body is not valid JSON');
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw badRequest('the body must be a JSON object');
  const r = o as Record<string, unknown>;
  if (!Array.isArray(r.messages)) throw badRequest('messages must be a list');
  const messages = r.messages.map((m, i) => {
    if (!m || typeof m !== 'object') throw badRequest(`messages[${i}] must be an object`);
    const mm = m as Record<string, unknown>;
    return { role: typeof mm.role === 'string' ? mm.role : '', content: contentText(mm.content, i) };
  });
  const llm: Record<string, unknown> = { messages };
  if (r.model !== undefined) llm.model = r.model;
  const maxTokens = r.max_completion_tokens ?? r.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) llm.max_tokens = maxTokens;
  for (const k of ['stream', 'temperature', 'top_p', 'top_k'] as const) if (r[k] !== undefined && r[k] !== null) llm[k] = r[k];
  return Buffer.from(JSON.stringify(llm));
}

const choicesOf = (c: LlmChunk): LlmChoice[] => c.choices as LlmChoice[];

export function chatCompletion(answer: LlmChunk, fallbackModel: string, id: string): Record<string, unknown> {
  return {
    id: (answer.id as string) || id,
    object: 'chat.completion',
    created: (answer.created as number) || Math.floor(Date.now() / 1000),
    model: (answer.model as string) || fallbackModel,
    choices: choicesOf(answer).map((c) => ({
      index: c.index,
      message: { role: c.message.role || 'assistant', content: c.message.content || c.delta.content },
      finish_reason: c.finish_reason || 'stop',
      logprobs: null,
    })),
    usage: answer.usage,
  };
}

export function chatCompletionChunk(chunk: LlmChunk, fallbackModel: string, id: string, first: boolean): Record<string, unknown> {
  return {
    id: (chunk.id as string) || id,
    object: 'chat.completion.chunk',
    created: (chunk.created as number) || Math.floor(Date.now() / 1000),
    model: (chunk.model as string) || fallbackModel,
    choices: choicesOf(chunk).map((c) => ({
      index: c.index,
      delta: { ...(first ? { role: c.delta.role || 'assistant' } : {}), content: c.delta.content || c.message.content },
      finish_reason: c.finish_reason || null,
      logprobs: null,
    })),
  };
}
