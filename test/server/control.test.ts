// The control API as livepeer_cli uses it: every endpoint's status code and body shape on the devnet,
// the deposit transactions through form posts, and the off-chain answers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Registry, Counter } from 'prom-client';
import { formatEther } from 'viem';
import { mineToNextRound } from '../../scripts/devnet/deploy.ts';
import { flagSpec } from '../../src/cli/flags.ts';
import { connectEth } from '../../src/eth/connect.ts';
import { RoundsWatcher } from '../../src/eth/rounds.ts';
import { createWallet } from '../../src/eth/transactions.ts';
import { parseListenAddr } from '../../src/lib/listenAddr.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { livepeerCliRoutes } from '../../src/node/livepeerCliRoutes.ts';
import { ControlError, jsonReply, readRoute, startControlServer, textReply, type ControlServer } from '../../src/server/control.ts';
import { withDevnet } from '../helpers/devnet.ts';

const devnet = withDevnet();

/** Routes that change state take POST only; the rest are reads and livepeer_cli GETs them. */
const WRITES = new Set(['/fundDepositAndReserve', '/fundDeposit', '/unlock', '/cancelUnlock', '/withdraw', '/setBroadcastConfig']);

async function call(server: ControlServer, path: string, form?: Record<string, string>, method = form || WRITES.has(path.split('?')[0]!) ? 'POST' : 'GET') {
  const res = await fetch(`${server.url}${path}`, {
    method,
    ...(form ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() } : {}),
  });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, type: res.headers.get('content-type'), text: body.toString('utf8'), body };
}

const parseCliAddr = (value: string) => parseListenAddr('cliAddr', value, 5935);

describe('-cliAddr', () => {
  test('loopback unless the operator says otherwise', () => {
    assert.deepEqual(parseCliAddr(flagSpec('cliAddr')!.default!), { host: '127.0.0.1', port: 5935 });
    assert.deepEqual(parseCliAddr(':7935'), { host: '127.0.0.1', port: 7935 });
    assert.deepEqual(parseCliAddr('0.0.0.0:5935'), { host: '0.0.0.0', port: 5935 });
    assert.deepEqual(parseCliAddr('localhost'), { host: 'localhost', port: 5935 });
    assert.deepEqual(parseCliAddr('[::1]:9'), { host: '::1', port: 9 });
    assert.throws(() => parseCliAddr('a:99999'), /port out of range/);
  });
});

