// An orchestrator's LLM stream (server-sent events, `data: <JSON>` per chunk) read with bounds: a
// line length, a total size, and an idle time between chunks. Chunks come out parsed and copied
// field by field; the stream ends after the first chunk with a finish reason (docs/ai.md).
import type { IncomingMessage } from 'node:http';
import { AiOutputError } from '../net/aiOutput.ts';
import { llmResponse } from './outputs.ts';

export interface LlmStreamLimits {
  maxBytes: number;
  /** longest wait for the next chunk */
  idleMs: number;
  maxLineBytes?: number;
}

export type LlmChunk = ReturnType<typeof llmResponse>;

export const finishReason = (c: LlmChunk): string => ((c.choices as { finish_reason: string }[])[0]?.finish_reason ?? '').trim();

export async function* llmChunks(res: IncomingMessage, limits: LlmStreamLimits): AsyncGenerator<LlmChunk> {
  const maxLine = limits.maxLineBytes ?? 1024 * 1024;
  let total = 0;
  let pending = '';
  let idle: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(idle);
    idle = setTimeout(() => res.destroy(new AiOutputError(`the LLM stream stalled for ${limits.idleMs} ms`)), limits.idleMs);
  };
  arm();
  try {
    for await (const chunk of res) {
      arm();
      total += (chunk as Buffer).length;
      if (total > limits.maxBytes) throw new AiOutputError(`the LLM stream is longer than ${limits.maxBytes} bytes`);
      pending += (chunk as Buffer).toString('utf8');
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        const line = pending.slice(0, nl).replace(/\r$/, '');
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '' || data === '[DONE]') {
          if (data === '[DONE]') return;
          continue;
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(data);
        } catch {
          throw new AiOutputError('the LLM stream carried a chunk that is not JSON');
        }
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new AiOutputError('the LLM stream carried a chunk that is not an object');
        const c = llmResponse(parsed as Record<string, unknown>);
        yield c;
        if (finishReason(c) !== '') return;
      }
      if (pending.length > maxLine) throw new AiOutputError(`an LLM stream line is longer than ${maxLine} bytes`);
    }
  } catch (err) {
    if (err instanceof AiOutputError) throw err;
    throw new AiOutputError(`the LLM stream broke: ${(err as Error).message}`);
  } finally {
    clearTimeout(idle);
    res.destroy();
  }
}
