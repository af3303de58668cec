// Orchestrator addresses as operators write them (-orchAddr, webhook, service registry) → normalised URIs.
import { GatewayError } from '../lib/errors.ts';

export const DEFAULT_ORCHESTRATOR_PORT = 8935;

export class OrchestratorUriError extends GatewayError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { code: 'ORCHESTRATOR_URI_INVALID', cause: opts.cause });
  }
}

/**
 * go-livepeer's rules: missing scheme ⇒ https://, missing port ⇒ :8935, ":8936" ⇒ 127.0.0.1:8936.
 * Only http(s) is accepted; the path is dropped (only host:port is dialled).
 */
export function normalizeOrchestratorUri(raw: string): string {
  let s = raw.trim();
  if (!s) throw new OrchestratorUriError('empty orchestrator address');
  if (s.startsWith(':')) s = `127.0.0.1${s}`;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) s = `https://${s}`;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new OrchestratorUriError(`invalid orchestrator address "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new OrchestratorUriError(`orchestrator address "${raw}" must be http(s)`);
  }
  if (!url.hostname) throw new OrchestratorUriError(`orchestrator address "${raw}" has no host`);
  const port = url.port || String(DEFAULT_ORCHESTRATOR_PORT);
  return `${url.protocol}//${url.hostname}:${port}`;
}

/** A comma-separated -orchAddr value; invalid entries are errors (the operator typed them). */
export function parseOrchAddrList(value: string): string[] {
  const uris = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(normalizeOrchestratorUri);
  return [...new Set(uris)];
}
