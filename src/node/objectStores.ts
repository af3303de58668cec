// The object stores a gateway writes to (-objectStore, -recordStore), built from the configuration:
// the live HLS mirror, the recorder and the AI outputs' copy, their counters for /status, and their stop.
import type { MediaMirror } from '../ai/mediaStore.ts';
import type { Logger } from '../lib/log.ts';
import type { HlsStore } from '../server/hls.ts';
import type { ObjectStore, ObjectStoreStats } from '../store/objectStore.ts';
import { parseObjectStoreUrl } from '../store/objectStoreUrl.ts';
import type { NodeConfig, ObjectStoreConfig } from './config.ts';
import { HlsMirror } from './hlsMirror.ts';

/** How long a stopping gateway waits for writes still queued before it cuts them off. */
export const OBJECT_STORE_DRAIN_MS = 5_000;

// AI outputs never change once written.
const OUTPUT_CACHE = 'max-age=86400';

export interface ObjectStores {
  /** AI outputs' copy in the object store; undefined without -objectStore */
  readonly media: MediaMirror | undefined;
  /** the /status block; undefined without a store */
  status(): { objectStore?: ObjectStoreStats; recordStore?: ObjectStoreStats } | undefined;
  /** lets queued writes finish for a bounded time, then stops */
  close(): Promise<void>;
}

const NO_STORES: ObjectStores = { media: undefined, status: () => undefined, close: async () => {} };

export async function openObjectStores(config: NodeConfig, hls: HlsStore, log: Logger): Promise<ObjectStores> {
  if (!config.objectStore && !config.recordStore) return NO_STORES;
  // the S3 client is loaded only by the gateways that write to a store (5 MB of heap otherwise carried)
  const { ObjectStore } = await import('../store/objectStore.ts');
  const storeLog = log.child({ component: 'objectStore' });
  const open = (c: ObjectStoreConfig, flag: string, record: boolean): { store: ObjectStore; mirror: HlsMirror } => {
    const store = new ObjectStore(parseObjectStoreUrl(c.url, flag), storeLog, {
      ...(c.publicUrl ? { publicUrl: c.publicUrl } : {}),
      ...(c.timeoutMs ? { timeoutMs: c.timeoutMs } : {}),
    });
    const mirror = new HlsMirror(hls, store, storeLog, { record });
    hls.observe(mirror);
    return { store, mirror };
  };
  const live = config.objectStore ? open(config.objectStore, 'objectStore', false) : undefined;
  const recorder = config.recordStore ? open(config.recordStore, 'recordStore', true) : undefined;
  if (live)
    storeLog.info({ store: live.store.stats().store, publicUrl: live.store.stats().publicUrl }, 'live HLS and AI outputs are copied to the object store');
  if (recorder) storeLog.info({ store: recorder.store.stats().store }, 'streams are recorded to the record store');
  const outputs = new Set<Promise<unknown>>();
  const both = [live, recorder].filter((x) => x !== undefined);
  return {
    media: live && {
      async publish(path, data, contentType) {
        const write = live.store.put(path, data, contentType, OUTPUT_CACHE);
        outputs.add(write);
        try {
          return (await write) ? live.store.url(path) : undefined;
        } finally {
          outputs.delete(write);
        }
      },
    },
    status: () =>
      both.length === 0 ? undefined : { ...(live ? { objectStore: live.store.stats() } : {}), ...(recorder ? { recordStore: recorder.store.stats() } : {}) },
    async close() {
      if (both.length === 0) return;
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, OBJECT_STORE_DRAIN_MS);
      });
      await Promise.race([Promise.allSettled([...both.map((x) => x.mirror.idle()), ...outputs]), bound]);
      clearTimeout(timer);
      for (const x of both) x.store.close();
      await Promise.allSettled(both.map((x) => x.mirror.idle()));
    },
  };
}