describe('control API off-chain', () => {
  let server: ControlServer;
  before(async () => {
    server = await startControlServer({
      port: 0,
      log: silentLogger(),
      routes: {
        ...livepeerCliRoutes(undefined, silentLogger()),
        '/status': readRoute(() => jsonReply({ Version: '0.1.0', OrchestratorPool: [] })),
        '/getBroadcastConfig': readRoute(() => jsonReply({ MaxPrice: null, TranscodingOptions: 'P240p30fps16x9' })),
        '/setBroadcastConfig': (form) => {
          if (!form.get('transcodingOptions')) throw new ControlError(400, 'missing form param: transcodingOptions');
          return textReply('');
        },
        '/IsRedeemer': readRoute(() => textReply('overridden')),
      },
    });
  });
  after(() => server.close());

  test('node-level endpoints answer; Ethereum ones are 500 missing ETH client', async () => {
    assert.deepEqual(await call(server, '/status').then((r) => [r.status, r.type, r.text]), [
      200,
      'application/json',
      '{"Version":"0.1.0","OrchestratorPool":[]}',
    ]);
    assert.deepEqual(await call(server, '/EthChainID').then((r) => [r.status, r.text]), [200, '0']);
    assert.deepEqual(await call(server, '/IsOrchestrator').then((r) => [r.status, r.text]), [200, 'false']);
    assert.deepEqual(await call(server, '/IsRedeemer', {}).then((r) => [r.status, r.text]), [200, 'overridden']);
    assert.deepEqual(await call(server, '/currentBlock').then((r) => [r.status, r.body.length]), [200, 0]);
    for (const path of [
      '/senderInfo',
      '/currentRound',
      '/ethAddr',
      '/ethBalance',
      '/tokenBalance',
      '/maxGasPrice',
      '/minGasPrice',
      '/ticketBrokerParams',
      '/contractAddresses',
      '/protocolParameters',
      '/registeredOrchestrators',
      '/unlock',
      '/cancelUnlock',
      '/withdraw',
    ]) {
      const r = await call(server, path);
      assert.deepEqual([r.status, r.type, r.text], [500, 'text/plain; charset=utf-8', 'missing ETH client\n'], path);
    }
  });

  test('missing form params are 400 before anything else; then missing ETH client', async () => {
    assert.deepEqual(await call(server, '/fundDepositAndReserve', { depositAmount: '1' }).then((r) => [r.status, r.text]), [
      400,
      'missing form param: reserveAmount\n',
    ]);
    assert.deepEqual(await call(server, '/fundDepositAndReserve').then((r) => [r.status, r.text]), [400, 'missing form param: depositAmount\n']);
    assert.deepEqual(await call(server, '/fundDeposit', {}).then((r) => [r.status, r.text]), [400, 'missing form param: amount\n']);
    assert.deepEqual(await call(server, '/fundDeposit?amount=5').then((r) => [r.status, r.text]), [500, 'missing ETH client\n']);
  });

  test('routes from the node', async () => {
    assert.deepEqual(await call(server, '/getBroadcastConfig').then((r) => [r.status, r.text]), [
      200,
      '{"MaxPrice":null,"TranscodingOptions":"P240p30fps16x9"}',
    ]);
    assert.deepEqual(await call(server, '/setBroadcastConfig', {}).then((r) => [r.status, r.text]), [400, 'missing form param: transcodingOptions\n']);
    assert.deepEqual(await call(server, '/setBroadcastConfig', { transcodingOptions: 'P360p30fps16x9' }).then((r) => r.status), 200);
  });

  test('state changes only by POST: a GET or PUT of a write route is 405, reads take GET, HEAD and POST', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const r = await call(server, '/fundDeposit?amount=5', undefined, method);
      assert.deepEqual([r.status, r.text], [405, `method ${method} not allowed: this endpoint changes state and takes POST\n`]);
    }
    assert.equal((await call(server, '/status', undefined, 'HEAD')).status, 200);
    assert.equal((await call(server, '/status', {})).status, 200);
    assert.equal((await call(server, '/status', undefined, 'PUT')).status, 405);
  });

  test('a form body over 1 MiB is 400 before the route runs', async () => {
    const big = await call(server, '/fundDeposit', { amount: '1'.repeat((1 << 20) + 1) });
    assert.deepEqual([big.status, big.text], [400, 'request body too large\n']);
  });

  test('unknown paths are 404; /metrics only with a registry', async () => {
    assert.deepEqual(await call(server, '/nope').then((r) => [r.status, r.text]), [404, '404 page not found\n']);
    assert.equal((await call(server, '/metrics')).status, 404);
  });
});

