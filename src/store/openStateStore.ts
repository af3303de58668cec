// Picks the state store's backend: PostgreSQL when -storeUrl is set (state shared by several gateway
// instances), otherwise the embedded Level DB in -datadir (one instance, nothing to set up).
import type { Logger } from '../lib/log.ts';
import { LevelStateStore } from './levelStateStore.ts';
import { parseStoreUrl } from './pgTarget.ts';
import type { StateStore } from './stateStore.ts';

export interface StateStoreOptions {
  /** postgres://…; empty or absent = Level in `datadir` */
  storeUrl?: string;
  datadir: string;
  log: Logger;
}

/** Opens the store; a bad URL, an unreachable server or a refused migration is one-line error. */
export async function openStateStore(opts: StateStoreOptions): Promise<StateStore> {
  if (!opts.storeUrl) return LevelStateStore.open(opts.datadir);
  const target = parseStoreUrl(opts.storeUrl);
  // the PostgreSQL client is loaded only by the gateways that use it (3 MB of heap otherwise carried)
  const { PgStateStore } = await import('./pgStateStore.ts');
  return PgStateStore.open(target, opts.log);
}
