// Manifest ID and stream key from an ingest URL path, the way go-livepeer
// derives them, plus the random ids it uses when the path gives none.
import { randomBytes } from 'node:crypto';

/** Random manifest IDs are 4 random bytes in hex (8 characters). */
export const MANIFEST_ID_BYTES = 4;
/** Random RTMP stream keys are 6 random bytes in hex (12 characters). */
export const STREAM_KEY_BYTES = 6;

export function randomManifestId(): string {
  return randomBytes(MANIFEST_ID_BYTES).toString('hex');
}

export function randomStreamKey(): string {
  return randomBytes(STREAM_KEY_BYTES).toString('hex');
}

// Same pattern as go-livepeer's StreamPrefix. Applied globally, the `live/`
// alternative also removes "live/" found later in the path; we keep that quirk
// so the same URL gives the same manifest ID on both implementations.
const STREAM_PREFIX = /^[ /]*(stream\/)?|(live\/)?/g;

/** Strip leading spaces/slashes, an optional `stream/` and `live/`. */
export function cleanStreamPrefix(path: string): string {
  return path.replace(STREAM_PREFIX, '');
}

export interface StreamPathIds {
  /** Empty when the path names no stream. */
  readonly manifestId: string;
  /** Everything after the manifest ID (may contain '/'); empty when absent. */
  readonly streamKey: string;
}

/** Drop the extension of the last path element (`/live/m/3.ts` → `/live/m/3`), like Go's path.Ext. */
export function trimExtension(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot < 0 ? path : path.slice(0, path.length - (base.length - dot));
}

/**
 * Split a URL path (no query) into manifest ID and stream key, without filling
 * in random values: `/movie/Secret/Key` → movie + Secret/Key, `/live/movie` → movie.
 * As in go-livepeer, an extension on the last element is dropped first
 * (`/movie/key.flv` → key `key`), then the prefixes are stripped.
 */
export function splitStreamPath(path: string): StreamPathIds {
  let rest = cleanStreamPrefix(trimExtension(path));
  // A bare prefix (`rtmp://h/stream`, which clients send as path "/stream")
  // names no stream: it gets random IDs, as docs/node.md §3.1 describes.
  if (rest === 'stream' || rest === 'live') rest = '';
  const slash = rest.indexOf('/');
  if (slash < 0) return { manifestId: rest, streamKey: '' };
  return { manifestId: rest.slice(0, slash), streamKey: rest.slice(slash + 1) };
}

/**
 * IDs for a new ingest stream from its URL path: a missing manifest ID becomes a
 * random 8-hex one, a missing stream key a random 12-hex one.
 */
export function streamIdsFromPath(path: string): StreamPathIds {
  const { manifestId, streamKey } = splitStreamPath(path);
  return {
    manifestId: manifestId === '' ? randomManifestId() : manifestId,
    streamKey: streamKey === '' ? randomStreamKey() : streamKey,
  };
}

/**
 * The decoded path of a URL string (`rtmp://h:1935/live/mo%20vie?x=1` → `/live/mo vie`);
 * a bare path is accepted too. Bad percent escapes are left as they are.
 */
export function urlPath(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(url);
  const path = m ? m[1]! : url.split(/[?#]/, 1)[0]!;
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/**
 * An RTMP publish URL as go-livepeer reports it: scheme and host from the connect command's tcUrl, then
 * the app and the stream name with empty path elements dropped, then the stream name's query.
 */
export function rtmpPublishUrl(tcUrl: string, app: string, rawStreamName: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)/i.exec(tcUrl);
  const origin = m ? m[1]! : 'rtmp://localhost';
  const q = rawStreamName.indexOf('?');
  const name = q < 0 ? rawStreamName : rawStreamName.slice(0, q);
  const query = q < 0 ? '' : rawStreamName.slice(q);
  const parts = `${app}/${name}`.split('/').filter((p) => p !== '');
  return `${origin}/${parts.join('/')}${query}`;
}
