// What one peer on the network can hold at once: an IPv4 address, or an IPv6 /64. An ISP gives each
// customer a /64 or more and a host picks any address in it (privacy addresses, one per connection if it
// likes), so a limit counted per IPv6 address limits nothing. Limits on unauthenticated callers count per
// block instead (docs/node.md).
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { unmapIPv4 } from './unmappedAddress.ts';

/** Bits of an IPv6 address that name the peer: the subnet a customer is given at the least. */
export const IPV6_PEER_PREFIX = 64;

/**
 * The block `address` counts against: the address itself for IPv4 (IPv4-mapped IPv6 too), the /64 it is
 * in for IPv6 ("2001:db8:1:2::/64"). Anything that is not an IP address is returned as is.
 */
export function peerBlock(address: string): string {
  const unmapped = unmapIPv4(address);
  // node's own test first: ipaddr.js also reads forms no socket gives ("1", "0x7f.1")
  const family = isIP(unmapped);
  if (family === 0) return address;
  if (family === 4) return unmapped;
  const parts = ipaddr.IPv6.parse(unmapped).parts.map((p, i) => (i < IPV6_PEER_PREFIX / 16 ? p : 0));
  return `${new ipaddr.IPv6(parts).toString()}/${IPV6_PEER_PREFIX}`;
}
