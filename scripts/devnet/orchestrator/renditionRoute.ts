// GET/HEAD /stream/<session>/<profile>/<file>: the renditions of recent segments, from the store.
import type { OrchestratorContext } from './context.ts';
import { sendPlainText, type Route } from './router.ts';

export const RENDITION_PATH = /^\/stream\/([^/]+)\/([^/]+)\/([^/]+)$/;

/** The URL path a rendition is served under. */
export function renditionPath(sessionId: string, profile: string, file: string): string {
  return `/stream/${sessionId}/${encodeURIComponent(profile)}/${file}`;
}

export function renditionRoute(ctx: Pick<OrchestratorContext, 'renditions' | 'faults'>): Route {
  return {
    methods: ['GET', 'HEAD'],
    path: RENDITION_PATH,
    handle(_req, res, { path, params: [sessionId = '', profile = '', file = ''] }) {
      let name = profile;
      try {
        name = decodeURIComponent(profile);
      } catch {
        // keep the raw text
      }
      const stored = ctx.renditions.get(sessionId, name, file);
      const data = stored && ctx.faults.servedRendition(stored);
      if (!data) sendPlainText(res, 404, 'ErrNotFound');
      else {
        res.writeHead(200, { 'content-type': file.endsWith('.mp4') ? 'video/mp4' : 'video/mp2t', 'content-length': String(data.length) });
        res.end(data);
      }
      ctx.faults.renditionServed(path, res);
    },
  };
}
