// keccak-256 (Ethereum's, not NIST SHA3-256). Every segment and rendition is hashed once, so its speed
// is the gateway's. When the addon is built (build/keccak1600.node from native/keccak1600*.c, `npm run
// build`): with AVX-512 where the CPU has it, 1.05–1.7 × OpenSSL's x86-64 assembly, else through that
// Keccak-f[1600] inside node, about 1.5 × the WebAssembly one; otherwise in WebAssembly (hash-wasm),
// about 14 × the pure-JavaScript one on segment-sized inputs.
import { createKeccak } from 'hash-wasm';
import { loadBuiltAddon } from './builtAddon.ts';

/** A keccak-256 sponge: fed piece by piece, its digest at any point is the hash of everything fed. */
interface Sponge {
  update(bytes: Uint8Array): void;
  digest(): Uint8Array;
}

/** keccak-256's rate in bytes: 1600 − 2 × 256 bits. */
export const RATE = 136;
/** Keccak-f[1600]'s state in bytes, as the addon reads and writes it. */
export const STATE_BYTES = 200;

type Absorb = (state: Uint8Array, data: Uint8Array) => number;

/**
 * The bytes of a sponge's unfinished block, between pieces fed in any sizes: feed() hands on the block it
 * completes, then the piece's whole blocks, and keeps what is left (fewer than RATE bytes).
 */
export class BlockTail {
  readonly #block = new Uint8Array(RATE);
  #length = 0;

