// keccak-256 of many inputs side by side. With AVX-512 the addon runs eight sponges in the lanes of one
// set of registers for about the CPU of one (native/keccak1600_avx512.c: 1.9 GB/s of CPU against 0.36 on
// the bench machine), so the segments being written, one per stream, are hashed eight streams at a time:
// a stream's bytes wait until seven others have bytes waiting, or LANE_WAIT_MS, or its digest (which hashes
// everything waiting then). A segment's renditions are hashed together, with whatever is waiting then.
// Without AVX-512 each input is hashed as it comes, as src/lib/keccak.ts does.
import { BlockTail, finishKeccak, Keccak256Stream, keccak256, NATIVE_KECCAK, RATE, SMALL_INPUT, STATE_BYTES, type NativeKeccak } from './keccak.ts';

/** A full set of lanes: the streams waiting are hashed as soon as there are this many. */
const LANES = 8;
/** The most one call of the addon takes. */
const MAX_PER_CALL = 64;
/** The longest a stream's bytes wait for others before they are hashed with whatever else waits. */
const LANE_WAIT_MS = 100;

const lanes: NativeKeccak | undefined = NATIVE_KECCAK?.implementation === 'avx512' ? NATIVE_KECCAK : undefined;

/** Sponges with whole blocks waiting. */
const waiting = new Set<LaneSponge>();
let waitTimer: NodeJS.Timeout | undefined;

/** Calls of the addon that hashed sponges side by side, and the sponges in them (tests, bench/). */
export const laneStats = { calls: 0, sponges: 0 };

/**
 * One addon call per 64 sponges: each state absorbs the whole blocks of its piece, the first `mustFinish`
 * all of them, the others as far as they run beside others. Returns the bytes of each piece absorbed.
 */
function absorbSideBySide(native: NativeKeccak, states: Uint8Array[], pieces: Uint8Array[], mustFinish: number): number[] {
  const absorbed: number[] = [];
  for (let at = 0; at < states.length; at += MAX_PER_CALL) {
    const finishing = Math.max(0, Math.min(MAX_PER_CALL, mustFinish - at));
    absorbed.push(...native.absorbLanes(states.slice(at, at + MAX_PER_CALL), pieces.slice(at, at + MAX_PER_CALL), finishing));
  }
  laneStats.calls++;
  laneStats.sponges += states.length;
  return absorbed;
}

/**
 * Everything waiting, hashed now, beside `more` sponges and `finishing`'s blocks, which are absorbed to the
 * end. Of the rest, the blocks a sponge has beyond the others' may wait on (for the next streams' bytes),
 * unless `finishing` is 'all' (the wait ran out).
 */
function absorbWaiting(
  native: NativeKeccak,
  finishing?: LaneSponge | 'all',
  more: { states: Uint8Array[]; pieces: Uint8Array[] } = { states: [], pieces: [] },
): void {
  clearTimeout(waitTimer);
  waitTimer = undefined;
  const { states, pieces } = more;
  if (finishing instanceof LaneSponge && waiting.delete(finishing)) {
    states.push(finishing.state);
    pieces.push(finishing.take());
  }
  const mustFinish = finishing === 'all' ? Number.POSITIVE_INFINITY : states.length;
  const others = [...waiting];
  waiting.clear();
  for (const sponge of others) {
    states.push(sponge.state);
    pieces.push(sponge.take());
  }
  if (states.length === 0) return;
  const absorbed = absorbSideBySide(native, states, pieces, mustFinish);
  for (let i = states.length - others.length, o = 0; i < states.length; i++, o++) {
    // what a sponge had past the others' blocks waits for the next streams' bytes
    if (absorbed[i]! < pieces[i]!.length) others[o]!.wait(pieces[i]!.subarray(absorbed[i]));
  }
}

/** A sponge whose whole blocks may be absorbed later, beside other sponges'. */
class LaneSponge {
  readonly state = new Uint8Array(STATE_BYTES);
  readonly #tail = new BlockTail();
  /** Whole blocks given and not absorbed yet: they come before the tail. */
  #waiting: Uint8Array | undefined;
  /** A completed tail block is absorbed at once; a piece's whole blocks wait. Blocks waiting go first. */
  readonly #take = (blocks: Uint8Array, completed: boolean): void => {
    this.settle();
    if (completed) this.native.absorb(this.state, blocks);
    else this.wait(blocks);
  };

  constructor(private readonly native: NativeKeccak) {}

  update(bytes: Uint8Array): void {
    this.#tail.feed(bytes, this.#take);
  }

  /** `blocks` wait for other streams' bytes; with a full set of lanes waiting, all are hashed now. */
  wait(blocks: Uint8Array): void {
    this.#waiting = blocks;
    waiting.add(this);
    if (waiting.size >= LANES) absorbWaiting(this.native);
    else waitTimer ??= setTimeout(() => absorbWaiting(this.native, 'all'), LANE_WAIT_MS).unref();
  }

  /** The blocks waiting, now absorbed by the caller. */
  take(): Uint8Array {
    const blocks = this.#waiting!;
    this.#waiting = undefined;
    return blocks;
  }

  /** Absorbs the blocks waiting now, beside every other sponge's. */
  settle(): void {
    if (this.#waiting) absorbWaiting(this.native, this);
  }

  digest(): Uint8Array {
    this.settle();
    return finishKeccak(this.native.absorb, this.state.slice(), this.#tail.bytes);
  }
}

/**
 * keccak-256 fed piece by piece, like Keccak256Stream, for a segment being written: its pieces may be
 * hashed later, beside other streams', so **the bytes given must stay as they are until digest()**.
 */
export class DeferredKeccak256Stream {
  readonly #sponge: LaneSponge | Keccak256Stream = lanes ? new LaneSponge(lanes) : new Keccak256Stream();

  update(bytes: Uint8Array): void {
    this.#sponge.update(bytes);
  }

  /** The hash of everything given so far (32 bytes). */
  digest(): Uint8Array {
    return this.#sponge.digest();
  }
}

/** keccak-256 of each of `inputs` (a segment's renditions), hashed side by side with what waits. */
export function keccak256Each(inputs: readonly Uint8Array[]): Uint8Array[] {
  if (!lanes) return inputs.map((input) => keccak256(input));
  const stateOf = inputs.map((input) => (input.length >= SMALL_INPUT ? new Uint8Array(STATE_BYTES) : undefined));
  const states: Uint8Array[] = [];
  const pieces: Uint8Array[] = [];
  inputs.forEach((input, i) => {
    if (!stateOf[i]) return;
    states.push(stateOf[i]);
    pieces.push(input.subarray(0, input.length - (input.length % RATE)));
  });
  absorbWaiting(lanes, undefined, { states, pieces });
  return inputs.map((input, i) => {
    const state = stateOf[i];
    return state ? finishKeccak(lanes.absorb, state, input.subarray(input.length - (input.length % RATE))) : keccak256(input);
  });
}
