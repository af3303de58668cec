// The remote signer's HTTP face on -httpAddr: the three paths go-livepeer's signer serves, at the origin
// root, each with one method (others get a plain-text 405), JSON answers and go-livepeer's JSON errors.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, readBody } from '../lib/body.ts';
import { HttpError } from '../lib/errors.ts';
import { header, sendText, type HttpRoute } from '../lib/http.ts';
import type { Logger } from '../lib/log.ts';
import { canonicalHeaderName } from './authWebhook.ts';
import type { RemoteDiscovery } from './discovery.ts';
import { errorBody, type LivePaymentService } from './livePayment.ts';
import { MAX_REQUEST_BYTES, parseLivePaymentRequest } from './request.ts';

export interface SignerRoutesOptions {
  /** `{"address","signature"}`, computed once at start-up */
  orchestratorInfoSignature: { address: string; signature: string };
  payments: LivePaymentService;
  /** -remoteDiscovery */
  discovery?: RemoteDiscovery;
  log: Logger;
}

/** /sign-orchestrator-info ignores its body; more than this is refused rather than read. */
const MAX_IGNORED_BODY = 64 * 1024;
const MAX_CAPS_QUERY = 64;

function sendJson(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  const bytes = Buffer.from(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(bytes.length) });
  res.end(bytes);
}

/** The request's headers as Go's http.Header holds them (canonical names, every value; no Host). */
export function goHeaders(req: IncomingMessage): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (name === 'host' || !values) continue;
    out[canonicalHeaderName(name)] = [...values];
  }
  return out;
}

export function createSignerRoute(opts: SignerRoutesOptions): HttpRoute {
  const infoBody = `${JSON.stringify(opts.orchestratorInfoSignature)}\n`;

  async function signOrchestratorInfo(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await readBody(req, MAX_IGNORED_BODY, { declaredLength: header(req, 'content-length') });
    sendJson(res, 200, infoBody);
  }

  async function generateLivePayment(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, MAX_REQUEST_BYTES, { declaredLength: header(req, 'content-length') });
    let parsed: ReturnType<typeof parseLivePaymentRequest>;
    try {
      parsed = parseLivePaymentRequest(body);
    } catch (err) {
      if (err instanceof HttpError) {
        opts.payments.refusedBeforeProcessing(err.code);
        sendJson(res, err.status, errorBody(err.status, err.message));
        return;
      }
      throw err;
    }
    const answer = await opts.payments.handle(parsed, goHeaders(req));
    sendJson(res, answer.status, answer.body, answer.headers);
  }

  async function discoverOrchestrators(req: IncomingMessage, res: ServerResponse, discovery: RemoteDiscovery): Promise<void> {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://signer');
    const caps = url.searchParams.getAll('caps').slice(0, MAX_CAPS_QUERY);
    const list = await discovery.orchestrators(caps);
    if (!list) {
      sendJson(res, 503, errorBody(503, 'no orchestrators discovered'));
      return;
    }
    sendJson(res, 200, `${JSON.stringify(list)}\n`);
  }

  const routes: Record<string, { method: string; run: (req: IncomingMessage, res: ServerResponse) => Promise<void> }> = {
    '/sign-orchestrator-info': { method: 'POST', run: signOrchestratorInfo },
    '/generate-live-payment': { method: 'POST', run: generateLivePayment },
  };
  const discovery = opts.discovery;
  if (discovery) routes['/discover-orchestrators'] = { method: 'GET', run: (req, res) => discoverOrchestrators(req, res, discovery) };

  return async (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!route) return false;
    if (req.method !== route.method) {
      req.resume();
      sendText(res, 405, 'Method Not Allowed', { Allow: route.method });
      return true;
    }
    try {
      await route.run(req, res);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        sendJson(res, 413, errorBody(413, err.message), { Connection: 'close' });
        req.destroy();
        return true;
      }
      opts.log.error({ err: (err as Error).message, path }, 'remote signer request failed');
      if (!res.headersSent) sendJson(res, 500, errorBody(500, ''));
    }
    return true;
  };
}
