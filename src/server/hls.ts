// HLS playback (`/stream/...` on -httpAddr): an in-memory store of the live
// streams' recent segments and playlists, and the HTTP route that serves them.
import { segmentCodecs } from '../media/codecs.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  MediaPlaylist,
  PLAYLIST_WINDOW,
  SOURCE_BANDWIDTH,
  SOURCE_RENDITION,
  isRenditionStale,
  renderMasterPlaylist,
  segmentUri,
  type MasterVariant,
} from '../media/playlist.ts';
import type { VideoFormat, VideoProfile } from '../media/profiles.ts';
import { sendText, type HttpRoute } from '../lib/http.ts';

/** Segments kept in memory per rendition (go-livepeer keeps 12). */
export const SEGMENTS_KEPT = 12;

export interface Resolution {
  readonly width: number;
  readonly height: number;
}

export interface SegmentOptions {
  /** Put `#EXT-X-DISCONTINUITY` before this segment (e.g. the orchestrator or the input format changed). */
  discontinuity?: boolean;
  /** Container of the bytes; MP4 segments are listed with a `.mp4` URI but not served. Default 'mpegts'. */
  format?: VideoFormat;
}

/** Segments of a rendition looked at for its codecs before giving up. */
const CODEC_SCANS = 3;

interface RenditionState {
  readonly playlist: MediaPlaylist;
  /** seq → bytes, oldest first; `undefined` bytes mark listed-but-not-served MP4 segments. */
  readonly segments: Map<number, Buffer | undefined>;
  lastAddedMs: number;
  /** codecs read from its first segments (CODECS in the master playlist) */
  codecs?: string;
  /** segments looked at for codecs so far (a stream whose codec we cannot name is not scanned forever) */
  codecScans: number;
}

interface StreamState {
  profiles: readonly VideoProfile[];
  resolution: Resolution;
  source: RenditionState | undefined;
  readonly renditions: Map<string, RenditionState>;
  /** Bytes of all segments kept for the stream, source and renditions. */
  bytes: number;
}

/** A segment that just joined its rendition's playlist. */
export interface HlsSegmentAdded {
  manifestId: string;
  /** `source` or a profile name */
  rendition: string;
  seq: number;
  durationMs: number;
  discontinuity: boolean;
  /** the MPEG-TS bytes; undefined for MP4 segments, which are listed but not served */
  data: Buffer | undefined;
}

/** Hears the store's changes as they happen (the object store mirror). Called synchronously: it must not block. */
export interface HlsObserver {
  segmentAdded(e: HlsSegmentAdded): void;
  streamEnded(manifestId: string): void;
}

export interface HlsStoreOptions {
  /** Clock, for tests. */
  now?: () => number;
  /** Segment bytes kept per stream (source and renditions together); the oldest go first. */
  maxBytesPerStream?: number;
}

/**
 * Default cap of segment bytes per stream: 12 segments per rendition of a few MB each fit; a pusher of
 * 300 MB segments (or an orchestrator's oversized renditions) cannot make one stream hold gigabytes.
 */
export const HLS_MAX_BYTES_PER_STREAM = 512 * 1024 * 1024;

/**
 * Live streams by manifest ID. A stream appears with its first source segment
 * (or openStream) and disappears at endStream: its URLs then answer 404 at once.
 */
export class HlsStore {
  readonly #streams = new Map<string, StreamState>();
  readonly #now: () => number;
  readonly #maxBytes: number;
  readonly #observers: HlsObserver[] = [];
  #current: string | undefined;

  constructor(opts: HlsStoreOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#maxBytes = opts.maxBytesPerStream ?? HLS_MAX_BYTES_PER_STREAM;
  }

  /**
   * Declare a stream and its transcoding profiles (their order is the master
   * playlist order). Calling it again replaces the profiles and keeps segments.
   */
  openStream(manifestId: string, profiles: readonly VideoProfile[] = []): void {
    const s = this.#streams.get(manifestId);
    if (s) s.profiles = [...profiles];
    else this.#streams.set(manifestId, { profiles: [...profiles], resolution: { width: 0, height: 0 }, source: undefined, renditions: new Map(), bytes: 0 });
    this.#current = manifestId;
  }

