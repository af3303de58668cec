// -storeUrl from the command line to a running node: a bad URL or an unreachable server is one line and
// a non-zero exit; a node on a real PostgreSQL starts, migrates it, and never shows the password.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { buildNodeConfig } from '../../src/cli/nodeConfig.ts';
import { freePort } from '../e2e/helpers.ts';
import { PG_PASSWORD, withPostgres } from '../helpers/postgres.ts';
import { runCli } from '../helpers/cli.ts';

const BIN = fileURLToPath(new URL('../../scripts/livepeer-gateway.mjs', import.meta.url));
const SECRET = 'do-not-print-me';

const run = runCli;

const oneLine = (err: string) => assert.equal(err.trim().split('\n').length, 1, `one line: ${err}`);

describe('-storeUrl', () => {
  const pg = withPostgres();

  it('is carried in the configuration, absent when empty', () => {
    const url = `postgres://gw:${SECRET}@db.example.com:5432/gateway?sslmode=verify-full`;
    assert.equal(buildNodeConfig(new Map([['storeUrl', url]])).storeUrl, url);
    assert.equal(buildNodeConfig(new Map()).storeUrl, undefined);
    assert.equal(buildNodeConfig(new Map([['storeUrl', '  ']])).storeUrl, undefined);
  });

  it('a bad URL is a flag error: one line, exit 2, no password', async () => {
    for (const url of [`mysql://gw:${SECRET}@db/gateway`, `postgres://gw:${SECRET}@db/gateway?sslmode=prefer`, `postgres://gw:${SECRET}@db/`]) {
      const r = await run(['-gateway', '-storeUrl', url]);
      assert.equal(r.code, 2, url);
      assert.match(r.err, /^livepeer-gateway: -storeUrl /);
      assert.doesNotMatch(r.err, new RegExp(SECRET));
      oneLine(r.err);
    }
  });

  it('an unreachable PostgreSQL stops the start: one line, exit 1, no password', async () => {
    const datadir = await mkdtemp(join(tmpdir(), 'lpstore-'));
    const port = await freePort();
    const r = await run([
      '-gateway',
      '-datadir',
      datadir,
      '-rtmpAddr',
      '127.0.0.1:0',
      '-httpAddr',
      '127.0.0.1:0',
      '-cliAddr',
      '127.0.0.1:0',
      '-storeUrl',
      `postgres://gw:${SECRET}@127.0.0.1:${port}/gateway`,
    ]);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`^livepeer-gateway: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port}: `));
    assert.doesNotMatch(r.err + r.out, new RegExp(SECRET));
    oneLine(r.err);
    await rm(datadir, { recursive: true, force: true });
  });

  it('a node on a real PostgreSQL starts, migrates it, and its logs and /status never show the password', async () => {
    const storeUrl = await pg.createDatabase();
    const database = new URL(storeUrl).pathname.slice(1);
    const datadir = await mkdtemp(join(tmpdir(), 'lpstore-'));
    const [rtmp, http, cli] = [await freePort(), await freePort(), await freePort()];
    const child = spawn(
      process.execPath,
      [
        BIN,
        '-gateway',
        '-datadir',
        datadir,
        '-rtmpAddr',
        `127.0.0.1:${rtmp}`,
        '-httpAddr',
        `127.0.0.1:${http}`,
        '-cliAddr',
        `127.0.0.1:${cli}`,
        '-storeUrl',
        storeUrl,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout!.on('data', (c) => (out += c));
    child.stderr!.on('data', (c) => (err += c));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    try {
      const deadline = Date.now() + 60_000;
      while (!out.includes('CLI server listening on') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      assert.match(out, /CLI server listening on/, `stdout: ${out}\nstderr: ${err}`);
      const status = await (await fetch(`http://127.0.0.1:${cli}/status`)).text();
      assert.ok(!status.includes(PG_PASSWORD), 'no password in /status');
      // the configuration line shows the URL without credentials or database
      assert.match(err, new RegExp(`"storeUrl":"postgres://127\\.0\\.0\\.1:${pg.port}/…"`));
      assert.match(err, new RegExp(`"store":"postgres 127\\.0\\.0\\.1:${pg.port}/${database}"`));
      const migrated = await pg.sql(database, 'SELECT count(*)::int AS n FROM store_migrations');
      assert.ok(migrated.rows[0].n >= 1);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, 'SIGTERM is a clean shutdown');
    assert.ok(!(out + err).includes(PG_PASSWORD), `password in the output:\n${out}\n${err}`);
    await rm(datadir, { recursive: true, force: true });
  });
});
