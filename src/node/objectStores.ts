// The object stores a gateway writes to (-objectStore, -recordStore), built from the configuration:
// the live HLS mirror, the recorder and the AI outputs' copy, their counters for /status, and their stop.
import type { MediaMirror } from '../ai/mediaStore.ts';
import type { Logger } from '../lib/log.ts';
import type { HlsStore } from '../server/hls.ts';
import { ObjectStore, type ObjectStoreStats } from '../store/objectStore.ts';
import { parseObjectStoreUrl } from '../store/objectStoreUrl.ts';
import type { NodeConfig } from './config.ts';
import { HlsMirror } from './hlsMirror.ts';

/** How long a stopping gateway waits for writes still queued before it cuts them off. */
export const OBJECT_STORE_DRAIN_MS = 5_000;

// AI outputs never change once written.
const OUTPUT_CACHE = 'max-age=86400';

export interface ObjectStores {
  /** AI outputs' copy in the object store; undefined without -objectStore */
  readonly media: MediaMirror | undefined;
  /** the /status block; undefined without a store */
  status(): { objectStore?: ObjectStoreStats } | undefined;
  /** lets queued writes finish for a bounded time, then stops */
  close(): Promise<void>;
}

export function openObjectStores(config: NodeConfig, hls: HlsStore, log: Logger): ObjectStores {
  const live = config.objectStore;
  if (!live) return { media: undefined, status: () => undefined, close: async () => {} };
  const storeLog = log.child({ component: 'objectStore' });
  const store = new ObjectStore(parseObjectStoreUrl(live.url), storeLog, {
    ...(live.publicUrl ? { publicUrl: live.publicUrl } : {}),
    ...(live.timeoutMs ? { timeoutMs: live.timeoutMs } : {}),
  });
  const mirror = new HlsMirror(hls, store, storeLog);
  hls.observe(mirror);
  storeLog.info({ store: store.stats().store, publicUrl: store.stats().publicUrl }, 'HLS and AI outputs are copied to the object store');
  const outputs = new Set<Promise<unknown>>();
  return {
    media: {
      async publish(path, data, contentType) {
        const write = store.put(path, data, contentType, OUTPUT_CACHE);
        outputs.add(write);
        try {
          return (await write) ? store.url(path) : undefined;
        } finally {
          outputs.delete(write);
        }
      },
    },
    status: () => ({ objectStore: store.stats() }),
    async close() {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, OBJECT_STORE_DRAIN_MS);
      });
      await Promise.race([Promise.allSettled([mirror.idle(), ...outputs]), bound]);
      clearTimeout(timer);
      store.close();
      await mirror.idle();
    },
  };
}
