// The operator's dashboard on the control port: one page, its script and style, hls.js from our own
// node_modules (no CDN), and a JSON snapshot the page reads; live updates come from /events. Every answer
// carries a strict Content-Security-Policy: scripts and styles from this origin only, no inline code, video
// and playlists from the HLS port.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sendText, type HttpRoute } from '../lib/http.ts';

export interface DashboardOptions {
  /** the snapshot the page shows (streams, orchestrators, money, recent events) */
  state(): Promise<unknown>;
  /** where players fetch HLS from (-httpAddr), e.g. http://127.0.0.1:9935 */
  hlsOrigin: string;
  /**
   * Answer only what a visitor who has not logged in may fetch (the style the login page uses); every
   * other path is left to the routes behind the access checks. For the control server's public routes.
   */
  publicOnly?: boolean;
}

/** Dashboard paths anyone who reaches the listener may fetch: the login page's style. */
const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/dashboard/app.css']);

const HERE = fileURLToPath(new URL('./dashboard/', import.meta.url));

interface Asset {
  type: string;
  body: Buffer;
}

function loadAssets(): Map<string, Asset> {
  const hlsJs = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');
  return new Map<string, Asset>([
    ['/dashboard', { type: 'text/html; charset=utf-8', body: readFileSync(join(HERE, 'index.html')) }],
    ['/dashboard/app.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(join(HERE, 'app.js')) }],
    ['/dashboard/app.css', { type: 'text/css; charset=utf-8', body: readFileSync(join(HERE, 'app.css')) }],
    ['/dashboard/hls.min.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(hlsJs) }],
  ]);
}

/** The headers of every dashboard answer: type, length, a strict CSP, no sniffing, no caching. */
export function dashboardHeaders(hlsOrigin: string, type: string, length: number): Record<string, string> {
  return {
    'Content-Type': type,
    'Content-Length': String(length),
    'Content-Security-Policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      // hls.js fetches playlists and segments from the HLS port and feeds them to the video as a blob
      `connect-src 'self' ${hlsOrigin}`,
      `media-src 'self' blob: ${hlsOrigin}`,
      "worker-src 'self' blob:",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
    'X-Content-Type-Options': 'nosniff',
    // not no-referrer: with it, browsers send `Origin: null` on the login and logout form posts, which the
    // browser rule refuses; same-origin sends nothing to the HLS port or anywhere else
    'Referrer-Policy': 'same-origin',
    'Cache-Control': 'no-store',
  };
}

export function createDashboardRoute(opts: DashboardOptions): HttpRoute {
  let assets: Map<string, Asset> | undefined;
  return async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://control').pathname.replace(/\/$/, '');
    if (path !== '/dashboard' && !path.startsWith('/dashboard/')) return false;
    if (opts.publicOnly && !((req.method === 'GET' || req.method === 'HEAD') && PUBLIC_PATHS.has(path))) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'method not allowed', { Allow: 'GET' });
      return true;
    }
    if (path === '/dashboard/state.json') {
      const body = Buffer.from(JSON.stringify(await opts.state()));
      res.writeHead(200, dashboardHeaders(opts.hlsOrigin, 'application/json', body.length));
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    }
    assets ??= loadAssets();
    const asset = assets.get(path);
    if (!asset) {
      sendText(res, 404, '404 page not found');
      return true;
    }
    res.writeHead(200, dashboardHeaders(opts.hlsOrigin, asset.type, asset.body.length));
    res.end(req.method === 'HEAD' ? undefined : asset.body);
    return true;
  };
}
