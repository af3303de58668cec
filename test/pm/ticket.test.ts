import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashMessage, zeroAddress, zeroHash, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { isWinningTicket, recipientRandHash, signTicket, ticketAuxData, ticketHash, ticketPreimage, type Ticket } from '../../src/pm/ticket.ts';
import { privateKeySigner, recoverPersonalSigner } from '../../src/pm/signer.ts';

const zero: Ticket = {
  recipient: zeroAddress,
  sender: zeroAddress,
  faceValue: 0n,
  winProb: 0n,
  senderNonce: 0n,
  recipientRandHash: zeroHash,
  creationRound: 0n,
  creationRoundBlockHash: zeroHash,
};
const H = '0x41b1a0649752af1b28b3dc29a1556eee781e4a4c3a1f7f53f90fa834de098c4d' as const;

describe('ticket hash (go-livepeer pm/ticket_test.go vectors)', () => {
  const vectors: [Partial<Ticket>, string][] = [
    [{ senderNonce: 4294967295n }, 'e1393fc7f6de093780674022f96cb8e3872235167d037c04d554e58c0e63d280'],
    [{ senderNonce: 1n }, 'ce0918ba94518293e9712effbe5fca4f1f431089833a5b8c257cb1e024595f68'],
    [{ faceValue: 1n, winProb: 500n }, '87ef13f2d37e4d5352a01d3c77b8179d80e0887f1953bfabfd0bfd7b0f689ddd'],
    [{ faceValue: 500n, winProb: 1n }, 'aa4b35071043587992ac8b9dd1b2cf1d8311130e6458cf0b2342484e21af5f5b'],
    [{ recipient: '0x73AEd7b5dEb30222fa896f399d46cC99c7BEe57F' }, '81e353ae39046e2b77b9f996abbaeed527fda559b61ef90f299c4499dd508ccc'],
    [{ recipientRandHash: H }, 'be5eaf9a49a39540b9bb02f1a21904f61324a29819e2c032824bfaa10c100b17'],
    [{ creationRound: 10n, creationRoundBlockHash: H }, 'e502907c16036ab3d11b78c5a2e93c20f3d6415c67f91de4ed01348182b3b2e2'],
  ];
  for (const [fields, expected] of vectors) {
    it(`${JSON.stringify(fields, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`, () => {
      assert.equal(ticketHash({ ...zero, ...fields }), `0x${expected}`);
    });
  }

  it('auxData is 64 bytes unless both round and hash are zero', () => {
    assert.equal(ticketAuxData(zero), '0x');
    assert.equal(ticketPreimage(zero).length, 168);
    assert.equal(ticketPreimage({ ...zero, creationRound: 10n, creationRoundBlockHash: H }).length, 232);
    // a half-zero pair is still encoded in full
    assert.equal(ticketAuxData({ creationRound: 0n, creationRoundBlockHash: H }).length, 2 + 128);
    assert.equal(ticketAuxData({ creationRound: 3n, creationRoundBlockHash: zeroHash }).length, 2 + 128);
  });
});

describe('ticket signature', () => {
  const key = '0x0000000000000000000000000000000000000000000000000000000000000001' as const;
  const signer = privateKeySigner(key);
  const ticket: Ticket = {
    recipient: '0x73AEd7b5dEb30222fa896f399d46cC99c7BEe57F',
    sender: signer.address,
    faceValue: 1_000_000_000_000_000n,
    winProb: 1n << 250n,
    senderNonce: 1n,
    recipientRandHash: H,
    creationRound: 10n,
    creationRoundBlockHash: H,
  };

  it('is deterministic (RFC 6979): known key + ticket gives known bytes', () => {
    assert.equal(ticketHash(ticket), '0xfc65af4138b3e14f3da59caa397d9f6363e2a31fc473ce6a921bddb673af1faf');
    assert.equal(
      signTicket(signer, ticket),
      '0x26d2a39b59459ec5f31aeb32e7c86687fbbb0b1fb9a44210a822f811b49f78f13f77303bf2b5a43e317bd2f3bfd461f2ceeadeb71e57e1eab30f03f02c8a8be71b',
    );
  });

  it('matches viem signMessage over the raw 32 bytes, not over the hex text', async () => {
    const account = privateKeyToAccount(key);
    const hash = ticketHash(ticket);
    const sig = signTicket(signer, ticket);
    assert.equal(sig, await account.signMessage({ message: { raw: hash } }));
    assert.notEqual(sig, await account.signMessage({ message: hash }));
    assert.equal(recoverPersonalSigner(hash, sig), signer.address);
  });

  it('is 65 bytes with v 27/28 and low s', () => {
    for (let n = 1n; n <= 20n; n++) {
      const sig = signTicket(signer, { ...ticket, senderNonce: n });
      assert.equal(sig.length, 2 + 130);
      assert.ok([27, 28].includes(parseInt(sig.slice(-2), 16)));
      const s = BigInt(`0x${sig.slice(66, 130)}`);
      assert.ok(s <= 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n);
    }
  });

  it('refuses to sign a ticket whose sender is another account', () => {
    assert.throws(() => signTicket(signer, { ...ticket, sender: zeroAddress }), /not the signing account/);
  });
});

describe('personal-sign verification (go-livepeer crypto/verify_test.go vectors)', () => {
  const msg = '0xb7da355477356fc4c47fcabcf232dc77a6db9b07b7e48b76261cc55cc8fbabb3' as const;
  const sig = '0x206443228e8f784bc3a122de0d85eb3ebff82d6a79cca26c7eeb907099a6404f6dff57bc6828f28bd6cd073c89d94cf3364204679ed8365fa45b5ee6af19a9841c' as const;
  it('digest and recovery', () => {
    assert.equal(hashMessage({ raw: msg }), '0x1288735ecfc69223aebf1e4550f8b609241a2a5097d9b34ca50f929e1b8acb6c');
    assert.equal(recoverPersonalSigner(msg, sig), '0x3BadDb1eeE2105893136A3F96c8a963E9C6309d6');
  });
  it('rejects high s, short signatures and v 0/1', () => {
    const high = '0xe742ff452d41413616a5bf43fe15dd88294e983d3d36206c2712f39083d638bde0a0fc89be718fbc1033e1d30d78be1c68081562ed2e97af876f286f3453231d1b';
    assert.throws(() => recoverPersonalSigner(msg, high), /s value too high/);
    assert.throws(() => recoverPersonalSigner(msg, sig.slice(0, 130) as Hex), /length 64/);
    assert.throws(() => recoverPersonalSigner(msg, `${sig.slice(0, 130)}01` as Hex), /v value 1/);
  });
});

describe('win test (go-livepeer pm/validator_test.go vector)', () => {
  const foo = new TextEncoder().encode('foo');
  it('recipientRand 10, sig "foo"', () => {
    assert.equal(recipientRandHash(10n), '0xc65a7bb8d6351c1cf70c95a316cc6a92839c986682d98bc35f958f4883f9d2a8');
    assert.equal(isWinningTicket(foo, 10n, 0n), false);
    assert.equal(isWinningTicket(foo, 10n, (1n << 256n) - 1n), true);
    // keccak256(foo ‖ be32(10)) = 0x2121…6810: strict less-than at the boundary
    const h = 0x212117bf5ec66d480ab4d362ce2f1ae19d6b5df92c5f8633bcecf62bfaea6810n;
    assert.equal(isWinningTicket(foo, 10n, h), false);
    assert.equal(isWinningTicket(foo, 10n, h + 1n), true);
  });
});
