// What one peer on the network can hold at once: an IPv4 address, or an IPv6 /64. An ISP gives each
// customer a /64 or more and a host picks any address in it (privacy addresses, one per connection if it
// likes), so a limit counted per IPv6 address limits nothing. Limits on unauthenticated callers count per
// block instead (docs/node.md).
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Bits of an IPv6 address that name the peer: the subnet a customer is given at the least. */
export const IPV6_PEER_PREFIX = 64;

/**
 * The block `address` counts against: the address itself for IPv4 (IPv4-mapped IPv6 too), the /64 it is
 * in for IPv6 ("2001:db8:1:2::/64"). Anything that is not an IP address is returned as is.
 */
export function peerBlock(address: string): string {
  // node's own test first: ipaddr.js also reads forms no socket gives ("1", "0x7f.1")
  if (isIP(address) === 0) return address;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  const parts = v6.parts.map((p, i) => (i < IPV6_PEER_PREFIX / 16 ? p : 0));
  return `${new ipaddr.IPv6(parts).toString()}/${IPV6_PEER_PREFIX}`;
}
