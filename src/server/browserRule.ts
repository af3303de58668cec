// The one browser rule of every listener the node opens (-cliAddr, -httpAddr, and every route added to
// them later). A web page the operator opens can reach 127.0.0.1: an <img>, a form post or a multipart
// fetch needs no CORS preflight, and DNS rebinding lets a page read answers of a loopback server. So:
// - on a loopback bind, `Host` must name loopback or the bound address (reads too: rebinding reads);
// - a request that may change state (any method but GET/HEAD/OPTIONS) whose `Sec-Fetch-Site` or
//   `Origin` says it comes from another site is refused. Requests without those headers (curl,
//   livepeer_cli, ffmpeg, other servers) are not browsers' cross-site requests and pass.
// Which methods a route takes (state changes only by POST) is the listener's rule; see control.ts.
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { HttpError } from '../lib/errors.ts';
import { header } from '../lib/http.ts';
import { isLoopback } from '../lib/listenAddr.ts';

/** A request the browser rule refuses (403 with the reason). */
export class BrowserRequestRefusedError extends HttpError {
  constructor(message: string) {
    super(403, message, { code: 'BROWSER_REQUEST_REFUSED' });
  }
}

/** Methods that never change state here. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `Host: h:p` → `h` (brackets of IPv6 literals dropped, lower case). */
function hostName(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') < 0 ? undefined : h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

function isLoopbackName(name: string): boolean {
  return name === 'localhost' || (isIP(name) !== 0 && isLoopback(name));
}

/**
 * Why this request is refused, or undefined when it passes. `boundHost` is the address the listener
 * was asked to bind (`127.0.0.1`, `localhost`, `0.0.0.0`, a name…).
 */
export function browserRuleViolation(req: IncomingMessage, boundHost: string): BrowserRequestRefusedError | undefined {
  const hostHeader = header(req, 'host') ?? '';
  if (isLoopback(boundHost)) {
    const name = hostName(hostHeader);
    if (!isLoopbackName(name) && name !== hostName(boundHost)) {
      return new BrowserRequestRefusedError(`Host "${hostHeader.slice(0, 100)}" is not this loopback listener's (DNS rebinding?); use localhost or 127.0.0.1`);
    }
  }
  if (SAFE_METHODS.has(req.method ?? 'GET')) return undefined;
  const site = header(req, 'sec-fetch-site')?.trim().toLowerCase();
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return new BrowserRequestRefusedError(`cross-site request refused (Sec-Fetch-Site: ${site.slice(0, 40)})`);
  }
  const origin = header(req, 'origin');
  if (origin !== undefined && !sameOrigin(origin, hostHeader)) {
    return new BrowserRequestRefusedError(`cross-site request refused (Origin: ${origin.slice(0, 100)})`);
  }
  return undefined;
}

/** `Origin` names the host and port the request was sent to (`null` never does). */
function sameOrigin(origin: string, hostHeader: string): boolean {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  return u.host.toLowerCase() === hostHeader.trim().toLowerCase();
}
