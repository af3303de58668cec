// Opening the PostgreSQL store against a real server: one-line errors for the usual mistakes (never
// with the password), and migrations that several instances may apply at once.
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/lib/log.ts';
import { MigrationError, StoreUnavailableError } from '../../src/store/errors.ts';
import { loadMigrations, MIGRATIONS_DIR } from '../../src/store/migrations.ts';
import { openStateStore } from '../../src/store/openStateStore.ts';
import { connectPool } from '../../src/store/pgConnect.ts';
import { PgStateStore } from '../../src/store/pgStateStore.ts';
import { parseStoreUrl } from '../../src/store/pgTarget.ts';
import { freePort } from '../e2e/helpers.ts';
import { findBinDir, PG_PASSWORD, startPostgres, withPostgres } from '../helpers/postgres.ts';

/** A migration number as files spell it (0001). */
const num = (n: number): string => String(n).padStart(4, '0');
const pg = withPostgres();
const log = silentLogger();

/** Asserts one line, naming host:port, without the password. */
function oneLine(err: unknown, cls: new (...a: never[]) => Error, re: RegExp, secret: string): true {
  assert.ok(err instanceof cls, String(err));
  assert.match(err.message, re);
  assert.ok(!err.message.includes('\n'), err.message);
  assert.ok(!err.message.includes(secret), `password in: ${err.message}`);
  return true;
}

describe('PostgreSQL start-up errors', () => {
  it('an unreachable server: "cannot reach PostgreSQL at host:port"', async () => {
    const port = await freePort();
    const storeUrl = `postgres://gw:hunter2-secret@127.0.0.1:${port}/gateway`;
    await assert.rejects(openStateStore({ storeUrl, datadir: '', log }), (err) =>
      oneLine(err, StoreUnavailableError, new RegExp(`^cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`), 'hunter2-secret'),
    );
  });

  it('a wrong password: "authentication failed for user …"', async () => {
    const storeUrl = pg.url('postgres', { password: 'wrong-password-xyz' });
    await assert.rejects(openStateStore({ storeUrl, datadir: '', log }), (err) =>
      oneLine(
        err,
        StoreUnavailableError,
        /^authentication failed for user "gw_admin" at PostgreSQL 127\.0\.0\.1:\d+: check the user and password/,
        'wrong-password-xyz',
      ),
    );
  });

  it('a missing database says so and how to create it', async () => {
    await assert.rejects(openStateStore({ storeUrl: pg.url('no_such_db'), datadir: '', log }), (err) =>
      oneLine(err, StoreUnavailableError, /^database "no_such_db" does not exist on PostgreSQL 127\.0\.0\.1:\d+: create it/, PG_PASSWORD),
    );
  });

  it('TLS demanded from a server without it: a TLS error, not a plain-text fallback', async () => {
    await assert.rejects(openStateStore({ storeUrl: `${pg.url('postgres')}?sslmode=require`, datadir: '', log }), (err) =>
      oneLine(err, StoreUnavailableError, /^TLS to PostgreSQL at 127\.0\.0\.1:\d+ failed: .*SSL/, PG_PASSWORD),
    );
  });
});

