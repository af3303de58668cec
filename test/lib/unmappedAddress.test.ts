import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipScope } from '../../src/lib/addressScope.ts';
import { unmapIPv4 } from '../../src/lib/unmappedAddress.ts';
import { isInternalAddress } from '../../src/net/renditionSource.ts';
import { TrustedProxies } from '../../src/tenancy/clientAddress.ts';

// one address, as a socket, a URL and a hand-written header may spell it
const LOOPBACK_SPELLINGS = [
  '::ffff:127.0.0.1',
  '::FFFF:127.0.0.1',
  '::ffff:7f00:1',
  '::ffff:7F00:0001',
  '0:0:0:0:0:ffff:7f00:1',
  '0000:0000:0000:0000:0000:ffff:127.0.0.1',
];

describe('unmapIPv4', () => {
  it('an IPv4-mapped IPv6 address, however written, is its IPv4 address', () => {
    for (const a of LOOPBACK_SPELLINGS) assert.equal(unmapIPv4(a), '127.0.0.1', a);
    assert.equal(unmapIPv4('::ffff:c000:207'), '192.0.2.7');
    assert.equal(unmapIPv4('::ffff:192.0.2.7'), '192.0.2.7');
  });

  it('anything else is returned as is', () => {
    for (const a of ['192.0.2.7', '::1', '2001:db8::1', 'fe80::1%eth0', '64:ff9b::192.0.2.7', '::192.0.2.7', '::fffe:7f00:1', '', 'garbage', '0x7f.1', '1']) {
      assert.equal(unmapIPv4(a), a, a);
    }
  });
});

describe('a mapped address written in hex is the IPv4 address it maps, wherever who a peer is matters', () => {
  it('a listen address: loopback, private or public by its IPv4 address', () => {
    for (const a of LOOPBACK_SPELLINGS) assert.equal(ipScope(a), 'loopback', a);
    assert.equal(ipScope('::ffff:a00:1'), 'private');
    assert.equal(ipScope('::ffff:c633:6407'), 'public');
  });

  it('a rendition host: internal by its IPv4 address', () => {
    for (const a of [...LOOPBACK_SPELLINGS, '::ffff:a9fe:a9fe', '0:0:0:0:0:ffff:a9fe:a9fe']) assert.equal(isInternalAddress(a), true, a);
    assert.equal(isInternalAddress('::ffff:c633:6407'), false);
  });

  it('a trusted proxy named as IPv4 is trusted however the socket or a hop writes it; a header cannot pick a bucket by spelling', () => {
    const proxies = new TrustedProxies('127.0.0.1');
    for (const a of LOOPBACK_SPELLINGS) assert.equal(proxies.has(a), true, a);
    // through the proxy: the client is the hop before it, as its IPv4 address
    assert.equal(proxies.clientAddress('::ffff:7f00:1', '0:0:0:0:0:ffff:c633:6407'), '198.51.100.7');
    // not through a proxy: the header is not read
    assert.equal(new TrustedProxies('10.0.0.1').clientAddress('::ffff:c633:6407', '192.0.2.1'), '198.51.100.7');
  });
});
