// Attack 2: a web page the operator opens reaches the node on 127.0.0.1. `<img src=…/unlock>` (a GET), a
// cross-site form post, a cross-site multipart push, and DNS rebinding (a page whose name resolves to
// 127.0.0.1 reads answers) — each against the real node, each refused, and nothing changes. livepeer_cli's
// own calls (GET for what it reads, form POSTs for what it changes) still work; -cliToken guards the API.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { buildNodeConfig } from '../../src/cli/nodeConfig.ts';
import { startNode } from '../../src/node/run.ts';
import { Writable } from 'node:stream';
import { startTestNode, type TestNode } from '../e2e/helpers.ts';
import { captureLog } from '../helpers/logCapture.ts';
import { makeTestClip } from '../media/testMedia.ts';
import { crossSite, rawRequest } from './rawHttp.ts';

/** What livepeer_cli (go-livepeer cmd/livepeer_cli) sends with http.Get: reads. */
const LIVEPEER_CLI_GETS = [
  '/status',
  '/EthChainID',
  '/IsOrchestrator',
  '/IsRedeemer',
  '/currentBlock',
  '/currentRound',
  '/ethAddr',
  '/tokenBalance',
  '/ethBalance',
  '/maxGasPrice',
  '/minGasPrice',
  '/senderInfo',
  '/ticketBrokerParams',
  '/contractAddresses',
  '/protocolParameters',
  '/registeredOrchestrators',
  '/getBroadcastConfig',
  '/getAvailableTranscodingOptions',
  '/getLogLevel',
];
/** What it sends as url-encoded form POSTs: state changes. */
const LIVEPEER_CLI_POSTS: [string, Record<string, string>][] = [
  ['/setBroadcastConfig', { transcodingOptions: 'P144p30fps16x9', maxPricePerUnit: '7', pixelsPerUnit: '1', currency: 'Wei' }],
  ['/setMaxPriceForCapability', { pipeline: 'text-to-image', modelID: 'default', maxPricePerUnit: '9', pixelsPerUnit: '1', currency: 'Wei' }],
  ['/fundDepositAndReserve', { depositAmount: '1', reserveAmount: '1' }],
  ['/fundDeposit', { amount: '1' }],
  ['/unlock', {}],
  ['/cancelUnlock', {}],
  ['/withdraw', {}],
  ['/setLogLevel', { loglevel: '3' }],
];
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

