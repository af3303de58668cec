// Replay protection go-livepeer's signer does not have: per payment state (orchestrator, StateID) the
// store keeps the sequence number of the last answer that left with tickets, and that answer's bytes.
// A request built on that state is new work; an exact repeat of the request that produced it gets the
// same bytes back; anything built on an older state is refused, so no state can be spent twice.
// Calls on one state take turns inside this process (KeyedLock) and across replicas (compare-and-set).
import { KeyedLock } from '../store/keyedLock.ts';
import type { StateStore } from '../store/stateStore.ts';

export const REPLAY_NAMESPACE = 'signer.state';

/** What was answered for one state's latest sequence number. */
export interface CommittedAnswer {
  /** the SequenceNumber of the state in that answer */
  seq: bigint;
  /** hash of the request that produced it (requestDigest) */
  requestHash: string;
  status: number;
  /** the response body, byte for byte */
  body: string;
  /** unix ms */
  committedAt: number;
}

export type ReplayCheck =
  /** work to do; commit with this version */
  | { kind: 'fresh'; version: number; previous?: string }
  /** the same request again: answer this */
  | { kind: 'repeat'; answer: CommittedAnswer }
  /** built on a state that is no longer the latest */
  | { kind: 'stale'; latest: bigint };

function encode(a: CommittedAnswer): string {
  return JSON.stringify({ seq: String(a.seq), hash: a.requestHash, status: a.status, body: a.body, at: a.committedAt });
}

function decode(value: string): CommittedAnswer | undefined {
  try {
    const o = JSON.parse(value) as { seq?: unknown; hash?: unknown; status?: unknown; body?: unknown; at?: unknown };
    if (typeof o.seq !== 'string' || !/^\d+$/.test(o.seq) || typeof o.hash !== 'string' || typeof o.status !== 'number' || typeof o.body !== 'string') {
      return undefined;
    }
    return { seq: BigInt(o.seq), requestHash: o.hash, status: o.status, body: o.body, committedAt: typeof o.at === 'number' ? o.at : 0 };
  } catch {
    return undefined;
  }
}

export class ReplayGuard {
  private readonly lock = new KeyedLock();

  constructor(private readonly store: StateStore) {}

  /** Runs `fn` with the calls on `key` (this process) one at a time. */
  serialize<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.lock.run([key], fn);
  }

  /**
   * Where a request stands. `nextSeq` is the sequence number its answer would carry (the incoming state's
   * + 1; 0 for a new session).
   */
  async check(key: string, nextSeq: bigint, requestHash: string): Promise<ReplayCheck> {
    const entry = await this.store.kv.get(REPLAY_NAMESPACE, key);
    if (!entry) return { kind: 'fresh', version: 0 };
    return this.judge(entry.value, entry.version, nextSeq, requestHash);
  }

  private judge(value: string, version: number, nextSeq: bigint, requestHash: string): ReplayCheck {
    const last = decode(value);
    // an entry we cannot read is treated as the newest possible: refuse rather than pay twice
    if (!last) return { kind: 'stale', latest: -1n };
    if (last.seq === nextSeq && last.requestHash === requestHash) return { kind: 'repeat', answer: last };
    // a state newer than our record was signed without passing here (a go-livepeer replica sharing the key)
    if (nextSeq > last.seq) return { kind: 'fresh', version, previous: value };
    return { kind: 'stale', latest: last.seq };
  }

  /**
   * Takes a committed answer back (its money record could not be written, so it must not leave): the
   * entry returns to what it was, or to "nothing answered after seq − 1" when there was none.
   */
  async revert(key: string, committedVersion: number, previous: string | undefined, seq: bigint): Promise<boolean> {
    const value = previous ?? encode({ seq: seq - 1n, requestHash: '', status: 0, body: '', committedAt: Date.now() });
    return (await this.store.kv.compareAndSet(REPLAY_NAMESPACE, key, committedVersion, value)).ok;
  }

  /**
   * Records the answer before it is sent. When another call (another replica) committed first, its
   * outcome for this request comes back instead: its answer if it was the same request, else stale.
   */
  async commit(key: string, version: number, answer: CommittedAnswer): Promise<{ ok: true; version: number } | { ok: false; outcome: ReplayCheck }> {
    const res = await this.store.kv.compareAndSet(REPLAY_NAMESPACE, key, version, encode(answer));
    if (res.ok) return { ok: true, version: res.version };
    if (!res.current) return { ok: false, outcome: { kind: 'stale', latest: -1n } };
    return { ok: false, outcome: this.judge(res.current.value, res.current.version, answer.seq, answer.requestHash) };
  }
}
