// `livepeer-gateway deposit …` end to end through the real CLI entry against the devnet:
// fund → info → unlock → wait out the unlock period → withdraw, cancel-unlock, and every refusal.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { formatEther, parseEther, type Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { devnetTestClient } from '../../scripts/devnet/chain.ts';
import { mineToNextRound } from '../../scripts/devnet/deploy.ts';
import { parseEthAmount, parsePrice } from '../../src/cli/deposit.ts';
import { main } from '../../src/cli/main.ts';
import { ratString } from '../../src/lib/rat.ts';
import { withDevnet } from '../helpers/devnet.ts';
import { captureIo, closedPort, tempKeystore } from '../eth/helpers.ts';

const devnet = withDevnet({ resetEach: true });
const keystores: string[] = [];
after(async () => {
  for (const k of keystores) await rm(k, { recursive: true, force: true });
});

async function keystoreFor(privateKey: Hex): Promise<string> {
  const dir = await tempKeystore(privateKey, 'pw');
  keystores.push(dir);
  return dir;
}

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(args: string[]): Promise<Run> {
  const io = captureIo();
  const code = await main(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

async function flags(privateKey: Hex, ethUrl = devnet.rpcUrl): Promise<string[]> {
  return [
    '-network',
    'devnet',
    '-ethUrl',
    ethUrl,
    '-ethController',
    devnet.contracts.controller,
    '-ethKeystorePath',
    await keystoreFor(privateKey),
    '-ethPassword',
    'pw',
  ];
}

function ok(r: Run): Run {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout:\n${r.out}\nstderr:\n${r.err}`);
  return r;
}

function fails(r: Run, message: string | RegExp): void {
  assert.equal(r.code, 1, `expected failure; stdout:\n${r.out}`);
  if (typeof message === 'string') assert.equal(r.err, `livepeer-gateway: ${message}\n`);
  else assert.match(r.err, message);
}

describe('deposit commands', () => {
  test('fund → info → unlock → (unlock period) → withdraw', async () => {
    const b = devnet.accounts.broadcaster;
    const f = await flags(b.privateKey);
    const balance0 = await devnet.publicClient.getBalance({ address: b.address });

    // --dry-run simulates and prints the plan, with the chain and the contract the money would go to; sends nothing
    let r = ok(await cli(['deposit', 'fund', ...f, '--deposit', '0.1', '--reserve', '0.05', '--dry-run']));
    assert.match(r.out, new RegExp(`Chain {11}chain id 42161, TicketBroker ${devnet.contracts.ticketBroker}\n`));
    assert.match(r.out, /Dry run: the transaction was simulated and its gas estimated; nothing sent\.\n$/);
    assert.equal(await devnet.publicClient.getBalance({ address: b.address }), balance0, 'nothing was sent');

    r = ok(await cli(['deposit', 'fund', ...f, '--deposit', '0.1', '--reserve', '0.05', '--yes']));
    assert.match(r.out, /Action {10}fund 0\.1 ETH deposit and 0\.05 ETH reserve\n/);
    assert.match(r.out, /After {11}deposit 0\.1 ETH, reserve 0\.05 ETH \(Locked: usable for payments\)\n/);
    assert.match(r.out, /Gas {13}about \d+ gas at [\d.]+ gwei ≈ [\d.]+ ETH \(at most [\d.]+ ETH\); sends 0\.15 ETH\n/);
    assert.match(r.out, /Sent transaction 0x[0-9a-f]{64}; waiting for it to be mined/);
    assert.match(r.out, /Transaction {5}0x[0-9a-f]{64}\nNow {13}deposit 0\.1 ETH, reserve 0\.05 ETH \(Locked: usable for payments\)\n$/);

    r = ok(await cli(['deposit', 'info', ...f, '--price', '1200']));
    assert.match(r.out, new RegExp(`Account {9}${b.address}\n`));
    assert.match(r.out, /Deposit {9}0\.1 ETH\nReserve {9}0\.05 ETH\n/);
    assert.match(r.out, /Status {10}Locked: usable for payments; `deposit unlock` starts a 2-round unlock period\n/);
    // 2 s of P240p30fps16x9 + P360p30fps16x9 = (426×240 + 640×360) × 30 × 2 pixels × 1.02 × 1200 wei, × 1800 segments.
    assert.match(r.out, /Cost {12}about 0\.000043972 ETH per hour of one stream \(P240p30fps16x9, P360p30fps16x9; 2 s segments at 1200 wei\/pixel\)\n/);
    assert.match(r.out, /Deposit lasts {3}about 2274\.1 hours of one stream \(94\.7 days\)\n/);
    assert.match(r.out, /Pool {12}3 orchestrators; each may claim 0\.016666666666666666 ETH of the reserve per round/);
    assert.match(r.out, /Max face value {2}orchestrators will cap face values at 0\.016666666666666666 ETH \(your reserve share\)/);
    assert.match(r.out, /Deposit check {3}the deposit covers 6 winning tickets of 0\.016666666666666666 ETH\n$/);
    // the runway at the pace a running gateway measured (its /status Money block): 0.01 ETH an hour
    const gateway = createServer((_req, res) => res.end(JSON.stringify({ Money: { PerHourWei: parseEther('0.01').toString() } })));
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    const cliAddr = `127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    r = ok(await cli(['deposit', 'info', ...f, '-cliAddr', cliAddr]));
    gateway.close();
    assert.match(
      r.out,
      new RegExp(`Runway {10}about 10\\.0 hours at the last hour's spend \\(0\\.01 ETH per hour, measured by the gateway at http://${cliAddr}\\)\n`),
    );
    r = ok(await cli(['deposit', 'info', ...f, '-cliAddr', `127.0.0.1:${await closedPort()}`]));
    assert.match(r.out, /Runway {10}no running gateway answered at http:\/\/127\.0\.0\.1:\d+ \(-cliAddr\) to measure the last hour's spend\n/);
    r = ok(await cli(['deposit', 'info', ...f, '-depositMultiplier', '10']));
    assert.match(
      r.out,
      /Deposit check {3}the gateway accepts face values up to 0\.01 ETH \(deposit ÷ -depositMultiplier 10\), below the 0\.016666666666666666 ETH orchestrators offer: it will refuse their tickets; fund more deposit\n$/,
    );

    r = ok(await cli(['deposit', 'unlock', ...f, '--yes']));
    assert.match(r.out, /Note {12}orchestrators stop accepting tickets from this account from round 2; withdraw is possible from round 3/);
    assert.match(r.out, /Now {13}deposit 0\.1 ETH, reserve 0\.05 ETH \(Unlocking: withdraw from round 3, about \d+ minutes?\)\n$/);

    // Still unlocking.
    fails(
      await cli(['deposit', 'withdraw', ...f, '--yes']),
      /^livepeer-gateway: funds unlock in round 3, now round 1, about \d+ minutes?; withdraw after that\n$/,
    );
    r = ok(await cli(['deposit', 'info', ...f]));
    assert.match(r.out, /Status {10}Unlocking: withdraw from round 3 \(now round 1, about \d+ minutes?\)/);

    await mineToNextRound(devnet.rpcUrl, devnet.contracts);
    await mineToNextRound(devnet.rpcUrl, devnet.contracts);
    r = ok(await cli(['deposit', 'info', ...f]));
    assert.match(r.out, /Status {10}Unlocked since round 3: `livepeer-gateway deposit withdraw` pays out the deposit and reserve\n/);

    r = ok(await cli(['deposit', 'withdraw', ...f, '--yes']));
    assert.match(r.out, new RegExp(`Action {10}withdraw 0\\.1 ETH deposit and 0\\.05 ETH reserve to ${b.address}\n`));
    assert.match(r.out, /Now {13}deposit 0 ETH, reserve 0 ETH \(Empty\)\n$/);
    const balance1 = await devnet.publicClient.getBalance({ address: b.address });
    const gasSpent = balance0 - balance1;
    assert.ok(gasSpent > 0n && gasSpent < parseEther('0.01'), `only gas is gone: ${formatEther(gasSpent)} ETH`);

    fails(await cli(['deposit', 'withdraw', ...f, '--yes']), 'nothing to withdraw: the deposit and reserve are zero');
  });

  test('cancel-unlock; unlock twice; cancel without unlock', async () => {
    const a = devnet.accounts.spare[0]!;
    const f = await flags(a.privateKey);
    ok(await cli(['deposit', 'fund', ...f, '--deposit', '1', '--yes']));
    fails(await cli(['deposit', 'cancel-unlock', ...f, '--yes']), 'no unlock in progress: there is nothing to cancel');
    ok(await cli(['deposit', 'unlock', ...f, '--yes']));
    fails(
      await cli(['deposit', 'unlock', ...f, '--yes']),
      /^livepeer-gateway: unlock already initiated: funds unlock in round 3, now round 1, about \d+ minutes?; withdraw then, or cancel it with `livepeer-gateway deposit cancel-unlock`\n$/,
    );
    const r = ok(await cli(['deposit', 'cancel-unlock', ...f, '--yes']));
    assert.match(r.out, /Action {10}cancel the unlock; the deposit and reserve stay locked and usable\n/);
    assert.match(r.out, /Now {13}deposit 1 ETH, reserve 0 ETH \(Locked: usable for payments\)\n$/);
    fails(
      await cli(['deposit', 'withdraw', ...f, '--yes']),
      'no unlock in progress: run `livepeer-gateway deposit unlock` first, then withdraw after 2 rounds',
    );
  });

  test('insufficient ETH, for the amount and for the gas', async () => {
    const key = `0x${'42'.repeat(32)}` as Hex;
    const address = privateKeyToAddress(key);
    await devnetTestClient(devnet.rpcUrl).setBalance({ address, value: parseEther('0.5') });
    const f = await flags(key);
    fails(
      await cli(['deposit', 'fund', ...f, '--deposit', '1', '--yes']),
      `insufficient ETH: ${address} has 0.5 ETH but fund 1 ETH deposit needs 1 ETH plus gas; send ETH on Arbitrum One to ${address} or use a smaller amount`,
    );
    fails(
      await cli(['deposit', 'fund', ...f, '--reserve', '0.5', '--yes']),
      new RegExp(`^livepeer-gateway: insufficient ETH: ${address} has 0\\.5 ETH; fund 0\\.5 ETH reserve needs 0\\.5 ETH plus up to [\\d.]+ ETH for gas; `),
    );
  });

  test('-maxGasPrice below the network price: refused before sending', async () => {
    const f = await flags(devnet.accounts.spare[1]!.privateKey);
    fails(
      await cli(['deposit', 'fund', ...f, '--deposit', '0.1', '-maxGasPrice', '1', '--yes']),
      /^livepeer-gateway: the network gas price is [\d.]+ gwei, above -maxGasPrice 0\.000000001 gwei; nothing was sent: try again later or raise -maxGasPrice\n$/,
    );
    const info = ok(await cli(['deposit', 'info', ...f]));
    assert.match(info.out, /Deposit {9}0 ETH\n/);
  });

  test('RPC unreachable: named without its secrets', async () => {
    const port = await closedPort();
    const f = await flags(devnet.accounts.spare[2]!.privateKey, `http://127.0.0.1:${port}/v2/SECRETKEY?apikey=xyz`);
    for (const args of [
      ['deposit', 'info', ...f],
      ['deposit', 'unlock', ...f, '--yes'],
    ]) {
      const r = await cli(args);
      fails(r, new RegExp(`^livepeer-gateway: cannot reach the Ethereum RPC at http://127\\.0\\.0\\.1:${port}/…: `));
      assert.doesNotMatch(r.err, /SECRETKEY|apikey|xyz/);
    }
  });

  test('writes need --yes when nobody can answer the question', async () => {
    const f = await flags(devnet.accounts.spare[3]!.privateKey);
    const r = await cli(['deposit', 'unlock', ...f]);
    assert.equal(r.code, 2);
    assert.equal(r.err, 'livepeer-gateway: this sends a transaction and needs a confirmation, but standard input is not a terminal: add --yes to confirm\n');
  });

  test('bad amounts are usage errors', async () => {
    const f = await flags(devnet.accounts.spare[3]!.privateKey);
    for (const [args, msg] of [
      [['--deposit', '-1'], '--deposit "-1" is not an amount of ETH (a decimal number ≥ 0, e.g. 0.05)'],
      [['--deposit', '1e18'], '--deposit "1e18" is not an amount of ETH (a decimal number ≥ 0, e.g. 0.05)'],
      [['--reserve', '0.0000000000000000001'], '--reserve 0.0000000000000000001 has more than 18 decimals (1 wei = 0.000000000000000001 ETH)'],
      [['--deposit', '0', '--reserve', '0'], 'nothing to fund: --deposit and --reserve are both 0'],
      [[], 'give --deposit <ETH> and/or --reserve <ETH>'],
    ] as const) {
      const r = await cli(['deposit', 'fund', ...f, ...args, '--yes']);
      assert.equal(r.code, 2, r.err);
      assert.equal(r.err, `livepeer-gateway: ${msg}\n`);
    }
  });
});

describe('amount parsing', () => {
  test('ETH strings become exact wei', () => {
    assert.equal(parseEthAmount('0.1', 'deposit'), 100_000_000_000_000_000n);
    assert.equal(parseEthAmount('.5', 'deposit'), 500_000_000_000_000_000n);
    assert.equal(parseEthAmount('2.', 'deposit'), 2_000_000_000_000_000_000n);
    assert.equal(parseEthAmount('0.000000000000000001', 'deposit'), 1n);
    assert.equal(parseEthAmount('123456789.123456789123456789', 'deposit'), 123456789123456789123456789n);
    for (const bad of ['', ' ', '-0.1', '+1', '1,5', '0x10', 'NaN', '1 ETH']) assert.throws(() => parseEthAmount(bad, 'deposit'));
  });

  test('prices per pixel or per unit', () => {
    assert.equal(ratString(parsePrice('1200', '1')), '1200/1');
    assert.equal(ratString(parsePrice('0.5', '1')), '1/2');
    assert.equal(ratString(parsePrice('1000', '3')), '1000/3');
    assert.throws(() => parsePrice('-1', '1'), /is not a price in wei/);
    assert.throws(() => parsePrice('1', '0'), /-pixelsPerUnit 0 must be a whole number > 0/);
  });
});
