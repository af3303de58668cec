// Where a TranscodeResult may send us for rendition bytes. An orchestrator picks the URLs, so without a
// rule it could make the gateway GET anything the gateway can reach: its own control API on loopback,
// a router's admin page, a cloud metadata address. Rule: the orchestrator's own transcoder origin, or a
// host the operator lists (-renditionHosts, e.g. an object store); and never a loopback, private or
// link-local address unless the orchestrator itself sits on one (a devnet). The check is made on the
// resolved address, and the connection is pinned to it, so DNS cannot swap in 127.0.0.1 afterwards.
import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookupAsync } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { GatewayError } from '../lib/errors.ts';
import { unmapIPv4 } from '../lib/unmappedAddress.ts';

/** A rendition URL the gateway will not fetch; the orchestrator that sent it is at fault. */
export class RenditionSourceError extends GatewayError {
  constructor(message: string) {
    super(message, { code: 'RENDITION_SOURCE_REFUSED' });
  }
}

// Addresses no public orchestrator or object store has any business sending us to.
const INTERNAL = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  INTERNAL.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  INTERNAL.addSubnet(net, prefix, 'ipv6');

/** Loopback, private, link-local, carrier-NAT, multicast or unspecified (IPv4-mapped IPv6 included). */
export function isInternalAddress(address: string): boolean {
  // (a URL writes a mapped address in hex, ::ffff:7f00:1)
  const addr = unmapIPv4(address);
  const family = isIP(addr);
  if (family === 0) return true;
  return INTERNAL.check(addr, family === 4 ? 'ipv4' : 'ipv6');
}

const bareHost = (hostname: string): string => hostname.replace(/^\[|\]$/g, '').toLowerCase();

async function resolveAll(hostname: string): Promise<LookupAddress[]> {
  const host = bareHost(hostname);
  if (isIP(host)) return [{ address: host, family: isIP(host) }];
  try {
    return await dnsLookupAsync(host, { all: true });
  } catch (err) {
    throw new RenditionSourceError(`rendition host ${host} does not resolve: ${(err as Error).message}`);
  }
}

/** Is the orchestrator itself on an internal address? Then its renditions may be too (a devnet). */
const orchestratorInternal = new Map<string, Promise<boolean>>();
const MAX_ORCHESTRATOR_MEMO = 1024;

function transcoderIsInternal(transcoder: URL): Promise<boolean> {
  const key = bareHost(transcoder.hostname);
  let p = orchestratorInternal.get(key);
  if (!p) {
    if (orchestratorInternal.size >= MAX_ORCHESTRATOR_MEMO) orchestratorInternal.clear();
    p = resolveAll(key).then(
      (all) => all.some((a) => isInternalAddress(a.address)),
      () => false,
    );
    orchestratorInternal.set(key, p);
    // A name may move; a minute of memo is plenty for a segment's renditions.
    setTimeout(() => orchestratorInternal.delete(key), 60_000).unref();
  }
  return p;
}

/** How a permitted rendition URL is fetched: pinned to the address that was checked, when it came from DNS. */
export interface RenditionTarget {
  url: URL;
  /** the checked address; connections use it instead of resolving the name again */
  pinned?: LookupAddress;
}

/**
 * Checks one rendition URL against the policy. `transcoderUri` is OrchestratorInfo.transcoder;
 * `allowedHosts` the operator's -renditionHosts (host names, or host:port).
 */
export async function checkRenditionSource(raw: string, transcoderUri: string, allowedHosts: readonly string[] = []): Promise<RenditionTarget> {
  let url: URL;
  let transcoder: URL;
  try {
    url = new URL(raw);
    transcoder = new URL(transcoderUri);
  } catch {
    throw new RenditionSourceError(`rendition URL "${raw.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RenditionSourceError(`rendition URL scheme ${url.protocol} is not http(s)`);
  if (url.username || url.password) throw new RenditionSourceError('rendition URL carries credentials');
  // The orchestrator's own origin: the same server we already sent the segment (and the payment) to.
  if (url.origin === transcoder.origin) return { url };
  const host = bareHost(url.hostname);
  const listed = allowedHosts.some((h) => {
    // compared as URLs normalise them (IPv6 forms, default ports)
    const want = URL.canParse(`${url.protocol}//${h}/`) ? new URL(`${url.protocol}//${h}/`) : undefined;
    return want !== undefined && (want.host === url.host || (want.port === '' && want.hostname === url.hostname));
  });
  if (!listed) {
    throw new RenditionSourceError(`rendition URL host ${url.host} is neither the orchestrator's origin ${transcoder.origin} nor in -renditionHosts`);
  }
  const addresses = await resolveAll(host);
  const internal = addresses.filter((a) => isInternalAddress(a.address));
  if (internal.length > 0 && !(await transcoderIsInternal(transcoder))) {
    throw new RenditionSourceError(`rendition host ${host} resolves to internal address ${internal[0]!.address}`);
  }
  const pinned = addresses[0];
  if (!pinned) throw new RenditionSourceError(`rendition host ${host} has no address`);
  return isIP(host) ? { url } : { url, pinned };
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for net/tls connections that answers with the checked address only. */
export function pinnedLookup(pinned: LookupAddress): (hostname: string, options: { all?: boolean }, cb: LookupCallback) => void {
  return (_hostname, options, cb) => {
    if (options?.all) cb(null, [pinned]);
    else cb(null, pinned.address, pinned.family);
  };
}
