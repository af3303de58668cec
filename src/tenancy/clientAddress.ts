// Who is calling: the socket's address, or — only when that socket is a proxy the operator named — the
// nearest address in X-Forwarded-For that is not itself a trusted proxy. A client cannot pick its own
// anonymous bucket by sending the header straight to us.
import { BlockList, isIP } from 'node:net';
import { unmapIPv4 } from '../lib/unmappedAddress.ts';

/** Most X-Forwarded-For entries looked at (a header is bounded; a longer chain is read from its end). */
const MAX_HOPS = 32;

export class TrustedProxies {
  readonly #list = new BlockList();
  readonly size: number;

  /** `spec`: comma-separated addresses and CIDR ranges (10.0.0.0/8, ::1). Throws on anything else. */
  constructor(spec: string) {
    const items = spec
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const item of items) {
      const [addr, bits, extra] = item.split('/');
      const family = isIP(addr ?? '');
      if (!family || extra !== undefined) throw new Error(`trusted proxy "${item}" is not an IP address or CIDR range`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) this.#list.addAddress(addr!, type);
      else {
        const n = Number(bits);
        if (!/^\d{1,3}$/.test(bits) || n > (family === 4 ? 32 : 128)) throw new Error(`trusted proxy "${item}" has a bad prefix length`);
        this.#list.addSubnet(addr!, n, type);
      }
    }
    this.size = items.length;
  }

  has(addr: string): boolean {
    return this.#holds(unmapIPv4(addr));
  }

  /** has() for an address unmapIPv4() has already read. */
  #holds(unmapped: string): boolean {
    const family = isIP(unmapped);
    return family !== 0 && this.#list.check(unmapped, family === 4 ? 'ipv4' : 'ipv6');
  }

  /** The client address of a request that reached us from `remote`. */
  clientAddress(remote: string, forwardedFor: string | undefined): string {
    let client = unmapIPv4(remote);
    if (!forwardedFor || !this.#holds(client)) return client;
    const hops = forwardedFor
      .slice(0, 8192)
      .split(',')
      .slice(-MAX_HOPS)
      .map((s) => unmapIPv4(s.trim()));
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      if (!isIP(hop)) break; // garbage: stop at the last proxy we trust
      client = hop;
      if (!this.#holds(hop)) break;
    }
    return client;
  }
}
