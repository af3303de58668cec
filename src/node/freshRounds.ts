// Round changes: the cached round is up to -blockPollingInterval old, so right after a round is
// initialized an honest orchestrator's ticket params carry a creation round "after the last initialized
// round" we know of. The rounds are then read fresh — once per creation round (concurrent and later callers
// share that read) — so a good orchestrator is never refused or suspended for our stale cache. Params one
// round ahead are accepted as they are (pm/validate.ts), so a segment does not wait for that read: only
// params further ahead do.
import type { OrchestratorInfo } from '../wire/lpRpc.ts';
import type { ChainView } from '../pm/validate.ts';

/** Creation rounds remembered (each is read at most once); older ones are forgotten first. */
const MAX_REMEMBERED_ROUNDS = 16;

export interface FreshRounds {
  /**
   * Resolves once the round view is as fresh as it can be for params created in `info`'s round; undefined
   * when there is nothing to wait for (the usual case), so a segment's path stays synchronous.
   */
  ensureFor(info: OrchestratorInfo): Promise<void> | undefined;
}

export function freshRounds(view: () => ChainView, poll: () => Promise<unknown>): FreshRounds {
  const reads = new Map<bigint, Promise<void>>();
  return {
    ensureFor(info) {
      const round = info.ticketParams?.expirationParams?.creationRound;
      if (round === undefined) return undefined;
      let known: bigint;
      try {
        known = view().lastInitializedRound;
      } catch {
        return undefined; // no round data yet: the judge says so itself
      }
      if (round <= known) return undefined;
      let read = reads.get(round);
      if (!read) {
        read = poll().then(
          () => undefined,
          () => undefined, // the RPC is down: the judge decides on what we have
        );
        reads.set(round, read);
        if (reads.size > MAX_REMEMBERED_ROUNDS) reads.delete(reads.keys().next().value!);
      }
      return round > known + 1n ? read : undefined;
    },
  };
}
