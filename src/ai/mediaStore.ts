// Output media re-hosted by the gateway (docs/ai.md): each request's files under
// /stream/<requestId>/<file>, served from memory. Bounded: the newest 12 files per request, a total
// byte budget (oldest requests go first) and an age limit.
import { randomBytes } from 'node:crypto';

export interface StoredMedia {
  data: Buffer;
  contentType: string;
  storedAt: number;
}

/** A copy of the outputs elsewhere (the object store): the URL readers fetch a file from, or undefined when it failed. */
export interface MediaMirror {
  publish(path: string, data: Buffer, contentType: string): Promise<string | undefined>;
}

export interface MediaStoreOptions {
  /** outputs are also written here and answers point here; the local copy stays as the fallback */
  mirror?: MediaMirror;
  /** total bytes kept (default 512 MiB) */
  maxBytes?: number;
  /** how long a file is served (default 1 h) */
  maxAgeMs?: number;
  /** files per request (default 12, as go-livepeer) */
  perRequest?: number;
  now?: () => number;
}

const MIME: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  mp4: 'video/mp4',
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
};

export function mimeForFile(name: string): string {
  return MIME[name.split('.').pop()?.toLowerCase() ?? ''] ?? 'application/octet-stream';
}

/** 8 hex characters, as go-livepeer names requests and data-URL files. */
export const randomId = (): string => randomBytes(4).toString('hex');

export const REQUEST_ID = /^[0-9a-f]{8}$/;
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** A file name that is safe in a URL path: the orchestrator's base name when it is plain, else a fresh one. */
export function safeFileName(candidate: string | undefined, ext: string): string {
  if (candidate && FILE_NAME.test(candidate) && !candidate.includes('..')) return candidate;
  return `${randomId()}.${ext}`;
}

export class AiMediaStore {
  private readonly requests = new Map<string, Map<string, StoredMedia>>();
  private bytes = 0;
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  private readonly perRequest: number;
  private readonly now: () => number;
  private readonly mirror: MediaMirror | undefined;

  constructor(opts: MediaStoreOptions = {}) {
    this.mirror = opts.mirror;
    this.maxBytes = opts.maxBytes ?? 512 * 1024 * 1024;
    this.maxAgeMs = opts.maxAgeMs ?? 3600_000;
    this.perRequest = opts.perRequest ?? 12;
    this.now = opts.now ?? Date.now;
  }

  get size(): { requests: number; bytes: number } {
    return { requests: this.requests.size, bytes: this.bytes };
  }

  /** Stores a file and returns its public path, /stream/<requestId>/<file>. */
  put(requestId: string, file: string, data: Buffer, contentType = mimeForFile(file)): string {
    if (data.length > this.maxBytes) throw new RangeError('output larger than the media store');
    this.expire();
    let dir = this.requests.get(requestId);
    if (!dir) {
      dir = new Map();
      this.requests.set(requestId, dir);
    }
    const old = dir.get(file);
    if (old) this.bytes -= old.data.length;
    dir.delete(file);
    dir.set(file, { data, contentType, storedAt: this.now() });
    this.bytes += data.length;
    while (dir.size > this.perRequest) {
      const [name, m] = dir.entries().next().value as [string, StoredMedia];
      dir.delete(name);
      this.bytes -= m.data.length;
    }
    // oldest requests first, never the one being written
    for (const [id, d] of this.requests) {
      if (this.bytes <= this.maxBytes) break;
      if (id === requestId) continue;
      this.drop(id, d);
    }
    return `/stream/${requestId}/${file}`;
  }

  /**
   * Stores a file and answers the URL an answer gives for it: the object store's when there is one and the
   * write worked, else the local path. The local copy is kept either way (no answer ever points nowhere).
   */
  async publish(requestId: string, file: string, data: Buffer, contentType = mimeForFile(file)): Promise<string> {
    const local = this.put(requestId, file, data, contentType);
    return (await this.mirror?.publish(`${requestId}/${file}`, data, contentType)) ?? local;
  }

  get(requestId: string, file: string): StoredMedia | undefined {
    const m = this.requests.get(requestId)?.get(file);
    if (!m || this.now() - m.storedAt > this.maxAgeMs) return undefined;
    return m;
  }

  private drop(id: string, dir: Map<string, StoredMedia>): void {
    for (const m of dir.values()) this.bytes -= m.data.length;
    this.requests.delete(id);
  }

  private expire(): void {
    const cutoff = this.now() - this.maxAgeMs;
    for (const [id, dir] of this.requests) {
      let newest = 0;
      for (const m of dir.values()) newest = Math.max(newest, m.storedAt);
      if (newest < cutoff) this.drop(id, dir);
    }
  }
}
