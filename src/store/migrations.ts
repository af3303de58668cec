// Versioned SQL migrations (src/store/migrations/NNNN_name.sql, shipped with the package), applied at
// start in order inside one transaction and recorded with their SHA-256. An advisory lock makes
// instances that start together take turns: the first applies, the others find nothing left to do.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../lib/errors.ts';
import { MigrationError } from './errors.ts';
import type { PgPool } from './pgConnect.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** Key of the session-independent advisory lock that serializes migrations ("lpgw" "migr"). */
const MIGRATION_LOCK = 0x6c706777_6d696772n;
/** Migrations may rewrite big tables: more time than an ordinary statement. */
const MIGRATION_TIMEOUT = '5min';

export interface Migration {
  version: number;
  name: string;
  file: string;
  sql: string;
  sha256: string;
}

export interface MigrationReport {
  /** versions applied now */
  applied: number[];
  /** the schema version afterwards */
  version: number;
}

/** Reads and checks the migration files: NNNN_name.sql, numbered 1, 2, 3… without gaps. */
export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const out: Migration[] = [];
  for (const file of files) {
    const m = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!m) throw new MigrationError(`migration file ${file} is not named NNNN_name.sql (lower-case name)`);
    const version = Number(m[1]);
    if (version !== out.length + 1)
      throw new MigrationError(`migration ${file} should be number ${String(out.length + 1).padStart(4, '0')}: versions run 0001, 0002, … without gaps`);
    const sql = await readFile(join(dir, file), 'utf8');
    out.push({ version, name: m[2]!, file, sql, sha256: createHash('sha256').update(sql).digest('hex') });
  }
  return out;
}

/**
 * Brings the database to the newest migration. Refuses, changing nothing, when an applied migration's
 * file has changed since, or when the database is newer than this gateway.
 */
export async function migrate(pool: PgPool, migrations: readonly Migration[]): Promise<MigrationReport> {
  const client = await pool.connect();
  let failed: unknown;
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL statement_timeout = '${MIGRATION_TIMEOUT}'`);
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS store_migrations (
         version integer PRIMARY KEY,
         name text NOT NULL,
         sha256 text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ version: number; name: string; sha256: string }>(
      'SELECT version, name, sha256 FROM store_migrations ORDER BY version',
    );
    const known = new Map(migrations.map((m) => [m.version, m]));
    for (const row of rows) {
      const m = known.get(row.version);
      if (!m) {
        throw new MigrationError(
          `the database has migration ${String(row.version).padStart(4, '0')}_${row.name}, newer than this livepeer-gateway knows (up to ${String(migrations.length).padStart(4, '0')}); run the newer version`,
        );
      }
      if (m.sha256 !== row.sha256) {
        throw new MigrationError(
          `migration ${m.file} was changed after it was applied to this database (sha256 ${row.sha256.slice(0, 12)}… then, ${m.sha256.slice(0, 12)}… now); restore the file and put the change in a new migration`,
        );
      }
    }
    const done = new Set(rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      try {
        await client.query(m.sql);
      } catch (err) {
        throw new MigrationError(`migration ${m.file} failed, nothing was applied: ${errorMessage(err)}`, { cause: err });
      }
      await client.query('INSERT INTO store_migrations (version, name, sha256) VALUES ($1, $2, $3)', [m.version, m.name, m.sha256]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return { applied, version: migrations.length };
  } catch (err) {
    failed = err;
    await client.query('ROLLBACK').catch(() => {});
    throw asMigrationError(err);
  } finally {
    // a connection whose state is unknown is not given back to the pool
    client.release(failed instanceof MigrationError ? undefined : (failed as Error | undefined));
  }
}

/** A refusal by the server (not a lost connection) while preparing or recording migrations. */
function asMigrationError(err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  if (err instanceof MigrationError || typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code) || /^(08|57P0)/.test(code)) return err;
  const hint = code === '42501' ? ' (the -storeUrl user must be allowed to create tables: make it the database owner, or GRANT CREATE ON SCHEMA public)' : '';
  return new MigrationError(`cannot bring the store's tables up to date: ${errorMessage(err)}${hint}`, { cause: err });
}
