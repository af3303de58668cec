// Session credentials: HMAC-SHA256 over (session id ‖ minimal bytes of expiration) with a secret
// drawn at start-up, so a restart invalidates every token, as with go-livepeer.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuthToken } from '../../../src/wire/lpRpc.ts';
import { bigintToMinimalBytes } from '../../../src/lib/bytes.ts';

export const AUTH_TOKEN_VALIDITY_S = 30 * 60;

export class AuthTokens {
  private readonly secret = randomBytes(32);

  private mac(sessionId: string, expiration: bigint): Buffer {
    const exp = expiration < 0n ? new Uint8Array(0) : bigintToMinimalBytes(expiration);
    return createHmac('sha256', this.secret).update(Buffer.from(sessionId, 'utf8')).update(exp).digest();
  }

  /** A new session: 8 random hex characters, valid for 30 minutes. */
  issue(nowMs = Date.now()): AuthToken {
    const sessionId = randomBytes(4).toString('hex');
    const expiration = BigInt(Math.floor(nowMs / 1000) + AUTH_TOKEN_VALIDITY_S);
    return { token: this.mac(sessionId, expiration), sessionId, expiration };
  }

  /** True when the token is ours (ignores expiry). */
  valid(t: AuthToken): boolean {
    const token = t.token ?? new Uint8Array(0);
    const expected = this.mac(t.sessionId ?? '', t.expiration ?? 0n);
    return token.length === expected.length && timingSafeEqual(token, expected);
  }

  expired(t: AuthToken, nowMs = Date.now()): boolean {
    return BigInt(Math.floor(nowMs / 1000)) > (t.expiration ?? 0n);
  }
}
