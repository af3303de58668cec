// Live HLS copied to the object store (-objectStore) as it is produced, so any instance or a CDN serves it.
// The store holds the same tree as /stream/ does locally, under the URL's key prefix:
//   <mid>.m3u8   <mid>/<rendition>.m3u8   <mid>/<rendition>/<seq>.ts
// Playlists there point at the public URL (-objectStorePublicUrl, default the store's own) and list only
// segments the store has: each rendition writes its segment, then its playlist, then the master, in order.
// Renditions upload side by side, bounded by the store's own limits; a rendition that falls behind skips
// segments rather than hold their bytes. Segments leaving the local HLS window leave the store too. When
// the stream ends its playlists get #EXT-X-ENDLIST; the last window stays (a bucket lifecycle rule, or the
// next stream of that ID, clears it).
// As a recorder (-recordStore) it keeps every segment instead, each run of a stream under its own start
// time, <mid>/<YYYYMMDDTHHMMSSmmmZ>/…, its playlists an EVENT playlist while live and VOD once it ends.
import type { Logger } from '../lib/log.ts';
import { MediaPlaylist, PLAYLIST_WINDOW } from '../media/playlist.ts';
import { type HlsObserver, type HlsSegmentAdded, type HlsStore, SEGMENTS_KEPT } from '../server/hls.ts';
import type { ObjectStore } from '../store/objectStore.ts';

/** Segments of one rendition waiting for the store before new ones are skipped. */
export const MIRROR_MAX_PENDING = 4;

const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';
// Live playlists change every segment; a CDN must not hold them longer than a second.
const PLAYLIST_CACHE = 'max-age=1';
const SEGMENT_CACHE = 'max-age=3600';

interface RenditionMirror {
  readonly manifestId: string;
  readonly rendition: string;
  /** the store's playlist: only segments the store has */
  playlist: MediaPlaylist;
  /** seqs written to the store, oldest first, each once */
  readonly written: number[];
  tail: Promise<void>;
  pending: number;
  /** a segment was skipped or failed: the next one listed starts a discontinuity */
  gap: boolean;
  /** the store has this rendition's playlist (the master may list it) */
  listed: boolean;
}

interface StreamMirror {
  readonly renditions: Map<string, RenditionMirror>;
  /** where this run of the stream is written: `<mid>`, or `<mid>/<start time>` when recording */
  root: string;
  masterTail: Promise<void>;
  /** the master the store has: its root, a newline, its text */
  masterSent?: string;
  /** the local stream ended and no segment came since */
  ended: boolean;
}

export class HlsMirror implements HlsObserver {
  // Kept across a stream's end until its last writes are done: a stream that comes back under the same
  // ID queues behind them, so an old playlist never lands on top of a new one.
  readonly #streams = new Map<string, StreamMirror>();
  readonly #running = new Set<Promise<void>>();

  constructor(
    private readonly hls: HlsStore,
    private readonly store: ObjectStore,
    private readonly log: Logger,
    private readonly opts: { record?: boolean; now?: () => number } = {},
  ) {}