describe('attack 2: browsers cannot spend, steer or read the node', () => {
  let node: TestNode;
  let segment: Buffer;
  const dir = mkdtempSync(join(tmpdir(), 'hostile-browser-'));
  before(async () => {
    makeTestClip(join(dir, 'seg.ts'), { seconds: 2, gopSeconds: 2 });
    segment = readFileSync(join(dir, 'seg.ts'));
    node = await startTestNode({ network: 'offchain', transcodingOptions: 'P240p30fps16x9', maxPricePerUnit: '1000' });
  });
  after(async () => {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const config = async () =>
    JSON.parse((await rawRequest(`${node.controlUrl}/getBroadcastConfig`)).text) as { MaxPrice: string | null; TranscodingOptions: string };

  it('<img src="/unlock"> and GETs with a query change nothing: state changes only by POST', async () => {
    const before = await config();
    const img = await rawRequest(`${node.controlUrl}/unlock`, { headers: { ...crossSite(), 'Sec-Fetch-Dest': 'image' } });
    assert.equal(img.status, 405);
    assert.equal(img.headers.allow, 'POST');
    for (const path of ['/setBroadcastConfig?maxPricePerUnit=0&pixelsPerUnit=1', '/fundDeposit?amount=5', '/withdraw', '/setLogLevel?loglevel=6']) {
      const r = await rawRequest(`${node.controlUrl}${path}`);
      assert.equal(r.status, 405, path);
      assert.match(r.text, /changes state and takes POST/, path);
    }
    assert.deepEqual(await config(), before, 'the price cap is where it was');
    assert.equal((await rawRequest(`${node.controlUrl}/getLogLevel`)).text, '3');
  });

  it('a cross-site form post to the control API is refused before it runs', async () => {
    const before = await config();
    const body = new URLSearchParams({ maxPricePerUnit: '0', pixelsPerUnit: '1' }).toString();
    for (const headers of [
      crossSite(),
      { Origin: 'https://evil.example' }, // a browser without Fetch Metadata
      { Origin: 'null' }, // a sandboxed iframe or a data: page
      { 'Sec-Fetch-Site': 'same-site', Origin: 'http://localhost:1' }, // another port of this machine is another origin
    ]) {
      const r = await rawRequest(`${node.controlUrl}/setBroadcastConfig`, { method: 'POST', headers: { ...FORM, ...headers }, body });
      assert.equal(r.status, 403, JSON.stringify(headers));
      assert.match(r.text, /cross-site request refused/);
    }
    assert.deepEqual(await config(), before, 'the price cap is where it was');
  });

  it('DNS rebinding: a foreign Host is refused on both listeners, reads included', async () => {
    const controlPort = new URL(node.controlUrl).port;
    const status = await rawRequest(`${node.controlUrl}/status`, { headers: { Host: `rebind.evil.example:${controlPort}` } });
    assert.equal(status.status, 403);
    assert.match(status.text, /DNS rebinding/);
    assert.doesNotMatch(status.text, /Manifests|OrchestratorPool/);
    const httpPort = new URL(node.gateway.httpUrl).port;
    const hls = await rawRequest(`${node.gateway.httpUrl}/stream/x/index.m3u8`, { headers: { Host: `rebind.evil.example:${httpPort}` } });
    assert.equal(hls.status, 403);
    // the loopback names and the bound address still work
    for (const host of [`localhost:${controlPort}`, `127.0.0.1:${controlPort}`]) {
      assert.equal((await rawRequest(`${node.controlUrl}/status`, { headers: { Host: host } })).status, 200, host);
    }
  });

  it('a cross-site push of a real segment starts no stream and pays nobody', async () => {
    for (const [headers, mid] of [
      [crossSite(), 'xsitepush'],
      [{ Origin: 'https://evil.example' }, 'xoriginpush'],
      [{ Host: `rebind.evil.example:${new URL(node.gateway.httpUrl).port}` }, 'rebindpush'],
    ] as const) {
      const r = await rawRequest(`${node.gateway.httpUrl}/live/${mid}/0.ts`, {
        method: 'POST',
        headers: { 'Content-Type': 'video/mp2t', 'Content-Duration': '2000', ...headers },
        body: segment,
      });
      assert.equal(r.status, 403, mid);
      assert.equal(node.gateway.stream(mid), undefined, `${mid}: no stream`);
    }
    const status = JSON.parse((await rawRequest(`${node.controlUrl}/status`)).text) as { Manifests: string[] };
    assert.deepEqual(status.Manifests, []);
  });

  it("livepeer_cli's GETs are answered and its form POSTs accepted", async () => {
    for (const path of LIVEPEER_CLI_GETS) {
      const r = await rawRequest(`${node.controlUrl}${path}`);
      // off-chain the Ethereum reads answer go-livepeer's 500 "missing ETH client"; never 405 or 403
      assert.ok(r.status === 200 || (r.status === 500 && r.text === 'missing ETH client\n'), `${path}: ${r.status} ${r.text}`);
    }
    for (const [path, form] of LIVEPEER_CLI_POSTS) {
      const r = await rawRequest(`${node.controlUrl}${path}`, { method: 'POST', headers: FORM, body: new URLSearchParams(form).toString() });
      assert.ok(r.status === 200 || (r.status === 500 && r.text === 'missing ETH client\n'), `${path}: ${r.status} ${r.text}`);
    }
    assert.deepEqual(await config(), { MaxPrice: '7/1', TranscodingOptions: 'P144p30fps16x9' });
  });
});

describe('-cliToken and the reach of -cliAddr', () => {
  it('with a token, every control request needs Authorization: Bearer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostile-token-'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'token'), 's3cr3t-token\n');
    const node = await startTestNode({ network: 'offchain', cliToken: join(dir, 'token') });
    try {
      assert.equal((await rawRequest(`${node.controlUrl}/status`)).status, 401);
      const wrong = await rawRequest(`${node.controlUrl}/unlock`, { method: 'POST', headers: { Authorization: 'Bearer nope' } });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.headers['www-authenticate'], 'Bearer');
      assert.equal((await rawRequest(`${node.controlUrl}/status`, { headers: { Authorization: 'Bearer s3cr3t-token' } })).status, 200);
      // the browser rule still applies to a request that carries the token
      const xs = await rawRequest(`${node.controlUrl}/setLogLevel`, {
        method: 'POST',
        headers: { ...FORM, ...crossSite(), Authorization: 'Bearer s3cr3t-token' },
        body: 'loglevel=6',
      });
      assert.equal(xs.status, 403);
    } finally {
      await node.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a public -cliAddr without -cliToken: the node refuses to start and says why', async () => {
    const datadir = mkdtempSync(join(tmpdir(), 'hostile-cli-'));
    try {
      const config = buildNodeConfig(
        new Map(Object.entries({ network: 'offchain', rtmpAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', cliAddr: '8.8.8.8:5935', datadir })),
      );
      const sink = new Writable({ write: (_c, _e, cb) => cb() });
      await assert.rejects(
        startNode(config, pino({ level: 'silent' }), sink),
        /-cliAddr 8\.8\.8\.8:5935 is reachable from public networks.*withdraw.*Set -cliToken/,
      );
    } finally {
      rmSync(datadir, { recursive: true, force: true });
    }
  });

  it('a private -cliAddr starts with a warning that names what anyone reaching it can do', async () => {
    const { log, text } = captureLog('info');
    const { controlAccess } = await import('../../src/node/controlAccess.ts');
    const config = buildNodeConfig(new Map(Object.entries({ network: 'offchain', cliAddr: '10.1.2.3:5935' })));
    assert.deepEqual(await controlAccess(config, log), []);
    assert.match(text(), /no -cliToken: anyone who can reach it can fund, unlock and withdraw/);
  });
});
