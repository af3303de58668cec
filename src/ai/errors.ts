// Errors of the AI routes: go-livepeer's JSON error shape, {"error":{"message":"…"}}.
import { HttpError } from '../lib/errors.ts';

export class AiRequestError extends HttpError {
  constructor(status: number, message: string, opts: { code?: string; cause?: unknown; headers?: Record<string, string> } = {}) {
    super(status, message, { code: opts.code ?? 'AI_REQUEST', ...opts });
  }
}

export const badRequest = (message: string): AiRequestError => new AiRequestError(400, message, { code: 'AI_BAD_REQUEST' });

/** No orchestrator did the job within the retry budget. */
export class AiUnavailableError extends AiRequestError {
  constructor(message: string, cause?: unknown) {
    super(503, message, { code: 'AI_UNAVAILABLE', ...(cause !== undefined ? { cause } : {}) });
  }
}
