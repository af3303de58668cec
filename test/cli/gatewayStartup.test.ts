// Starting the node from the command line: the documented go-livepeer command line works with our
// binary name, and every start-up problem is one clear line and a non-zero exit.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { withDevnet } from '../helpers/devnet.ts';
import { freePort } from '../e2e/helpers.ts';
import { runCli } from '../helpers/cli.ts';

const BIN = fileURLToPath(new URL('../../scripts/livepeer-gateway.mjs', import.meta.url));
const KEYSTORE = fileURLToPath(new URL('../../keystore', import.meta.url));

const run = runCli;

describe('gateway start-up from the command line', () => {
  const devnet = withDevnet();

  it('the documented `livepeer -broadcaster …` command line starts the node with our binary name', async () => {
    // -ethController points the arbitrum-one-mainnet network at the devnet's Controller (same chain id 42161)
    const datadir = await mkdtemp(join(tmpdir(), 'lpseed-'));
    const args = [
      '-broadcaster',
      '-network',
      'arbitrum-one-mainnet',
      '-ethUrl',
      devnet.rpcUrl,
      '-ethKeystorePath',
      KEYSTORE,
      '-maxPricePerUnit',
      '0',
      '-rtmpAddr',
      '127.0.0.1:1935',
      '-httpAddr',
      '127.0.0.1:8935',
      '-ethController',
      devnet.contracts.controller,
      '-ethPassword',
      'devnet',
      '-datadir',
      datadir,
    ];
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (c) => (out += c));
    child.stderr!.on('data', (c) => (err += c));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    try {
      // generous: loading the node under tsx takes many seconds on a busy 2-core machine
      const deadline = Date.now() + 90_000;
      while (!out.includes('CLI server listening on') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      assert.match(out, /\*\*\*Livepeer Running in Gateway Mode\*\*\*/, `stdout: ${out}\nstderr: ${err}`);
      assert.match(out, /Video Ingest Endpoint - rtmp:\/\/127\.0\.0\.1:1935/);
      assert.match(out, /HTTP Server listening on http:\/\/127\.0\.0\.1:8935/);
      assert.match(out, /CLI server listening on http:\/\/127\.0\.0\.1:5935/);
      assert.match(err, /-broadcaster is deprecated; use -gateway/);
      assert.equal((await fetch('http://127.0.0.1:8935/healthz')).status, 200);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, 'SIGTERM is a clean shutdown');
    await rm(datadir, { recursive: true, force: true });
  });

  const oneLine = (err: string) => assert.equal(err.trim().split('\n').length, 1, `one line: ${err}`);

  it('unknown flag and bad values: one line, exit 2', async () => {
    for (const [argv, msg] of [
      [['-gateway', '-nope'], /flag provided but not defined: -nope/],
      [['-gateway', '-maxSessions', 'auto'], /-maxSessions: "auto" is not a whole number/],
      [['-gateway', '-network', 'arbitrum-one-mainnet'], /Need to specify an Ethereum node JSON-RPC URL using -ethUrl/],
      [['-network', 'offchain'], /No services enabled/],
      [['-gateway', '-objectStore', 'gs://bucket/x'], /-objectStore gs:\/\/bucket\/…: .*not supported; only S3/],
      [
        ['-gateway', '-recordStore', 's3+https://key:Sup3rS3cret@s3.example.com/Not_A_Bucket'],
        /^(?![\s\S]*Sup3rS3cret)[\s\S]*-recordStore s3\+https:\/\/s3\.example\.com\/…: .*bucket name/,
      ],
    ] as [string[], RegExp][]) {
      const r = await run(argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.err, msg);
      oneLine(r.err);
    }
  });

  it('unreachable RPC, missing keystore, wrong password: one line, exit 1', async () => {
    const datadir = await mkdtemp(join(tmpdir(), 'lpstartup-'));
    const chainFlags = [
      '-gateway',
      '-network',
      'devnet',
      '-ethController',
      devnet.contracts.controller,
      '-datadir',
      datadir,
      '-rtmpAddr',
      '127.0.0.1:0',
      '-httpAddr',
      '127.0.0.1:0',
      '-cliAddr',
      '127.0.0.1:0',
    ];
    const port = await freePort();
    const unreachable = await run([...chainFlags, '-ethUrl', `http://127.0.0.1:${port}/secret-key`, '-ethKeystorePath', KEYSTORE, '-ethPassword', 'devnet']);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.err, /cannot reach the Ethereum RPC/);
    assert.doesNotMatch(unreachable.err, /secret-key/, 'the RPC URL path is redacted');
    oneLine(unreachable.err);
    const noKeys = await run([...chainFlags, '-ethUrl', devnet.rpcUrl, '-ethKeystorePath', '/nonexistent/keystore', '-ethPassword', 'x']);
    assert.equal(noKeys.code, 1);
    assert.match(noKeys.err, /no keys in \/nonexistent\/keystore/);
    oneLine(noKeys.err);
    const wrong = await run([...chainFlags, '-ethUrl', devnet.rpcUrl, '-ethKeystorePath', KEYSTORE, '-ethPassword', 'not-the-password']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /wrong password for 0x70997970C51812dc3A010C7d01b50e0d17dc79C8/);
    oneLine(wrong.err);
    await rm(datadir, { recursive: true, force: true });
  });
});
