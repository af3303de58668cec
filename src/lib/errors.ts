// The one error vocabulary of the code base. Every error we throw on purpose is a GatewayError: a
// message that says what to change, a stable `code` for programs and metrics, and the `cause` kept.

export interface GatewayErrorOptions {
  /** Stable, machine-readable name of the failure (defaults to the class name). */
  code?: string;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: string;

  constructor(message: string, opts: GatewayErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = opts.code ?? new.target.name;
  }
}

/** A failure that an HTTP face answers with `status` and the message as the body. */
export class HttpError extends GatewayError {
  constructor(
    readonly status: number,
    message: string,
    opts: GatewayErrorOptions & { headers?: Record<string, string> } = {},
  ) {
    super(message, opts);
    this.headers = opts.headers ?? {};
  }

  /** Extra response headers (Allow, Retry-After, Connection: close …). */
  readonly headers: Record<string, string>;
}

/** The message of anything thrown, for logs and answers. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
