// An RTMP connection costs us before anyone has authenticated it: a socket, its protocol state, and the room
// its chunk headers announce for messages. Until it is admitted (its publish accepted, or its play of a live
// stream) it is counted here, per peer (an IPv4 address or an IPv6 /64: lib/peerBlock.ts) and in all, and the
// message room of all such connections together is bounded: one peer cannot hold the port's sockets, and
// many cannot hold more memory than the budget while their publishes wait for the auth webhook (docs/node.md §3.2).
import { peerBlock } from '../lib/peerBlock.ts';

export interface RtmpAdmissionLimits {
  /** Connections not yet admitted from one peer: an IPv4 address, or an IPv6 /64 (a host may use any address in it). */
  readonly perAddress: number;
  /** Connections not yet admitted, from everyone. */
  readonly total: number;
  /** Bytes of message room all connections not yet admitted may hold together. */
  readonly room: number;
}

export const DEFAULT_RTMP_ADMISSION: RtmpAdmissionLimits = { perAddress: 32, total: 512, room: 64 << 20 };

/** The port's count of connections not yet admitted, and their shared message room. */
export class RtmpAdmission {
  readonly limits: RtmpAdmissionLimits;
  /** per peer block (peerBlock()) */
  readonly #byPeer = new Map<string, number>();
  #total = 0;
  #room = 0;

  constructor(limits: Partial<RtmpAdmissionLimits> = {}) {
    this.limits = { ...DEFAULT_RTMP_ADMISSION, ...limits };
  }

  /** A connection from `address` arrived: false, and nothing counted, when it is one too many. */
  enter(address: string): boolean {
    const peer = peerBlock(address);
    const fromPeer = this.#byPeer.get(peer) ?? 0;
    if (fromPeer >= this.limits.perAddress || this.#total >= this.limits.total) return false;
    this.#byPeer.set(peer, fromPeer + 1);
    this.#total++;
    return true;
  }

  /** A connection counted by enter() was admitted or closed: its place and the room it took are given back. */
  leave(address: string, room: number): void {
    const peer = peerBlock(address);
    const fromPeer = this.#byPeer.get(peer) ?? 0;
    if (fromPeer <= 1) this.#byPeer.delete(peer);
    else this.#byPeer.set(peer, fromPeer - 1);
    this.#total = Math.max(0, this.#total - 1);
    this.#room = Math.max(0, this.#room - room);
  }

  /** Takes `bytes` of the shared room for a connection not yet admitted: false, and nothing taken, past the budget. */
  takeRoom(bytes: number): boolean {
    if (this.#room + bytes > this.limits.room) return false;
    this.#room += bytes;
    return true;
  }

  /** Connections not yet admitted and the room they hold, for logs and tests. */
  usage(): { connections: number; room: number } {
    return { connections: this.#total, room: this.#room };
  }
}
