// HLS playlists for live streams, as plain data and pure functions: a sliding
// media playlist per rendition and the master playlist that lists them.

/** Segments listed in a live media playlist (go-livepeer keeps 6). */
export const PLAYLIST_WINDOW = 6;

/** The rendition name of the ingested stream itself. */
export const SOURCE_RENDITION = 'source';

/** BANDWIDTH advertised for the source variant, as go-livepeer does. */
export const SOURCE_BANDWIDTH = 4_000_000;

export interface PlaylistEntry {
  readonly seq: number;
  /** Whole milliseconds. */
  readonly durationMs: number;
  readonly uri: string;
  /** An `#EXT-X-DISCONTINUITY` precedes this segment. */
  readonly discontinuity: boolean;
}

/** Absolute segment path used in media playlists: `/stream/<mid>/<rendition>/<seq>.ts`. */
export function segmentUri(manifestId: string, rendition: string, seq: number): string {
  return `/stream/${manifestId}/${rendition}/${seq}.ts`;
}

/** Relative variant path used in master playlists: `<mid>/<rendition>.m3u8`. */
export function variantUri(manifestId: string, rendition: string): string {
  return `${manifestId}/${rendition}.m3u8`;
}

/**
 * A live media playlist with a sliding window. Media sequence and discontinuity
 * sequence count what slid out, so they only grow; the target duration is the
 * ceiling of the longest segment ever listed and never shrinks, since players
 * must not see it decrease within a stream.
 */
export class MediaPlaylist {
  readonly windowSize: number;
  #entries: PlaylistEntry[] = [];
  #mediaSequence = 0;
  #discontinuitySequence = 0;
  #targetDurationS = 0;

  constructor(windowSize = PLAYLIST_WINDOW) {
    if (!Number.isInteger(windowSize) || windowSize < 1) throw new RangeError('playlist window must be a positive integer');
    this.windowSize = windowSize;
  }

  get entries(): readonly PlaylistEntry[] {
    return this.#entries;
  }

  get mediaSequence(): number {
    return this.#mediaSequence;
  }

  get discontinuitySequence(): number {
    return this.#discontinuitySequence;
  }

  /** Whole seconds; 0 until the first segment. */
  get targetDurationS(): number {
    return this.#targetDurationS;
  }

  /** Sequence number of the newest segment, or undefined when empty. */
  get lastSeq(): number | undefined {
    return this.#entries.at(-1)?.seq;
  }

  /**
   * Append a segment. Segments only move forward: a seq at or below the newest
   * one is ignored (returns false), because inserting behind the live edge would
   * renumber segments players have already fetched.
   */
  add(entry: { seq: number; durationMs: number; uri: string; discontinuity?: boolean }): boolean {
    const last = this.lastSeq;
    if (last !== undefined && entry.seq <= last) return false;
    const durationMs = Math.max(0, Math.round(entry.durationMs));
    this.#entries.push({ seq: entry.seq, durationMs, uri: entry.uri, discontinuity: entry.discontinuity === true });
    this.#targetDurationS = Math.max(this.#targetDurationS, Math.ceil(durationMs / 1000), 1);
    while (this.#entries.length > this.windowSize) {
      const gone = this.#entries.shift()!;
      this.#mediaSequence += 1;
      if (gone.discontinuity) this.#discontinuitySequence += 1;
    }
    return true;
  }

  render(): string {
    return renderMediaPlaylist({
      mediaSequence: this.#mediaSequence,
      discontinuitySequence: this.#discontinuitySequence,
      targetDurationS: this.#targetDurationS,
      entries: this.#entries,
    });
  }
}

export function renderMediaPlaylist(p: {
  mediaSequence: number;
  discontinuitySequence: number;
  targetDurationS: number;
  entries: readonly PlaylistEntry[];
}): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-MEDIA-SEQUENCE:${p.mediaSequence}`, `#EXT-X-TARGETDURATION:${p.targetDurationS}`];
  if (p.discontinuitySequence > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${p.discontinuitySequence}`);
  for (const e of p.entries) {
    if (e.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXTINF:${(e.durationMs / 1000).toFixed(3)},`, e.uri);
  }
  // Live: never #EXT-X-ENDLIST.
  return `${lines.join('\n')}\n`;
}

export interface MasterVariant {
  /** `source` or a profile name. */
  readonly rendition: string;
  readonly bandwidth: number;
  readonly width: number;
  readonly height: number;
  /** RFC 6381 codecs of the rendition's segments (`avc1.64001f,mp4a.40.2`), when known */
  readonly codecs?: string;
}

/** Master playlist; variants are written in the order given (source first). */
export function renderMasterPlaylist(manifestId: string, variants: readonly MasterVariant[]): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3'];
  for (const v of variants) {
    const res = v.width > 0 && v.height > 0 ? `,RESOLUTION=${v.width}x${v.height}` : '';
    const codecs = v.codecs ? `,CODECS="${v.codecs}"` : '';
    lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${Math.max(0, Math.round(v.bandwidth))}${res}${codecs}`, variantUri(manifestId, v.rendition));
  }
  return `${lines.join('\n')}\n`;
}

/** How many target durations a rendition may lag before it leaves the master playlist. */
export const STALE_TARGET_DURATIONS = 3;

/**
 * A rendition is stale when it has had no new segment for 3 × target duration
 * while the source kept advancing (so a paused publisher does not hide it).
 * Stale renditions are left out of the master playlist; they come back with
 * their next segment.
 */
export function isRenditionStale(p: {
  nowMs: number;
  /** When the rendition's newest segment was added. */
  renditionLastAddedMs: number;
  /** When the source's newest segment was added. */
  sourceLastAddedMs: number;
  targetDurationS: number;
}): boolean {
  const limitMs = STALE_TARGET_DURATIONS * Math.max(1, p.targetDurationS) * 1000;
  return p.sourceLastAddedMs > p.renditionLastAddedMs && p.nowMs - p.renditionLastAddedMs > limitMs;
}
