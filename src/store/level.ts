// The node's level database under the data directory, shared by every store in the process (LevelDB
// allows one opener), and the chain-id guard go-livepeer applies to its data directory.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import { DatadirChainMismatchError, StoreError } from './errors.ts';

export type NodeDb = Level<string, string>;

/** Directory of the database inside -datadir. */
export const DB_DIR_NAME = 'gatewaydb';

const opened = new Map<string, { db: NodeDb; refs: number; ready: Promise<void> }>();

export interface DbHandle {
  db: NodeDb;
  /** Releases this handle; the database closes when the last one is released. */
  close(): Promise<void>;
}

/** Opens (or shares) `<datadir>/gatewaydb`; the data directory is created with mode 0755 if missing. */
export async function openNodeDb(datadir: string): Promise<DbHandle> {
  const location = join(datadir, DB_DIR_NAME);
  let entry = opened.get(location);
  if (!entry) {
    const db: NodeDb = new Level<string, string>(location);
    const ready = (async () => {
      await mkdir(datadir, { recursive: true, mode: 0o755 });
      try {
        await db.open();
      } catch (err) {
        opened.delete(location);
        const cause = (err as { cause?: { code?: string } }).cause;
        if (cause?.code === 'LEVEL_LOCKED') {
          throw new StoreError(`the data directory ${datadir} is in use by another livepeer-gateway process; stop it or pass another -datadir`, {
            code: 'DATADIR_IN_USE',
            cause: err,
          });
        }
        throw new StoreError(`cannot open the database in ${datadir}: ${(err as Error).message}`, { cause: err });
      }
    })();
    entry = { db, refs: 0, ready };
    opened.set(location, entry);
  }
  entry.refs++;
  const e = entry;
  try {
    await e.ready;
  } catch (err) {
    e.refs--;
    throw err;
  }
  let released = false;
  return {
    db: e.db,
    async close() {
      if (released) return;
      released = true;
      if (--e.refs === 0) {
        opened.delete(location);
        await e.db.close();
      }
    },
  };
}

const CHAIN_ID_KEY = 'kv:chainId';

/**
 * Stores the chain id on first use and refuses a different one later, with go-livepeer's message, so a
 * data directory never mixes networks.
 */
export async function checkOrStoreChainId(db: NodeDb, chainId: number): Promise<void> {
  const stored = await db.get(CHAIN_ID_KEY);
  if (stored === undefined) {
    await db.put(CHAIN_ID_KEY, String(chainId));
    return;
  }
  if (Number(stored) !== chainId) {
    throw new DatadirChainMismatchError(Number(stored), chainId);
  }
}

export async function storedChainId(db: NodeDb): Promise<number | undefined> {
  const v = await db.get(CHAIN_ID_KEY);
  return v === undefined ? undefined : Number(v);
}