  segmentAdded(e: HlsSegmentAdded): void {
    if (!e.data) return; // MP4 push segments are listed locally but served nowhere
    const s = this.#stream(e.manifestId);
    if (s.ended && this.opts.record) s.root = this.#root(e.manifestId);
    s.ended = false;
    const r = this.#rendition(s, e.manifestId, e.rendition);
    if (r.pending >= MIRROR_MAX_PENDING) {
      this.store.skip();
      r.gap = true;
      return;
    }
    r.pending++;
    const data = e.data;
    const root = s.root;
    this.#enqueue(r, async () => {
      try {
        await this.#write(r, e, data, root);
      } finally {
        r.pending--;
      }
    });
  }

  streamEnded(manifestId: string): void {
    const s = this.#streams.get(manifestId);
    if (!s) return;
    s.ended = true;
    const root = s.root;
    const ends = [...s.renditions.values()].map((r) =>
      this.#enqueue(r, async () => {
        if (r.listed) await this.store.put(`${root}/${r.rendition}.m3u8`, this.#render(r, true), PLAYLIST_TYPE, PLAYLIST_CACHE);
        // a later stream of this ID starts its own playlist (its sequence numbers start again)
        r.playlist = this.#newPlaylist();
        r.gap = false;
        if (this.opts.record) r.listed = false;
      }),
    );
    void Promise.allSettled(ends).then(() => {
      if (s.ended && this.#streams.get(manifestId) === s) this.#streams.delete(manifestId);
    });
  }

  /** Settles once everything handed in so far has been tried. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  /** Runs `task` after the rendition's earlier ones; a failure is logged, never thrown. */
  #enqueue(r: RenditionMirror, task: () => Promise<void>): Promise<void> {
    const run = r.tail.then(task).catch((err: unknown) => this.log.error({ err, manifestId: r.manifestId }, 'object store mirror failed'));
    r.tail = run;
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
    return run;
  }

  #stream(manifestId: string): StreamMirror {
    let s = this.#streams.get(manifestId);
    if (!s) {
      s = { renditions: new Map(), root: this.opts.record ? this.#root(manifestId) : manifestId, masterTail: Promise.resolve(), ended: false };
      this.#streams.set(manifestId, s);
    }
    return s;
  }

  #rendition(s: StreamMirror, manifestId: string, rendition: string): RenditionMirror {
    let r = s.renditions.get(rendition);
    if (!r) {
      r = { manifestId, rendition, playlist: this.#newPlaylist(), written: [], tail: Promise.resolve(), pending: 0, gap: false, listed: false };
      s.renditions.set(rendition, r);
    }
    return r;
  }

  #root(manifestId: string): string {
    if (!this.opts.record) return manifestId;
    return `${manifestId}/${new Date((this.opts.now ?? Date.now)()).toISOString().replace(/[-:.]/g, '')}`;
  }

  /** A recording lists every segment; the live copy the last PLAYLIST_WINDOW, as locally. */
  #newPlaylist(): MediaPlaylist {
    return new MediaPlaylist(this.opts.record ? Number.MAX_SAFE_INTEGER : PLAYLIST_WINDOW);
  }

  #render(r: RenditionMirror, final: boolean): string {
    const text = r.playlist.render();
    const typed = this.opts.record ? text.replace('#EXT-X-VERSION:3\n', `#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:${final ? 'VOD' : 'EVENT'}\n`) : text;
    return final ? `${typed}#EXT-X-ENDLIST\n` : typed;
  }

  async #write(r: RenditionMirror, e: HlsSegmentAdded, data: Buffer, root: string): Promise<void> {
    const key = `${root}/${r.rendition}/${e.seq}.ts`;
    if (!(await this.store.put(key, data, 'video/mp2t', SEGMENT_CACHE))) {
      r.gap = true;
      return;
    }
    const at = r.written.indexOf(e.seq);
    if (at >= 0) r.written.splice(at, 1);
    r.written.push(e.seq);
    r.playlist.add({ seq: e.seq, durationMs: e.durationMs, uri: this.store.url(key), discontinuity: e.discontinuity || r.gap });
    r.gap = false;
    if (await this.store.put(`${root}/${r.rendition}.m3u8`, this.#render(r, false), PLAYLIST_TYPE, PLAYLIST_CACHE)) r.listed = true;
    await this.#writeMaster(r.manifestId, root);
    // As locally: the playlist lists the last PLAYLIST_WINDOW, players may still fetch up to SEGMENTS_KEPT.
    while (!this.opts.record && r.written.length > SEGMENTS_KEPT) await this.store.delete(`${root}/${r.rendition}/${r.written.shift()}.ts`);
  }

  /** The master as served locally, its variants pointing into the store and only those the store lists. */
  #masterText(manifestId: string, root: string, s: StreamMirror): string | undefined {
    const local = this.hls.masterPlaylist(manifestId);
    if (!local) return undefined;
    const out: string[] = [];
    let info: string | undefined;
    for (const line of local.split('\n')) {
      if (line.startsWith('#EXT-X-STREAM-INF')) info = line;
      else if (line === '' || line.startsWith('#')) out.push(line);
      else {
        const rendition = line.slice(manifestId.length + 1, -'.m3u8'.length);
        if (info && s.renditions.get(rendition)?.listed) out.push(info, this.store.url(`${root}/${rendition}.m3u8`));
        info = undefined;
      }
    }
    return out.some((l) => l.startsWith('#EXT-X-STREAM-INF')) ? out.join('\n') : undefined;
  }

  #writeMaster(manifestId: string, root: string): Promise<void> {
    const s = this.#streams.get(manifestId);
    if (!s) return Promise.resolve();
    s.masterTail = s.masterTail.then(async () => {
      const text = this.#masterText(manifestId, root, s);
      if (text === undefined || `${root}\n${text}` === s.masterSent) return;
      if (await this.store.put(`${root}.m3u8`, text, PLAYLIST_TYPE, PLAYLIST_CACHE)) s.masterSent = `${root}\n${text}`;
    });
    return s.masterTail;
  }
}