it('without PostgreSQL binaries, these tests fail saying to install postgresql (never a silent skip)', () => {
  const saved = process.env.PG_BIN;
  delete process.env.PG_BIN;
  try {
    assert.throws(() => findBinDir('/nonexistent', '/nonexistent/bin'), /not found: install PostgreSQL \(`apt-get install -y postgresql`/);
  } finally {
    if (saved !== undefined) process.env.PG_BIN = saved;
  }
});

describe('PostgreSQL sessions', () => {
  it('commit durably and give up on slow statements, whatever the defaults of the database', async () => {
    const url = await pg.createDatabase();
    const db = new URL(url).pathname.slice(1);
    await pg.sql(db, `ALTER DATABASE ${db} SET synchronous_commit = off`);
    await pg.sql(db, `ALTER DATABASE ${db} SET statement_timeout = 0`);
    const pool = await connectPool(parseStoreUrl(url), log);
    try {
      const show = async (name: string) => (await pool.query(`SHOW ${name}`)).rows[0][name];
      assert.equal(await show('synchronous_commit'), 'on');
      assert.equal(await show('statement_timeout'), '10s');
      assert.equal(await show('idle_in_transaction_session_timeout'), '30s');
      assert.equal(await show('application_name'), 'livepeer-gateway');
    } finally {
      await pool.end();
    }
  });
});

describe('PostgreSQL going away while the gateway runs', () => {
  it('operations fail with StoreUnavailableError (so features refuse work), and the process does not crash', async () => {
    const own = await startPostgres();
    try {
      const store = await openStateStore({ storeUrl: await own.createDatabase(), datadir: '', log });
      try {
        assert.equal((await store.kv.compareAndSet('signer', 'k', 0, 'v')).ok, true);
        await own.stop();
        await assert.rejects(store.kv.get('signer', 'k'), (err) => oneLine(err, StoreUnavailableError, /PostgreSQL/, PG_PASSWORD));
        await assert.rejects(store.counters.add([{ ns: 'rpm', key: 'k', period: 'minute', amount: 1n, limit: 5n }]), StoreUnavailableError);
        await assert.rejects(store.gauges.acquire('streams', 'k', 'h', { limit: 1, ttlMs: 1000 }), StoreUnavailableError);
      } finally {
        await store.close();
      }
    } finally {
      await own.stop();
    }
  });
});

describe('migrations', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lpgw-migrations-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the shipped migrations are numbered from 0001 without gaps', async () => {
    const shipped = await loadMigrations();
    assert.ok(shipped.length >= 1);
    assert.deepEqual(
      shipped.map((m) => m.version),
      shipped.map((_, i) => i + 1),
    );
  });

  it('several instances starting at once: each sees the schema, migrations are applied and recorded once', async () => {
    const url = await pg.createDatabase();
    const stores = await Promise.all(Array.from({ length: 5 }, () => PgStateStore.open(parseStoreUrl(url), log)));
    try {
      const applied = stores.map((s) => s.migrations.applied.length);
      const expected = (await loadMigrations()).length;
      assert.deepEqual(
        applied.filter((n) => n > 0),
        [expected],
        `exactly one instance applied them: ${applied}`,
      );
      const db = new URL(url).pathname.slice(1);
      const rows = (await pg.sql(db, 'SELECT version, name FROM store_migrations ORDER BY version')).rows;
      assert.equal(rows.length, expected);
      assert.deepEqual(rows[0], { version: 1, name: 'state_store' });
      // usable by all
      await Promise.all(stores.map((s, i) => s.kv.compareAndSet('test', `k${i}`, 0, 'v')));
      // restarting applies nothing
      const again = await PgStateStore.open(parseStoreUrl(url), log);
      assert.deepEqual(again.migrations.applied, []);
      await again.close();
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('usage records cannot be changed or deleted, even with direct SQL', async () => {
    const url = await pg.createDatabase();
    const store = await openStateStore({ storeUrl: url, datadir: '', log });
    try {
      await store.records.append('usage', { subject: 'key', amounts: { wei: 5n } });
      const db = new URL(url).pathname.slice(1);
      await assert.rejects(pg.sql(db, 'UPDATE store_records SET amounts = \'{"wei":"0"}\''), /append-only/);
      await assert.rejects(pg.sql(db, 'DELETE FROM store_records'), /append-only/);
    } finally {
      await store.close();
    }
  });

  it('refuses a migration that changed after it was applied, and a database newer than this version', async () => {
    const url = await pg.createDatabase();
    const mine = join(dir, 'changed');
    const known = num((await loadMigrations()).length);
    const next = num((await loadMigrations()).length + 1);
    await cp(MIGRATIONS_DIR, mine, { recursive: true });
    await writeFile(join(mine, `${next}_extra.sql`), 'CREATE TABLE extra_things (id integer PRIMARY KEY);\n');
    await (await PgStateStore.open(parseStoreUrl(url), log, { migrationsDir: mine })).close();

    // the applied extra migration is edited afterwards
    await writeFile(join(mine, `${next}_extra.sql`), 'CREATE TABLE extra_things (id bigint PRIMARY KEY);\n');
    await assert.rejects(PgStateStore.open(parseStoreUrl(url), log, { migrationsDir: mine }), (err) =>
      oneLine(
        err,
        MigrationError,
        new RegExp(`^migration ${next}_extra\\.sql was changed after it was applied to this database .* put the change in a new migration$`),
        PG_PASSWORD,
      ),
    );
    // this build only knows the shipped ones: the database is ahead of it
    await assert.rejects(PgStateStore.open(parseStoreUrl(url), log), (err) =>
      oneLine(err, MigrationError, new RegExp(`has migration ${next}_extra, newer than this livepeer-gateway knows \\(up to ${known}\\)`), PG_PASSWORD),
    );
  });

  it('a failing migration applies nothing, records nothing, and names the file', async () => {
    const url = await pg.createDatabase();
    const mine = join(dir, 'failing');
    const next = num((await loadMigrations()).length + 1);
    await cp(MIGRATIONS_DIR, mine, { recursive: true });
    await writeFile(join(mine, `${next}_broken.sql`), 'CREATE TABLE fine_so_far (id integer);\nSELECT no_such_column FROM store_kv;\n');
    await assert.rejects(PgStateStore.open(parseStoreUrl(url), log, { migrationsDir: mine }), (err) =>
      oneLine(
        err,
        MigrationError,
        new RegExp(`^migration ${next}_broken\\.sql failed, nothing was applied: column "no_such_column" does not exist`),
        PG_PASSWORD,
      ),
    );
    const db = new URL(url).pathname.slice(1);
    const tables = (await pg.sql(db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).rows.map((r) => r.tablename);
    assert.deepEqual(tables, [], 'not even 0001 or the migrations table stayed');
  });

  it('a user that may not create tables is told what privilege it lacks', async () => {
    const url = await pg.createDatabase();
    const db = new URL(url).pathname.slice(1);
    await pg.sql(db, "CREATE ROLE gw_limited LOGIN PASSWORD 'limited-secret'");
    await pg.sql(db, `GRANT CONNECT ON DATABASE ${db} TO gw_limited`);
    await assert.rejects(openStateStore({ storeUrl: pg.url(db, { user: 'gw_limited', password: 'limited-secret' }), datadir: '', log }), (err) =>
      oneLine(
        err,
        MigrationError,
        /^cannot bring the store's tables up to date: permission denied for schema public \(the -storeUrl user must be allowed to create tables/,
        'limited-secret',
      ),
    );
  });

  it('refuses badly named or numbered migration files', async () => {
    const bad = join(dir, 'gap');
    const count = (await loadMigrations()).length;
    await cp(MIGRATIONS_DIR, bad, { recursive: true });
    await writeFile(join(bad, `${num(count + 2)}_skipped_one.sql`), 'SELECT 1;');
    await assert.rejects(loadMigrations(bad), (err) =>
      oneLine(err, MigrationError, new RegExp(`${num(count + 2)}_skipped_one\\.sql should be number ${num(count + 1)}`), PG_PASSWORD),
    );
    const named = join(dir, 'named');
    await cp(MIGRATIONS_DIR, named, { recursive: true });
    await writeFile(join(named, '2_Bad Name.sql'), 'SELECT 1;');
    await assert.rejects(loadMigrations(named), (err) => oneLine(err, MigrationError, /not named NNNN_name\.sql/, PG_PASSWORD));
  });
});
