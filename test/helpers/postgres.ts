// A throwaway PostgreSQL cluster for one test file: initdb + pg_ctl in a temp dir, on a free loopback
// port, stopped (and its files removed) after the tests.
//
//   const pg = withPostgres();                       // starts in before(), stops in after()
//   test('...', async () => { const url = await pg.createDatabase(); … })
//
// initdb refuses to run as root, so as root the cluster belongs to the `postgres` user (Debian's package
// creates it). fsync is off: this cluster is thrown away, and the tests are about atomicity, not disks.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../e2e/helpers.ts';

const run = promisify(execFile);

export const PG_SUPERUSER = 'gw_admin';
export const PG_PASSWORD = 'throwaway-test-password';

export interface PostgresCluster {
  host: string;
  port: number;
  /** postgres://gw_admin:…@127.0.0.1:port/<database> */
  url(database?: string, opts?: { user?: string; password?: string }): string;
  /** A new empty database; returns its URL. */
  createDatabase(): Promise<string>;
  /** Runs SQL as the superuser on a database. */
  sql(database: string, text: string, values?: unknown[]): Promise<pg.QueryResult>;
  stop(): Promise<void>;
}

/** Where Debian puts the server binaries (they are not on PATH): the newest version wins. */
export function findBinDir(root = '/usr/lib/postgresql', path = process.env.PATH ?? ''): string {
  const candidates: string[] = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(root, v, 'bin')));
  }
  for (const dir of [...candidates, ...path.split(':')]) {
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  throw new Error(
    'PostgreSQL server binaries (initdb, pg_ctl) not found: install PostgreSQL (`apt-get install -y postgresql`; .ci/run does this) or set PG_BIN to their directory',
  );
}

let databases = 0;

/** `durable`: keep fsync on (benchmarks of what a real server pays for a commit). */
export async function startPostgres(opts: { durable?: boolean } = {}): Promise<PostgresCluster> {
  const bin = findBinDir();
  const asRoot = userInfo().uid === 0;
  const dir = await mkdtemp(join(tmpdir(), 'lpgw-pg-'));
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  await writeFile(pwfile, `${PG_PASSWORD}\n`, { mode: 0o600 });
  if (asRoot) {
    const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (ids.status !== 0)
      throw new Error('running as root needs the `postgres` user to own the test cluster: install PostgreSQL (`apt-get install -y postgresql`)');
    await chmod(dir, 0o700);
    await chown(dir, Number(ids.stdout.trim()), Number(gid.stdout.trim()));
    await chown(pwfile, Number(ids.stdout.trim()), Number(gid.stdout.trim()));
  }
  // as root: the same command, run as the postgres user
  const exec = (cmd: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { cwd: dir }) : run(join(bin, cmd), args, { cwd: dir });

  const port = await freePort();
  await exec('initdb', [
    '-D',
    data,
    '-U',
    PG_SUPERUSER,
    `--pwfile=${pwfile}`,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  const options = [
    `-p ${port}`,
    "-c listen_addresses='127.0.0.1'",
    `-c unix_socket_directories='${dir}'`,
    ...(opts.durable ? [] : ['-c fsync=off', '-c full_page_writes=off']),
    '-c max_connections=60',
    '-c shared_buffers=32MB',
  ].join(' ');
  await exec('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);

  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    const args = ['-D', data, '-m', 'immediate', 'stop'];
    if (asRoot) spawnSync('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), ...args]);
    else spawnSync(join(bin, 'pg_ctl'), args);
  };
  // a test process that dies without after() must not leave a server running
  process.once('exit', stopSync);

  const host = '127.0.0.1';
  const url = (database = 'postgres', opts: { user?: string; password?: string } = {}) =>
    `postgres://${encodeURIComponent(opts.user ?? PG_SUPERUSER)}:${encodeURIComponent(opts.password ?? PG_PASSWORD)}@${host}:${port}/${database}`;
  const sql = async (database: string, text: string, values?: unknown[]) => {
    const client = new pg.Client({ connectionString: url(database) });
    await client.connect();
    try {
      return await client.query(text, values);
    } finally {
      await client.end();
    }
  };
  return {
    host,
    port,
    url,
    sql,
    async createDatabase() {
      const name = `gw_test_${process.pid}_${++databases}`;
      await sql('postgres', `CREATE DATABASE ${name}`);
      return url(name);
    },
    async stop() {
      if (stopped) return;
      try {
        await exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      } catch {
        stopSync();
      }
      stopped = true;
      process.off('exit', stopSync);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Registers node:test hooks: the cluster starts in before() and stops in after(). */
export function withPostgres(): PostgresCluster {
  let cluster: PostgresCluster | undefined;
  const get = (): PostgresCluster => {
    if (!cluster) throw new Error('PostgreSQL not started yet: read it inside a test, not at module load');
    return cluster;
  };
  before(async () => {
    cluster = await startPostgres();
  });
  after(async () => {
    await cluster?.stop();
  });
  return {
    get host() {
      return get().host;
    },
    get port() {
      return get().port;
    },
    url: (...a) => get().url(...a),
    createDatabase: () => get().createDatabase(),
    sql: (...a) => get().sql(...a),
    stop: () => get().stop(),
  };
}
