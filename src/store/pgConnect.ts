// The PostgreSQL connection pool (node-postgres): bounded in connections and in time, durable commits
// whatever the server's default, and every failure turned into one line that names host:port only.
import { readFile } from 'node:fs/promises';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { errorMessage } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { StoreUnavailableError, StoreUrlError } from './errors.ts';
import type { PgTarget } from './pgTarget.ts';

/** Most connections one gateway instance holds; callers beyond it wait for a free one. */
export const POOL_MAX = 10;
/** A statement (including waiting for a row lock) that takes longer is cancelled by the server. */
export const STATEMENT_TIMEOUT_MS = 10_000;
/** A transaction left open this long (a stuck client) is ended by the server, releasing its locks. */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 30_000;

export type PgPool = pg.Pool;
export type PgClient = pg.PoolClient;

async function tlsOptions(target: PgTarget): Promise<false | ConnectionOptions> {
  if (target.sslMode === 'disable') return false;
  let ca: string | undefined;
  if (target.sslRootCert) {
    try {
      ca = await readFile(target.sslRootCert, 'utf8');
    } catch (err) {
      throw new StoreUrlError(`-storeUrl sslrootcert: cannot read ${target.sslRootCert}: ${errorMessage(err)}`);
    }
  }
  if (target.sslMode === 'require') return { rejectUnauthorized: false };
  return {
    rejectUnauthorized: true,
    ...(ca ? { ca } : {}),
    // verify-ca checks the chain only; verify-full also the host name (node's default check)
    ...(target.sslMode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
  };
}

/**
 * Opens a pool and proves it works with one round trip, so a wrong host, password or database is a
 * start-up error rather than the first request's.
 */
export async function connectPool(target: PgTarget, log: Logger): Promise<PgPool> {
  const pool = new pg.Pool({
    host: target.host,
    port: target.port,
    user: target.user,
    ...(target.password !== undefined ? { password: target.password } : {}),
    database: target.database,
    ssl: await tlsOptions(target),
    application_name: target.applicationName,
    max: POOL_MAX,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: target.connectTimeoutMs,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    // the client gives up a little after the server would have cancelled
    query_timeout: STATEMENT_TIMEOUT_MS + 5000,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    // a commit returns only once it is on the server's disk, whatever the server's default
    options: '-c synchronous_commit=on',
    keepAlive: true,
  });
  // an idle connection that the server drops must not crash the process; the next query reconnects
  pool.on('error', (err) => log.warn({ err: describePgError(err, target) }, 'PostgreSQL connection lost; it is reopened on the next use'));
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => {});
    throw startupError(err, target);
  }
  if (target.unencryptedRemote) {
    log.warn({ store: target.location }, `PostgreSQL at ${target.address} without TLS: add ?sslmode=verify-full (or require) to -storeUrl`);
  }
  return pool;
}

/** Node's socket error codes that mean the server was not reached. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);

function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  const msg = errorMessage(err);
  return (
    (typeof code === 'string' && UNREACHABLE.has(code)) ||
    /timeout expired|connection timeout|timeout exceeded when trying to connect|Connection terminated/i.test(msg) ||
    // 08xxx: connection exceptions; 57P0x: the server is shutting down or restarting
    (typeof code === 'string' && (/^08/.test(code) || /^57P0/.test(code)))
  );
}

/** One line about a PostgreSQL failure, naming the server as host:port (never the URL). */
export function describePgError(err: unknown, target: PgTarget): string {
  const code = (err as { code?: unknown }).code;
  const msg = oneLine(errorMessage(err), target);
  if (code === '28P01' || code === '28000') {
    return `authentication failed for user "${target.user}" at PostgreSQL ${target.address}: check the user and password in -storeUrl (${msg})`;
  }
  if (code === '3D000')
    return `database "${target.database}" does not exist on PostgreSQL ${target.address}: create it (createdb ${target.database}) or fix -storeUrl`;
  if (code === '57014') return `PostgreSQL ${target.address} did not answer within ${STATEMENT_TIMEOUT_MS / 1000} s (statement cancelled)`;
  if (/SSL|TLS|certificate/i.test(msg)) return `TLS to PostgreSQL at ${target.address} failed: ${msg} (see sslmode in -storeUrl)`;
  if (isUnreachable(err)) return `cannot reach PostgreSQL at ${target.address}: ${msg}`;
  return `PostgreSQL ${target.address}: ${msg}`;
}

function startupError(err: unknown, target: PgTarget): StoreUnavailableError {
  return new StoreUnavailableError(describePgError(err, target), { cause: err });
}

/**
 * Failures of a running store: the server went away or timed out → StoreUnavailableError (the
 * operation did not happen, or for a lost commit acknowledgement, may have); anything else unchanged.
 */
export function runtimeError(err: unknown, target: PgTarget): unknown {
  const code = (err as { code?: unknown }).code;
  if (isUnreachable(err) || code === '57014' || /Query read timeout/i.test(errorMessage(err))) {
    return new StoreUnavailableError(describePgError(err, target), { cause: err });
  }
  return err;
}

/** Messages stay on one line and never carry the password, whatever a driver puts in them. */
function oneLine(msg: string, target: PgTarget): string {
  let out = msg.replace(/\s+/g, ' ').trim();
  if (target.password) out = out.split(target.password).join('***');
  return out;
}
