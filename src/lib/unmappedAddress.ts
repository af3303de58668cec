// An IPv4 peer reaching a dual-stack socket shows as an IPv4-mapped IPv6 address (::ffff:192.0.2.7), and
// a URL or a proxy header may write the same address in hex (::ffff:c000:207) or in full. Every check of
// who a peer is (its limits, its scope, whether it is internal) reads it as the IPv4 address it is.
import { isIP } from 'node:net';

/** The IPv4 address an IPv4-mapped IPv6 address stands for, in any of its spellings; anything else as is. */
export function unmapIPv4(address: string): string {
  // (a zone belongs to a link-local address, never to a mapped one)
  if (isIP(address) !== 6 || address.includes('%')) return address;
  // The URL parser writes an IPv6 address one way (RFC 5952, hex). Not ipaddr.js here: it reads the
  // IPv4-compatible ::192.0.2.7, another address, as mapped.
  let host: string;
  try {
    host = new URL(`http://[${address}]/`).hostname;
  } catch {
    return address;
  }
  const m = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(host);
  if (!m) return address;
  const hi = Number.parseInt(m[1]!, 16);
  const lo = Number.parseInt(m[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}
