import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { peerBlock } from '../../src/lib/peerBlock.ts';

describe('peerBlock', () => {
  it('an IPv4 address is its own block, written as node writes it', () => {
    assert.equal(peerBlock('192.0.2.7'), '192.0.2.7');
    assert.equal(peerBlock('127.0.0.1'), '127.0.0.1');
  });

  it('an IPv4-mapped IPv6 address (a dual-stack socket) counts as its IPv4 address', () => {
    assert.equal(peerBlock('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(peerBlock('::FFFF:c000:0207'), '192.0.2.7');
  });

  it('an IPv6 address counts as its /64, whatever the host picked in it and however it is written', () => {
    const block = '2001:db8:1:2::/64';
    for (const a of ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0DB8:0001:0002:a:b:c:d', '2001:db8:1:2:0:0:0:0']) {
      assert.equal(peerBlock(a), block, a);
    }
    assert.equal(peerBlock('2001:db8:1:3::1'), '2001:db8:1:3::/64', 'the next /64 is another peer');
    assert.equal(peerBlock('2001:db8::1'), '2001:db8::/64');
    assert.equal(peerBlock('::1'), '::/64');
    // a link-local peer's zone is not part of its block
    assert.equal(peerBlock('fe80::1%eth0'), 'fe80::/64');
    // an IPv4 tail in an IPv6 address (NAT64) is in the host half
    assert.equal(peerBlock('64:ff9b::192.0.2.7'), '64:ff9b::/64');
  });

  it('what is not an IP address is returned as is (a socket that has none, garbage)', () => {
    for (const s of ['', 'unknown', '1', '0x7f.1', '999.1.1.1', '2001:db8::1::2', '2001:db8::/64']) assert.equal(peerBlock(s), s, s);
  });
});