  /**
   * `take(blocks, completed)`: first the tail block, if `bytes` completes one (`completed`; the buffer is
   * reused after the call), then `bytes`' whole blocks, a view of `bytes`.
   */
  feed(bytes: Uint8Array, take: (blocks: Uint8Array, completed: boolean) => void): void {
    let rest = bytes;
    if (this.#length > 0) {
      const room = Math.min(RATE - this.#length, rest.length);
      this.#block.set(rest.subarray(0, room), this.#length);
      this.#length += room;
      if (this.#length < RATE) return;
      take(this.#block, true);
      this.#length = 0;
      rest = rest.subarray(room);
    }
    const whole = rest.length - (rest.length % RATE);
    if (whole > 0) take(rest.subarray(0, whole), false);
    if (whole < rest.length) {
      this.#block.set(rest.subarray(whole));
      this.#length = rest.length - whole;
    }
  }

  /** The bytes kept, fewer than a block. */
  get bytes(): Uint8Array {
    return this.#block.subarray(0, this.#length);
  }
}

/** keccak's padding (0x01 … 0x80, where SHA-3 has 0x06) after `tail`, absorbed into `state`; the hash. */
export function finishKeccak(absorb: Absorb, state: Uint8Array, tail: Uint8Array): Uint8Array {
  const last = new Uint8Array(RATE);
  last.set(tail);
  last[tail.length]! ^= 0x01;
  last[RATE - 1]! ^= 0x80;
  absorb(state, last);
  return state.slice(0, 32);
}

/** The sponge over the addon's absorb: the state stays in this process, whole blocks go to the addon. */
function nativeSponge(absorb: Absorb): new () => Sponge {
  return class NativeSponge implements Sponge {
    readonly #state = new Uint8Array(STATE_BYTES);
    readonly #tail = new BlockTail();
    readonly #absorb = (blocks: Uint8Array): void => void absorb(this.#state, blocks);

    update(bytes: Uint8Array): void {
      this.#tail.feed(bytes, this.#absorb);
    }

    digest(): Uint8Array {
      // into a copy: the sponge may go on
      return finishKeccak(absorb, this.#state.slice(), this.#tail.bytes);
    }
  };
}

const hasher = await createKeccak(256);

/**
 * The sponge over the one WebAssembly hasher: each piece loads this sponge's state into it and saves it
 * again (a few hundred bytes), so any number of sponges are fed side by side.
 */
class WasmSponge implements Sponge {
  #state: Uint8Array;

  constructor() {
    hasher.init();
    this.#state = hasher.save();
  }

  update(bytes: Uint8Array): void {
    hasher.load(this.#state);
    hasher.update(bytes);
    this.#state = hasher.save();
  }

  digest(): Uint8Array {
    hasher.load(this.#state);
    return hasher.digest('binary');
  }
}

/** Fixed vectors: keccak-256 of "" and of "abc". */
const VECTORS: Array<[string, string]> = [
  ['', 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470'],
  ['abc', '4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45'],
];

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

/** What src/lib/keccakLanes.ts uses of the addon, once it has passed the checks below. */
export interface NativeKeccak {
  /** Absorbs the whole blocks of `data` into `state` (200 bytes, 8-byte aligned); returns the bytes left over. */
  absorb: Absorb;
  /**
   * Each state absorbs the whole blocks of its piece, at most 64 of them; eight at a time with AVX-512, and
   * from index `mustFinish` on (default: all finish) a sponge may stop where fewer than three run beside it.
   * Returns the bytes of each piece absorbed.
   */
  absorbLanes(states: Uint8Array[], pieces: Uint8Array[], mustFinish?: number): number[];
  implementation: 'avx512' | 'openssl';
}

/** The addon's sponge when the addon loads and hashes as the WebAssembly one does (vectors, and block edges). */
function loadNative(): { Sponge: new () => Sponge; implementation: 'avx512' | 'openssl'; addon: NativeKeccak } | undefined {
  let S: new () => Sponge;
  let implementation: 'avx512' | 'openssl';
  // not built, or it does not load (no AVX-512, and this node's OpenSSL keeps the function private)
  const addon = loadBuiltAddon<NativeKeccak>('keccak1600');
  if (!addon) return undefined;
  try {
    S = nativeSponge(addon.absorb);
    implementation = addon.implementation;
  } catch {
    return undefined;
  }
  const hash = (S: new () => Sponge, parts: Uint8Array[]): string => {
    const s = new S();
    for (const p of parts) s.update(p);
    return hex(s.digest());
  };
  for (const [text, want] of VECTORS) if (hash(S, [new TextEncoder().encode(text)]) !== want) return undefined;
  const data = Uint8Array.from({ length: 3 * RATE + 7 }, (_, i) => (i * 151 + 7) & 0xff);
  for (const cut of [1, RATE - 1, RATE, RATE + 1, 2 * RATE + 3]) {
    const pieces = [data.subarray(0, cut), data.subarray(cut)];
    if (hash(S, pieces) !== hash(WasmSponge, [data])) return undefined;
  }
  // the lanes, as many as a call takes, each from a state of its own on a piece of its own length
  const states = Array.from({ length: 64 }, (_, i) => Uint8Array.from({ length: STATE_BYTES }, (_, j) => (i * 7 + j) & 0xff));
  const pieces = states.map((_, i) => data.subarray(i % 5, (i % 5) + (i % 4) * RATE));
  const one = states.map((state, i) => {
    const s = state.slice();
    addon.absorb(s, pieces[i]!);
    return hex(s);
  });
  addon.absorbLanes(states, pieces);
  if (states.some((s, i) => hex(s) !== one[i])) return undefined;
  return { Sponge: S, implementation, addon };
}

const native = loadNative();
const SpongeImpl: new () => Sponge = native?.Sponge ?? WasmSponge;

/** Which implementation hashes in this process. */
export const KECCAK_IMPLEMENTATION: 'avx512' | 'openssl' | 'wasm' = native?.implementation ?? 'wasm';

/** The addon, when it hashes here. */
export const NATIVE_KECCAK: NativeKeccak | undefined = native?.addon;

/**
 * Below this many bytes the WebAssembly hasher is the quicker one (a 200-byte ticket hash: 2.2 µs against
 * 3.2 µs through the addon, whose calls and copies cost more than the permutations they save).
 */
export const SMALL_INPUT = 1024;

/** keccak-256 of the concatenation of `parts` (32 bytes). */
export function keccak256(...parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  if (size < SMALL_INPUT) {
    hasher.init();
    for (const p of parts) hasher.update(p);
    return hasher.digest('binary');
  }
  const s = new SpongeImpl();
  for (const p of parts) s.update(p);
  return s.digest();
}

/**
 * keccak-256 fed piece by piece, e.g. a segment while it is being written, so that its hash is ready the
 * moment it is complete. Any number of streams hash side by side.
 */
export class Keccak256Stream {
  readonly #sponge = new SpongeImpl();

  update(bytes: Uint8Array): void {
    this.#sponge.update(bytes);
  }

  /** The hash of everything given so far (32 bytes). */
  digest(): Uint8Array {
    return this.#sponge.digest();
  }
}
