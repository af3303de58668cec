// Read-modify-write updates of a few keys each, committed in groups: every update waiting while a synced
// write is on disk goes into the next write together, so N streams' payment records cost one fsync per
// group instead of one each, and none waits behind N − 1 others. Values are read once and then kept here
// (this process is the only writer of its keys), so an update costs no read either. Updates are applied in
// the order they were handed in; a group that fails to write fails all its updates and changes nothing.

/** One key of an update: its new value from the stored one (undefined when there is none). */
export interface KeyChange<V> {
  key: string;
  next(current: V | undefined): V;
}

/** The store underneath: a batch of puts, written synced before it resolves. */
export interface GroupCommitStore<V> {
  getMany(keys: string[]): Promise<(V | undefined)[]>;
  putSynced(entries: Array<{ key: string; value: V }>): Promise<void>;
}

interface Pending<V> {
  changes: readonly KeyChange<V>[];
  resolve(): void;
  reject(err: unknown): void;
}

/** Values kept after a write; past this many keys the oldest are read from the store again when needed. */
const MAX_CACHED_KEYS = 4096;

export class GroupCommit<V> {
  readonly #store: GroupCommitStore<V>;
  readonly #cache = new Map<string, V>();
  #pending: Pending<V>[] = [];
  #running: Promise<void> | undefined;

  constructor(store: GroupCommitStore<V>) {
    this.#store = store;
  }

  /** Resolves once the update is on disk (with the updates grouped with it). */
  update(changes: readonly KeyChange<V>[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ changes, resolve, reject });
      // the write starts once the caller's synchronous work is done (encoding a batch is not its cost),
      // and takes every update handed in meanwhile
      this.#running ??= Promise.resolve().then(() => this.#drain());
    });
  }

  /** Settles once every update handed in so far has been written (or failed). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const group = this.#pending;
        this.#pending = [];
        try {
          const written = await this.#write(group);
          for (const [key, value] of written) this.#remember(key, value);
          for (const p of group) p.resolve();
        } catch (err) {
          for (const p of group) p.reject(err);
        }
      }
    } finally {
      this.#running = undefined;
    }
  }

  async #write(group: readonly Pending<V>[]): Promise<Map<string, V>> {
    const keys = [...new Set(group.flatMap((p) => p.changes.map((c) => c.key)))];
    const values = new Map<string, V | undefined>();
    const missing = keys.filter((k) => !this.#cache.has(k));
    const read = missing.length > 0 ? await this.#store.getMany(missing) : [];
    for (const [i, k] of missing.entries()) values.set(k, read[i]);
    for (const k of keys) if (this.#cache.has(k)) values.set(k, this.#cache.get(k));
    const written = new Map<string, V>();
    for (const p of group) {
      for (const c of p.changes) {
        const v = c.next(values.get(c.key));
        values.set(c.key, v);
        written.set(c.key, v);
      }
    }
    await this.#store.putSynced([...written].map(([key, value]) => ({ key, value })));
    return written;
  }

  #remember(key: string, value: V): void {
    this.#cache.delete(key);
    this.#cache.set(key, value);
    if (this.#cache.size > MAX_CACHED_KEYS) this.#cache.delete(this.#cache.keys().next().value!);
  }
}
