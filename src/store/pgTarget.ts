// -storeUrl → where and how to connect to PostgreSQL. libpq's URL form
// (postgres://user:password@host:port/database?sslmode=…); nothing here ever repeats the URL itself,
// because it holds the password.
import { formatHost, isLoopback } from '../lib/listenAddr.ts';
import { StoreUrlError } from './errors.ts';

export type SslMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

export interface PgTarget {
  host: string;
  port: number;
  user: string;
  /** never logged */
  password?: string;
  database: string;
  sslMode: SslMode;
  /** CA file for verify-ca / verify-full (sslrootcert) */
  sslRootCert?: string;
  connectTimeoutMs: number;
  applicationName: string;
  /** `host:port`, for messages */
  address: string;
  /** where the state lives, without credentials */
  location: string;
  /** a plain-text connection to a server that is not on this machine */
  unencryptedRemote: boolean;
}

const EXAMPLE = 'postgres://user:password@host:5432/database?sslmode=verify-full';
const PARAMS = ['sslmode', 'sslrootcert', 'connect_timeout', 'application_name'];
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

export function parseStoreUrl(url: string): PgTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StoreUrlError(`-storeUrl is not a URL (expected ${EXAMPLE})`);
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new StoreUrlError(`-storeUrl must be a postgres:// URL, got ${u.protocol}// (leave it empty for the embedded database in -datadir)`);
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new StoreUrlError(`-storeUrl has no host (expected ${EXAMPLE})`);
  const port = u.port === '' ? 5432 : Number(u.port);
  const address = `${formatHost(host)}:${port}`;
  const user = decode(u.username, 'user name');
  if (!user) throw new StoreUrlError(`-storeUrl has no user name (expected ${EXAMPLE})`);
  const password = u.password === '' ? undefined : decode(u.password, 'password');
  const database = decode(u.pathname.replace(/^\//, ''), 'database name');
  if (!database || database.includes('/')) throw new StoreUrlError(`-storeUrl must name one database after the host (expected ${EXAMPLE})`);
  if (u.hash) throw new StoreUrlError('-storeUrl must not have a #fragment');

  for (const name of u.searchParams.keys()) {
    if (!PARAMS.includes(name)) throw new StoreUrlError(`-storeUrl parameter "${name.slice(0, 40)}" is not supported (supported: ${PARAMS.join(', ')})`);
  }
  const sslParam = u.searchParams.get('sslmode') ?? 'disable';
  if (sslParam === 'prefer' || sslParam === 'allow') {
    throw new StoreUrlError(
      `-storeUrl sslmode=${sslParam} (TLS if the server offers it) is not supported: use sslmode=require, verify-ca, verify-full, or disable`,
    );
  }
  if (!['disable', 'require', 'verify-ca', 'verify-full'].includes(sslParam)) {
    throw new StoreUrlError(`-storeUrl sslmode must be disable, require, verify-ca or verify-full, got "${sslParam.slice(0, 20)}"`);
  }
  let sslMode = sslParam as SslMode;
  const sslRootCert = u.searchParams.get('sslrootcert') ?? undefined;
  // libpq: with a root certificate, require verifies the chain as verify-ca does
  if (sslRootCert && sslMode === 'require') sslMode = 'verify-ca';
  if (sslRootCert && sslMode === 'disable') throw new StoreUrlError('-storeUrl has sslrootcert without an sslmode that uses TLS');

  let connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS;
  const ct = u.searchParams.get('connect_timeout');
  if (ct !== null) {
    if (!/^\d{1,3}$/.test(ct) || Number(ct) < 1) throw new StoreUrlError('-storeUrl connect_timeout must be whole seconds from 1 to 999');
    connectTimeoutMs = Number(ct) * 1000;
  }
  const applicationName = u.searchParams.get('application_name') ?? 'livepeer-gateway';
  if (applicationName.length > 63 || /[^\x20-\x7e]/.test(applicationName))
    throw new StoreUrlError('-storeUrl application_name must be ≤ 63 printable ASCII characters');

  return {
    host,
    port,
    user,
    ...(password !== undefined ? { password } : {}),
    database,
    sslMode,
    ...(sslRootCert ? { sslRootCert } : {}),
    connectTimeoutMs,
    applicationName,
    address,
    location: `postgres ${address}/${database}`,
    unencryptedRemote: sslMode === 'disable' && !isLoopback(host),
  };
}

function decode(s: string, what: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new StoreUrlError(`-storeUrl ${what} is not valid percent-encoding`);
  }
}