describe('control API on-chain (devnet)', () => {
  let server: ControlServer;
  let rounds: RoundsWatcher;
  const registry = new Registry();
  const counter = new Counter({ name: 'livepeer_test_total', help: 'a test counter', registers: [registry] });

  before(async () => {
    const conn = await connectEth({ network: 'devnet', ethUrl: devnet.rpcUrl, ethController: devnet.contracts.controller, pollingIntervalMs: 20 });
    const wallet = createWallet(conn.client, devnet.accounts.broadcaster.privateKey);
    rounds = new RoundsWatcher(conn.client, conn.contracts, { intervalMs: 60_000, log: silentLogger() });
    await rounds.start();
    server = await startControlServer({
      port: 0,
      log: silentLogger(),
      routes: {
        ...livepeerCliRoutes({ client: conn.client, contracts: conn.contracts, wallet, rounds }, silentLogger()),
        '/status': readRoute(() => jsonReply({ Manifests: {}, RegisteredTranscodersNumber: 3n })),
      },
      metrics: registry,
    });
  });
  after(async () => {
    rounds?.stop();
    await server?.close();
  });

  test('identity and chain: /EthChainID, /ethAddr, /ethBalance, /currentRound, /currentBlock', async () => {
    assert.deepEqual(await call(server, '/EthChainID').then((r) => [r.status, r.text]), [200, '42161']);
    assert.deepEqual(await call(server, '/ethAddr').then((r) => [r.status, r.text]), [200, devnet.accounts.broadcaster.address]);
    const balance = await devnet.publicClient.getBalance({ address: devnet.accounts.broadcaster.address });
    assert.deepEqual(await call(server, '/ethBalance').then((r) => [r.status, r.text]), [200, balance.toString()]);
    assert.deepEqual(await call(server, '/currentRound').then((r) => [r.status, r.text]), [200, devnet.round.toString()]);
    assert.deepEqual(await call(server, '/tokenBalance').then((r) => [r.status, r.text]), [200, '0']);
    assert.deepEqual(await call(server, '/maxGasPrice').then((r) => [r.status, r.text]), [200, '']);
    assert.deepEqual(await call(server, '/minGasPrice').then((r) => [r.status, r.text]), [200, '0']);
    const block = await call(server, '/currentBlock');
    assert.equal(block.status, 200);
    assert.equal(block.type, 'application/octet-stream');
    assert.equal(BigInt(`0x${block.body.toString('hex')}`), rounds.snapshot()!.lastSeenL1Block, 'raw big-endian bytes of the last seen block');
  });

  test('/status comes from the node callback, Go-style', async () => {
    const r = await call(server, '/status');
    assert.deepEqual([r.status, r.type, r.text], [200, 'application/json', '{"Manifests":{},"RegisteredTranscodersNumber":3}']);
  });

  test('/contractAddresses, /ticketBrokerParams, /protocolParameters', async () => {
    const c = devnet.contracts;
    const addrs = await call(server, '/contractAddresses');
    assert.equal(addrs.status, 200);
    assert.equal(
      addrs.text,
      JSON.stringify({
        BondingManager: c.bondingManager.toLowerCase(),
        Controller: c.controller.toLowerCase(),
        LivepeerToken: c.livepeerToken.toLowerCase(),
        LivepeerTokenFaucet: '0x0000000000000000000000000000000000000000',
        Minter: c.minter.toLowerCase(),
        RoundsManager: c.roundsManager.toLowerCase(),
        TicketBroker: c.ticketBroker.toLowerCase(),
      }),
    );
    assert.deepEqual(await call(server, '/ticketBrokerParams').then((r) => [r.status, r.text]), [200, '{"UnlockPeriod":2}']);
    const p = await call(server, '/protocolParameters');
    assert.equal(p.status, 200);
    // The devnet's Minter has no inflation parameters and its BondingManager no unbondingPeriod: null/0 there.
    assert.equal(
      p.text,
      '{"NumActiveTranscoders":100,"RoundLength":20,"RoundLockAmount":100000,"UnbondingPeriod":0,"VerificationRate":0,' +
        '"VerificationPeriod":null,"SlashingPeriod":null,"FailedVerificationSlashAmount":null,"MissedVerificationSlashAmount":null,' +
        '"DoubleClaimSegmentSlashAmount":null,"FinderFee":null,"Inflation":null,"InflationChange":null,"TargetBondingRate":null,' +
        '"VerificationCodeHash":"","TotalBonded":6000000000000000000000,"TotalSupply":null,"Paused":false}',
    );
  });

  test('/registeredOrchestrators: go-livepeer Transcoder objects', async () => {
    const r = await call(server, '/registeredOrchestrators');
    assert.equal(r.status, 200);
    const list = JSON.parse(r.text) as Record<string, unknown>[];
    assert.equal(list.length, 3);
    const top = devnet.orchestrators.reduce((a, b) => (a.stake > b.stake ? a : b));
    assert.deepEqual(Object.keys(list[0]!), [
      'Address',
      'ServiceURI',
      'LastRewardRound',
      'RewardCut',
      'FeeShare',
      'DelegatedStake',
      'ActivationRound',
      'DeactivationRound',
      'LastActiveStakeUpdateRound',
      'Active',
      'Status',
      'PricePerPixel',
    ]);
    assert.equal(list[0]!.Address, top.address.toLowerCase());
    assert.equal(list[0]!.ServiceURI, top.serviceURI);
    assert.equal(list[0]!.Active, true);
    assert.equal(list[0]!.Status, 'Registered');
    assert.equal(list[0]!.PricePerPixel, '0/1');
    assert.match(r.text, new RegExp(`"DelegatedStake":${top.stake}[,}]`), 'stake as a bare number');
  });

  test("deposit endpoints: fund, senderInfo, unlock, cancelUnlock, withdraw, with go-livepeer's texts", async () => {
    assert.deepEqual(await call(server, '/senderInfo').then((r) => [r.status, r.text]), [
      200,
      '{"Deposit":0,"WithdrawRound":0,"Reserve":{"FundsRemaining":0,"ClaimedInCurrentRound":0}}',
    ]);
    assert.deepEqual(await call(server, '/fundDepositAndReserve', { depositAmount: '-1', reserveAmount: '1' }).then((r) => [r.status, r.text]), [
      400,
      'invalid depositAmount: failed to parse big integer\n',
    ]);
    const fund = await call(server, '/fundDepositAndReserve', { depositAmount: '100000000000000000', reserveAmount: '50000000000000000' });
    assert.deepEqual([fund.status, fund.text], [200, 'fundDepositAndReserve success']);
    assert.deepEqual(await call(server, `/fundDeposit?amount=${10n ** 17n}`).then((r) => [r.status, r.text]), [200, 'fundDeposit success']);
    assert.deepEqual(
      await call(server, '/senderInfo').then((r) => r.text),
      '{"Deposit":200000000000000000,"WithdrawRound":0,"Reserve":{"FundsRemaining":50000000000000000,"ClaimedInCurrentRound":0}}',
    );

    const early = await call(server, '/withdraw', {});
    assert.equal(early.status, 500);
    assert.equal(early.text, 'could not execute withdraw: no unlock in progress: run `livepeer-gateway deposit unlock` first, then withdraw after 2 rounds\n');
    assert.deepEqual(await call(server, '/unlock', {}).then((r) => [r.status, r.text]), [200, 'unlock success']);
    assert.deepEqual(await call(server, '/cancelUnlock', {}).then((r) => [r.status, r.text]), [200, 'cancelUnlock success']);
    assert.deepEqual(await call(server, '/unlock').then((r) => [r.status, r.text]), [200, 'unlock success']);
    const info = JSON.parse((await call(server, '/senderInfo')).text) as { WithdrawRound: number };
    assert.equal(info.WithdrawRound, Number(devnet.round + 2n));
    const locked = await call(server, '/withdraw');
    assert.equal(locked.status, 500);
    assert.match(locked.text, /^could not execute withdraw: funds unlock in round 3, now round 1, about \d+ minutes?; withdraw after that\n$/);

    await mineToNextRound(devnet.rpcUrl, devnet.contracts);
    await mineToNextRound(devnet.rpcUrl, devnet.contracts);
    const before = await devnet.publicClient.getBalance({ address: devnet.accounts.broadcaster.address });
    assert.deepEqual(await call(server, '/withdraw').then((r) => [r.status, r.text]), [200, 'withdraw success']);
    const after = await devnet.publicClient.getBalance({ address: devnet.accounts.broadcaster.address });
    assert.ok(after - before > 249n * 10n ** 15n, `0.25 ETH came back (minus gas): ${formatEther(after - before)}`);
    assert.equal(await call(server, '/currentRound').then((r) => r.text), (devnet.round + 2n).toString());
  });

  test('/metrics serves the registry', async () => {
    counter.inc(3);
    const r = await call(server, '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.text, /^livepeer_test_total 3$/m);
    assert.equal(r.type, registry.contentType);
  });
});
