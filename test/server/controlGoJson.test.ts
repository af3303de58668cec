// Go-compatible JSON for the control API.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rat } from '../../src/lib/rat.ts';
import { goJson } from '../../src/server/goJson.ts';

test('big integers are bare numbers, exact beyond 2^53', () => {
  assert.equal(goJson({ Deposit: 10n ** 18n, WithdrawRound: 0n }), '{"Deposit":1000000000000000000,"WithdrawRound":0}');
  assert.equal(goJson([2n ** 256n - 1n]), '[115792089237316195423570985008687907853269984665640564039457584007913129639935]');
});

test('rationals are "num/den" like *big.Rat; null stays null; undefined fields are left out', () => {
  assert.equal(
    goJson({ PricePerPixel: rat(1200n), Half: rat(2n, 4n), Missing: null, Gone: undefined }),
    '{"PricePerPixel":"1200/1","Half":"1/2","Missing":null}',
  );
});

test('strings escape <, >, & as Go does; maps get sorted keys; bytes are base64', () => {
  assert.equal(goJson({ ServiceURI: 'https://a/?x=1&y=<2>' }), '{"ServiceURI":"https://a/?x=1\\u0026y=\\u003c2\\u003e"}');
  assert.equal(
    goJson(
      new Map([
        ['b', 1],
        ['a', 2],
      ]),
    ),
    '{"a":2,"b":1}',
  );
  assert.equal(goJson({ Sig: Uint8Array.from([1, 2, 3]) }), '{"Sig":"AQID"}');
  assert.equal(goJson({ n: 1.5, t: true, s: [] }), '{"n":1.5,"t":true,"s":[]}');
  assert.equal(goJson(undefined), 'null');
});
