import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OrchSession } from '../../src/discovery/sessionPool.ts';
import { bigintToMinimalBytes } from '../../src/lib/bytes.ts';
import { AUTH_TOKEN_REFRESH_MS, sessionNeedsRefresh } from '../../src/node/transcodeSegment.ts';

const session = (expirationS: bigint, expirationBlock?: bigint): OrchSession => ({
  uri: 'https://o:8935',
  transcoder: 'https://o:8935',
  stake: 0n,
  trusted: true,
  latencyMs: 1,
  info: {
    authToken: { token: new Uint8Array([1]), sessionId: 's', expiration: expirationS },
    ...(expirationBlock !== undefined ? { ticketParams: { expirationBlock: bigintToMinimalBytes(expirationBlock) } } : {}),
  },
});

describe('session refresh before a segment', () => {
  const now = 1_700_000_000_000;
  it('refreshes when the auth token is within 3 minutes of expiry', () => {
    assert.equal(sessionNeedsRefresh(session(BigInt(now / 1000) + 600n), now), undefined);
    assert.equal(sessionNeedsRefresh(session(BigInt((now + AUTH_TOKEN_REFRESH_MS) / 1000) - 1n), now), 'auth token expiring');
  });
  it('refreshes when ticket params expire within one block (on-chain)', () => {
    const fresh = BigInt(now / 1000) + 1800n;
    assert.equal(sessionNeedsRefresh(session(fresh, 140n), now, 100n), undefined);
    assert.equal(sessionNeedsRefresh(session(fresh, 101n), now, 100n), 'ticket params expired');
    assert.equal(sessionNeedsRefresh(session(fresh, 101n), now), undefined, 'off-chain: no block rule');
  });
});
