// Wei amounts as operators and forms write them: exact values, and one clear message for everything else.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rat } from '../../src/lib/rat.ts';
import { parseEther, parseWei, parseWeiRat, WeiAmountError } from '../../src/lib/wei.ts';

const refused = (fn: () => unknown, message: string) =>
  assert.throws(fn, (e: Error) => e instanceof WeiAmountError && e.code === 'WEI_AMOUNT_INVALID' && e.message === message);

test('whole wei: exact beyond 2^53; anything else refused with the field named', () => {
  assert.equal(parseWei('-maxGasPrice:', ' 123456789012345678901234567890 '), 123456789012345678901234567890n);
  assert.equal(parseWei('x', '0'), 0n);
  for (const bad of ['', '-1', '1.5', '1e18', '0x10', '+1', '1 000', 'NaN'])
    refused(() => parseWei('amount', bad), `amount ${JSON.stringify(bad)} is not a whole number of wei`);
});

test('rational wei: whole, decimal or fraction; no zero denominator', () => {
  assert.deepEqual(parseWeiRat('-maxTicketEV:', '3000000000000'), rat(3_000_000_000_000n));
  assert.deepEqual(parseWeiRat('-maxTicketEV:', '1.5'), rat(3n, 2n));
  assert.deepEqual(parseWeiRat('-maxTicketEV:', '6/4'), rat(3n, 2n));
  for (const bad of ['', '-1', '1/0', '1.', '.5', '1/-2', '1e3']) {
    refused(() => parseWeiRat('-maxTicketEV:', bad), `-maxTicketEV: ${JSON.stringify(bad)} is not a non-negative amount of wei`);
  }
});

test('ETH: exact wei, at most 18 decimals', () => {
  assert.equal(parseEther('--deposit', '0.05'), 5n * 10n ** 16n);
  assert.equal(parseEther('--deposit', '.5'), 5n * 10n ** 17n);
  assert.equal(parseEther('--deposit', '2.'), 2n * 10n ** 18n);
  assert.equal(parseEther('--deposit', '0.000000000000000001'), 1n);
  refused(() => parseEther('--deposit', '-1'), '--deposit "-1" is not an amount of ETH (a decimal number ≥ 0, e.g. 0.05)');
  refused(() => parseEther('--deposit', '.'), '--deposit "." is not an amount of ETH (a decimal number ≥ 0, e.g. 0.05)');
  refused(
    () => parseEther('--reserve', '0.0000000000000000001'),
    '--reserve 0.0000000000000000001 has more than 18 decimals (1 wei = 0.000000000000000001 ETH)',
  );
});
