// Who can reach a listen address: only this machine (loopback), a private network (RFC 1918, unique
// local, link-local, carrier-grade NAT — e.g. a Docker network name), or anyone (public). A name is
// resolved; the unspecified address (0.0.0.0, ::) is as public as the widest interface of the machine.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { unmapIPv4 } from './unmappedAddress.ts';

export type AddressScope = 'loopback' | 'private' | 'public';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['169.254.0.0', 16],
  ['100.64.0.0', 10],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');
PRIVATE.addSubnet('fe80::', 10, 'ipv6');

/** The scope of one IP address (IPv4-mapped IPv6 counts as its IPv4 address). */
export function ipScope(ip: string): AddressScope {
  const addr = unmapIPv4(ip);
  const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
  if (LOOPBACK.check(addr, family)) return 'loopback';
  if (PRIVATE.check(addr, family)) return 'private';
  return 'public';
}

const RANK: Record<AddressScope, number> = { loopback: 0, private: 1, public: 2 };
const widest = (scopes: AddressScope[]): AddressScope => scopes.reduce((a, b) => (RANK[b] > RANK[a] ? b : a), 'loopback');

/** The widest scope a listener bound to `host` is reachable from. */
export async function listenScope(host: string): Promise<AddressScope> {
  if (host === 'localhost') return 'loopback';
  if (host === '0.0.0.0' || host === '::' || host === '') {
    const addrs = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i !== undefined && (host !== '0.0.0.0' || i.family === 'IPv4'))
      .map((i) => i!.address);
    return widest(addrs.map(ipScope));
  }
  if (isIP(host)) return ipScope(host);
  const resolved = await lookup(host, { all: true }).catch(() => []);
  // A name that does not resolve here cannot be bound either; listen() will say so.
  return widest(resolved.map((r) => ipScope(r.address)));
}
