// -storeUrl parsing: libpq's URL form, what this gateway supports of it, and errors that never repeat
// the URL (it holds the password).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StoreUrlError } from '../../src/store/errors.ts';
import { parseStoreUrl } from '../../src/store/pgTarget.ts';

const SECRET = 'pa:ss@w/rd%?';
const withSecret = (rest: string) => `postgres://gw:${encodeURIComponent(SECRET)}@${rest}`;

describe('-storeUrl', () => {
  it('takes user, password, host, port, database and the TLS mode', () => {
    const t = parseStoreUrl(withSecret('db.example.com:6543/gateway?sslmode=verify-full&connect_timeout=3&application_name=gw-eu-1'));
    assert.equal(t.host, 'db.example.com');
    assert.equal(t.port, 6543);
    assert.equal(t.user, 'gw');
    assert.equal(t.password, SECRET);
    assert.equal(t.database, 'gateway');
    assert.equal(t.sslMode, 'verify-full');
    assert.equal(t.connectTimeoutMs, 3000);
    assert.equal(t.applicationName, 'gw-eu-1');
    assert.equal(t.address, 'db.example.com:6543');
    assert.equal(t.location, 'postgres db.example.com:6543/gateway');
    assert.equal(t.unencryptedRemote, false);
  });

  it('defaults: port 5432, no TLS (warned about for a remote host), postgresql:// and IPv6 literals', () => {
    const local = parseStoreUrl('postgresql://gw@127.0.0.1/gateway');
    assert.equal(local.port, 5432);
    assert.equal(local.password, undefined);
    assert.equal(local.sslMode, 'disable');
    assert.equal(local.unencryptedRemote, false);
    assert.equal(parseStoreUrl('postgres://gw:pw@db.internal/gateway').unencryptedRemote, true);
    const v6 = parseStoreUrl('postgres://gw:pw@[::1]:5433/gateway');
    assert.equal(v6.host, '::1');
    assert.equal(v6.address, '[::1]:5433');
    // libpq: a root certificate makes `require` verify the chain
    assert.equal(parseStoreUrl('postgres://gw:pw@db/gateway?sslmode=require&sslrootcert=/etc/ca.pem').sslMode, 'verify-ca');
  });

  it('refuses what it cannot honour, in one line that never contains the password', () => {
    const cases: [string, RegExp][] = [
      ['not a url at all', /not a URL/],
      [`mysql://gw:${SECRET}@db/gateway`, /not a URL|must be a postgres:\/\/ URL/],
      [withSecret('db.example.com/'), /name one database/],
      [withSecret('db.example.com/a/b'), /name one database/],
      [`postgres://:${encodeURIComponent(SECRET)}@db.example.com/gateway`, /no user name/],
      [withSecret('db.example.com/gateway?sslmode=prefer'), /sslmode=prefer .* not supported/],
      [withSecret('db.example.com/gateway?sslmode=sometimes'), /sslmode must be/],
      [withSecret('db.example.com/gateway?sslrootcert=/ca.pem'), /sslrootcert without an sslmode/],
      [withSecret('db.example.com/gateway?connect_timeout=0'), /connect_timeout/],
      [withSecret('db.example.com/gateway?connect_timeout=abc'), /connect_timeout/],
      [withSecret(`db.example.com/gateway?password=${SECRET}`), /parameter "password" is not supported/],
      [withSecret('db.example.com/gateway?application_name=%0Aevil'), /application_name/],
      [withSecret('db.example.com/gateway#frag'), /fragment/],
      ['postgres://gw:%E0%A4%A@db/gateway', /password is not valid percent-encoding/],
      [withSecret('db.example.com:99999/gateway'), /not a URL/],
    ];
    for (const [url, re] of cases) {
      assert.throws(
        () => parseStoreUrl(url),
        (err: unknown) => {
          assert.ok(err instanceof StoreUrlError, `${url}: ${err}`);
          assert.match(err.message, re, url);
          assert.ok(!err.message.includes(SECRET) && !err.message.includes(encodeURIComponent(SECRET)), `secret leaked: ${err.message}`);
          assert.ok(!err.message.includes('\n'));
          return true;
        },
      );
    }
  });
});
