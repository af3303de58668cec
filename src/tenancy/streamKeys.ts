// RTMP stream keys bound to API keys: OBS publishes to rtmp://host/live/<stream key> and needs nothing
// new, while players get the stream under a separate public playback ID — the stream key (a secret that
// lets anyone publish as the key's owner) never appears in a playlist URL. Stored by SHA-256, like keys.
import { createHash, randomBytes } from 'node:crypto';
import type { StateStore } from '../store/stateStore.ts';

const NS = 'tenancy.streamkeys';
const STREAM_KEY = /^sk[0-9A-Za-z]{40}$/;

export interface StreamKeyBinding {
  keyId: string;
  /** the public ID playlists are served under */
  playbackId: string;
}

const hash = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** 40 alphanumerics (≈238 bits): path-safe, and survives every RTMP client's URL handling. */
function newStreamKey(): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const bytes = randomBytes(64);
  let out = 'sk';
  for (const b of bytes) {
    if (b >= 248) continue; // 248 = 4·62: no modulo bias
    out += alphabet[b % 62];
    if (out.length === 42) return out;
  }
  return newStreamKey();
}

export class StreamKeys {
  constructor(private readonly store: StateStore) {}

  /** A new stream key for an API key; the key is returned this once. */
  async create(keyId: string): Promise<{ streamKey: string; playbackId: string }> {
    for (;;) {
      const streamKey = newStreamKey();
      const playbackId = randomBytes(8).toString('hex');
      const res = await this.store.kv.compareAndSet(NS, hash(streamKey), 0, JSON.stringify({ keyId, playbackId } satisfies StreamKeyBinding));
      if (res.ok) return { streamKey, playbackId };
    }
  }

  async resolve(streamKey: string): Promise<StreamKeyBinding | undefined> {
    if (!STREAM_KEY.test(streamKey)) return undefined;
    const e = await this.store.kv.get(NS, hash(streamKey));
    return e ? (JSON.parse(e.value) as StreamKeyBinding) : undefined;
  }
}
