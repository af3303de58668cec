// Attack 7: the RPC URL carries an API key (in its path, as Alchemy and Infura put it, and in its
// query). The real node runs on the devnet through a loopback proxy that then fails; the key must not
// appear in any log line (at the most verbose level) or any control API answer, failures included.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { buildNodeConfig } from '../../src/cli/nodeConfig.ts';
import { redactSecrets } from '../../src/lib/redact.ts';
import { createLogger } from '../../src/node/logger.ts';
import { startNode, type RunningNode } from '../../src/node/run.ts';
import { withDevnet } from '../helpers/devnet.ts';
import { rawRequest } from './rawHttp.ts';

const KEY = 'FAKEkey0123456789abcdefXYZ';
const QUERY_SECRET = 'qs3cretTOKEN42';
const KEYSTORE = new URL('../../keystore', import.meta.url).pathname;

describe('attack 7: an API key in -ethUrl reaches no log line and no API answer', () => {
  const devnet = withDevnet();
  let proxy: Server;
  let failing = false;
  let node: RunningNode;
  const logged: string[] = [];
  const datadir = mkdtempSync(join(tmpdir(), 'hostile-secrets-'));

  before(async () => {
    // Forwards JSON-RPC to the devnet whatever the path; when failing, answers 502 like a broken provider.
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (failing) {
          res.writeHead(502, { 'Content-Type': 'text/plain' }).end('bad gateway');
          return;
        }
        fetch(devnet.rpcUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: Buffer.concat(chunks) })
          .then(async (r) => res.writeHead(r.status, { 'Content-Type': 'application/json' }).end(Buffer.from(await r.arrayBuffer())))
          .catch(() => res.destroy());
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as AddressInfo).port;
    const config = buildNodeConfig(
      new Map(
        Object.entries({
          network: 'devnet',
          ethUrl: `http://127.0.0.1:${port}/v2/${KEY}?apikey=${QUERY_SECRET}`,
          ethController: devnet.contracts.controller,
          ethKeystorePath: KEYSTORE,
          ethPassword: 'devnet',
          blockPollingInterval: '1',
          rtmpAddr: '127.0.0.1:0',
          httpAddr: '127.0.0.1:0',
          cliAddr: '127.0.0.1:0',
          datadir,
          v: '6',
        }),
      ),
    );
    const sink = new Writable({
      write: (c, _e, cb) => {
        logged.push(String(c));
        cb();
      },
    });
    node = await startNode(config, createLogger(6, sink), new Writable({ write: (_c, _e, cb) => cb() }));
  });
  after(async () => {
    await node?.stop();
    await new Promise((r) => proxy?.close(r));
    rmSync(datadir, { recursive: true, force: true });
  });

  const leaks = (text: string) => text.includes(KEY) || text.includes(QUERY_SECRET);

  it('answers and logs hide the key while the RPC works and while it fails', async () => {
    const paths = ['/status', '/ethBalance', '/senderInfo', '/currentRound', '/tokenBalance', '/protocolParameters'];
    for (const p of paths) {
      const r = await rawRequest(`${node.controlUrl}${p}`);
      assert.equal(r.status, 200, `${p}: ${r.text}`);
      assert.ok(!leaks(r.text), `${p} leaks the key`);
    }
    failing = true;
    const answers: string[] = [];
    for (const p of paths) {
      const r = await rawRequest(`${node.controlUrl}${p}`);
      answers.push(`${p} ${r.status} ${r.text}`);
      assert.ok(!leaks(r.text), `${p} leaks the key while the RPC fails: ${r.text}`);
    }
    // the rounds watcher polls every second: let it fail and log a few times
    const deadline = Date.now() + 60_000;
    const port = (proxy.address() as AddressInfo).port;
    while (Date.now() < deadline && !logged.some((l) => l.includes('round poll failed'))) await new Promise((r) => setTimeout(r, 200));
    failing = false;
    assert.ok(
      answers.some((a) => / 500 /.test(a)),
      `some read failed while the RPC was down: ${answers.join(' | ')}`,
    );
    const all = logged.join('');
    assert.ok(all.includes(`http://127.0.0.1:${port}/`), 'the failing RPC was named in the logs — without its key');
    assert.ok(!leaks(all), 'a log line carries the key');
  });

  it("the node's logger masks keyed URLs wherever a caller puts them (message, fields, error text)", () => {
    const lines: string[] = [];
    const log = createLogger(
      6,
      new Writable({
        write: (c, _e, cb) => {
          lines.push(String(c));
          cb();
        },
      }),
    );
    const url = `https://arb-mainnet.g.alchemy.com/v2/${KEY}?token=${QUERY_SECRET}`;
    log.error({ err: new Error(`HTTP request failed.\nURL: ${url}`), endpoint: url, nested: { list: [url] } }, `calling ${url}`);
    assert.equal(lines.length, 1);
    assert.ok(!leaks(lines[0]!), lines[0]);
    assert.match(lines[0]!, /alchemy\.com\/v2\/\*\*\*\?token=\*\*\*/);
  });

  it('the rule: user info, provider path keys and query tokens, anywhere in a text', () => {
    assert.equal(
      redactSecrets('Status: 401 URL: https://arb-mainnet.g.alchemy.com/v2/abcDEF123ghiJKL456mnoPQR789stu Request body: {}'),
      'Status: 401 URL: https://arb-mainnet.g.alchemy.com/v2/*** Request body: {}',
    );
    assert.equal(redactSecrets('"https://arbitrum-mainnet.infura.io/v3/0123456789abcdef0123456789abcdef"'), '"https://arbitrum-mainnet.infura.io/v3/***"');
    assert.equal(redactSecrets('https://name.arbitrum-mainnet.quiknode.pro/4f3a9b8c/'), 'https://name.arbitrum-mainnet.quiknode.pro/***/');
    assert.equal(
      redactSecrets('at https://user:pw@rpc.example.com:8545/x?apikey=S&chain=42161&access_token=z.'),
      'at https://***@rpc.example.com:8545/x?apikey=***&chain=42161&access_token=***.',
    );
    // orchestrator and playback URLs stay readable
    const plain = 'https://127.0.0.1:8935 then http://127.0.0.1:9935/stream/abc/P240p30fps16x9.m3u8';
    assert.equal(redactSecrets(plain), plain);
  });
});