  /** Drop the stream and all its segments. */
  endStream(manifestId: string): void {
    const live = this.#streams.delete(manifestId);
    if (this.#current === manifestId) this.#current = undefined;
    if (live) for (const o of this.#observers) o.streamEnded(manifestId);
  }

  /** Adds an observer of new segments and ended streams. */
  observe(observer: HlsObserver): void {
    this.#observers.push(observer);
  }

  hasStream(manifestId: string): boolean {
    return this.#streams.has(manifestId);
  }

  /** Streams held. */
  get size(): number {
    return this.#streams.size;
  }

  /** Segment bytes held: one stream's, or all streams'. */
  bytes(manifestId?: string): number {
    if (manifestId !== undefined) return this.#streams.get(manifestId)?.bytes ?? 0;
    let total = 0;
    for (const s of this.#streams.values()) total += s.bytes;
    return total;
  }

  /** Manifest IDs of the live streams. */
  streams(): string[] {
    return [...this.#streams.keys()];
  }

  /** The most recently opened stream still live (`/stream/current.m3u8`). */
  currentManifest(): string | undefined {
    return this.#current;
  }

  /** Store a source segment; opens the stream if needed. Returns false when the seq is not newer than the last one. */
  addSourceSegment(manifestId: string, seq: number, data: Buffer, durationMs: number, resolution?: Resolution, opts: SegmentOptions = {}): boolean {
    if (!this.#streams.has(manifestId)) this.openStream(manifestId);
    const s = this.#streams.get(manifestId)!;
    if (resolution && resolution.width > 0 && resolution.height > 0) s.resolution = { width: resolution.width, height: resolution.height };
    s.source ??= newRendition();
    return this.#add(manifestId, SOURCE_RENDITION, s.source, seq, data, durationMs, opts);
  }

  /**
   * Store a transcoded segment of `profileName`. Ignored (false) when the stream
   * has ended, the name is not one of the stream's profiles, or the seq is old.
   */
  addRendition(manifestId: string, profileName: string, seq: number, data: Buffer, durationMs: number, opts: SegmentOptions = {}): boolean {
    const s = this.#streams.get(manifestId);
    if (!s || profileName === SOURCE_RENDITION || !s.profiles.some((p) => p.name === profileName)) return false;
    let r = s.renditions.get(profileName);
    if (!r) {
      r = newRendition();
      s.renditions.set(profileName, r);
    }
    return this.#add(manifestId, profileName, r, seq, data, durationMs, opts);
  }

  #add(manifestId: string, rendition: string, r: RenditionState, seq: number, data: Buffer, durationMs: number, opts: SegmentOptions): boolean {
    if (!Number.isSafeInteger(seq) || seq < 0) return false;
    const mp4 = opts.format === 'mp4';
    const uri = mp4 ? segmentUri(manifestId, rendition, seq).replace(/\.ts$/, '.mp4') : segmentUri(manifestId, rendition, seq);
    if (!r.playlist.add({ seq, durationMs, uri, discontinuity: opts.discontinuity === true })) return false;
    const s = this.#streams.get(manifestId)!;
    s.bytes -= r.segments.get(seq)?.length ?? 0;
    r.segments.set(seq, mp4 ? undefined : data);
    s.bytes += mp4 ? 0 : data.length;
    if (r.codecs === undefined && r.codecScans < CODEC_SCANS) {
      r.codecScans += 1;
      r.codecs = segmentCodecs(data, mp4 ? 'mp4' : 'mpegts');
    }
    while (r.segments.size > SEGMENTS_KEPT) {
      const oldest = r.segments.keys().next().value as number;
      s.bytes -= r.segments.get(oldest)?.length ?? 0;
      r.segments.delete(oldest);
    }
    while (s.bytes > this.#maxBytes && this.#dropOldest(s)) {}
    r.lastAddedMs = this.#now();
    const added = { manifestId, rendition, seq, durationMs, discontinuity: opts.discontinuity === true, data: mp4 ? undefined : data };
    for (const o of this.#observers) o.segmentAdded(added);
    return true;
  }

  /** Drops the stream's oldest kept segment (lowest sequence number, any rendition); false when none is left. */
  #dropOldest(s: StreamState): boolean {
    let victim: { r: RenditionState; seq: number } | undefined;
    for (const r of [...(s.source ? [s.source] : []), ...s.renditions.values()]) {
      for (const [seq, data] of r.segments) {
        if (data === undefined) continue;
        if (!victim || seq < victim.seq) victim = { r, seq };
        break;
      }
    }
    if (!victim) return false;
    s.bytes -= victim.r.segments.get(victim.seq)?.length ?? 0;
    victim.r.segments.delete(victim.seq);
    return true;
  }

  /** Master playlist text, or undefined until the stream has a source segment. */
  masterPlaylist(manifestId: string): string | undefined {
    const s = this.#streams.get(manifestId);
    if (!s?.source) return undefined;
    const variants: MasterVariant[] = [
      {
        rendition: SOURCE_RENDITION,
        bandwidth: SOURCE_BANDWIDTH,
        width: s.resolution.width,
        height: s.resolution.height,
        ...(s.source.codecs ? { codecs: s.source.codecs } : {}),
      },
    ];
    const now = this.#now();
    for (const p of s.profiles) {
      const r = s.renditions.get(p.name);
      if (!r) continue;
      const stale = isRenditionStale({
        nowMs: now,
        renditionLastAddedMs: r.lastAddedMs,
        sourceLastAddedMs: s.source.lastAddedMs,
        targetDurationS: r.playlist.targetDurationS,
      });
      if (!stale) variants.push({ rendition: p.name, bandwidth: p.bitrate, width: p.width, height: p.height, ...(r.codecs ? { codecs: r.codecs } : {}) });
    }
    return renderMasterPlaylist(manifestId, variants);
  }

  /** Media playlist text of `source` or a profile, or undefined when it has no segment. */
  mediaPlaylist(manifestId: string, rendition: string): string | undefined {
    const r = this.#rendition(manifestId, rendition);
    return r && r.playlist.entries.length > 0 ? r.playlist.render() : undefined;
  }

  /** Bytes of a kept MPEG-TS segment, or undefined. */
  segment(manifestId: string, rendition: string, seq: number): Buffer | undefined {
    return this.#rendition(manifestId, rendition)?.segments.get(seq);
  }

  #rendition(manifestId: string, rendition: string): RenditionState | undefined {
    const s = this.#streams.get(manifestId);
    if (!s) return undefined;
    return rendition === SOURCE_RENDITION ? s.source : s.renditions.get(rendition);
  }
}

function newRendition(): RenditionState {
  return { playlist: new MediaPlaylist(PLAYLIST_WINDOW), segments: new Map(), lastAddedMs: 0, codecScans: 0 };
}

const COMMON_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Content-Length',
} as const;

export interface HlsRouteOptions {
  /** Serve `/stream/current.m3u8` as the newest stream's master playlist (-currentManifest). */
  currentManifest?: boolean;
}

/**
 * The `/stream/` route:
 *   /stream/<mid>.m3u8                    master playlist
 *   /stream/<mid>/<rendition>.m3u8        media playlist
 *   /stream/<mid>/<rendition>/<seq>.ts    segment
 * Anything unknown or gone is 404 (go-livepeer answers 500 for a missing segment).
 */
export function createHlsRoute(store: HlsStore, opts: HlsRouteOptions = {}): HttpRoute {
  return (req, res) => {
    const rawPath = (req.url ?? '/').split('?', 1)[0]!;
    if (!rawPath.startsWith('/stream/')) return false;
    serveHls(store, opts, rawPath.slice('/stream/'.length), req, res);
    return true;
  };
}

function serveHls(store: HlsStore, opts: HlsRouteOptions, rest: string, req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { ...COMMON_HEADERS, 'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS', 'Content-Length': '0' });
    res.end();
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendText(res, 405, 'Method Not Allowed', { ...COMMON_HEADERS, Allow: 'GET, HEAD, OPTIONS' });
    return;
  }
  let parts: string[];
  try {
    parts = rest.split('/').map((p) => decodeURIComponent(p));
  } catch {
    return notFound(res);
  }
  if (parts.some((p) => p === '')) return notFound(res);

  if (parts.length === 1 && parts[0]!.endsWith('.m3u8')) {
    let mid = parts[0]!.slice(0, -'.m3u8'.length);
    if (opts.currentManifest && mid === 'current') mid = store.currentManifest() ?? '';
    return sendPlaylist(req, res, store.masterPlaylist(mid));
  }
  if (parts.length === 2 && parts[1]!.endsWith('.m3u8')) {
    return sendPlaylist(req, res, store.mediaPlaylist(parts[0]!, parts[1]!.slice(0, -'.m3u8'.length)));
  }
  if (parts.length === 3) {
    const m = /^(\d{1,15})\.ts$/.exec(parts[2]!);
    if (m) {
      const data = store.segment(parts[0]!, parts[1]!, Number(m[1]));
      if (!data) return notFound(res);
      res.writeHead(200, {
        ...COMMON_HEADERS,
        'Cache-Control': 'max-age=5',
        'Content-Type': 'video/mp2t',
        'Content-Length': String(data.length),
      });
      res.end(req.method === 'HEAD' ? undefined : data);
      return;
    }
  }
  notFound(res);
}

function sendPlaylist(req: IncomingMessage, res: ServerResponse, text: string | undefined): void {
  if (text === undefined) return notFound(res);
  const body = Buffer.from(text);
  res.writeHead(200, {
    ...COMMON_HEADERS,
    'Cache-Control': 'max-age=5',
    'Content-Type': 'application/x-mpegURL',
    'Content-Length': String(body.length),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function notFound(res: ServerResponse): void {
  sendText(res, 404, 'ErrNotFound', COMMON_HEADERS);
}
