// `account import` and `account list`: known keys go in as a raw key file or a V3 keystore file and come
// out of the keystore unchanged, re-encrypted with the new passphrase; hostile files are refused cheaply.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { privateKeyToAddress } from 'viem/accounts';
import { decryptKeystore, encryptKeystore, parseKeystore } from '../../src/eth/keystore.ts';
import { runInTerminal } from '../helpers/terminal.ts';
import { runCli } from '../helpers/cli.ts';

const KEY_A = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const KEY_B = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a';
const FAST = { n: 1024, r: 8, p: 1, dklen: 32 } as const;
/** secp256k1's group order: the first value that is not a private key */
const CURVE_ORDER = 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141';

const run = runCli;

describe('account import / list', () => {
  const dirs: string[] = [];
  const tmp = async () => {
    const d = await mkdtemp(join(tmpdir(), 'lpacct-'));
    dirs.push(d);
    return d;
  };
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  /** The key file the import wrote, decrypted with `password`. */
  async function importedKey(out: string, password: string): Promise<{ path: string; key: string }> {
    const path = /Keystore file: (\S+)/.exec(out)?.[1];
    assert.ok(path, out);
    assert.equal((await stat(path)).mode & 0o777, 0o600, 'key files are readable by their owner only');
    return { path, key: await decryptKeystore(parseKeystore(await readFile(path, 'utf8')), password) };
  }

  it('imports a raw private key file, encrypted with -ethPassword (a password file)', async () => {
    const dir = await tmp();
    const keystore = join(dir, 'keystore');
    const keyFile = join(dir, 'key.txt');
    await writeFile(keyFile, `  ${KEY_A.slice(2).toUpperCase()}\n`); // no 0x, upper case, surrounding whitespace
    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, 'new passphrase\n');

    const r = await run(['account', 'import', keyFile, '-ethKeystorePath', keystore, '-ethPassword', passwordFile]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`Imported account ${privateKeyToAddress(KEY_A)}`));
    assert.match(r.err, /still holds the key unencrypted/);
    const { key } = await importedKey(r.out, 'new passphrase');
    assert.equal(key, KEY_A);
    for (const text of [r.out, r.err]) {
      assert.doesNotMatch(text, new RegExp(KEY_A.slice(2), 'i'), 'the key is never printed');
      assert.doesNotMatch(text, /new passphrase/, 'nor the passphrase');
    }

    const again = await run(['account', 'import', keyFile, '-ethKeystorePath', keystore, '-ethPassword', 'x']);
    assert.equal(again.code, 1);
    assert.match(again.err, new RegExp(`${privateKeyToAddress(KEY_A)} is already in the keystore`));
  });

  it('imports a V3 keystore file, re-encrypted with the new passphrase', async () => {
    const dir = await tmp();
    const keystore = join(dir, 'keystore');
    const v3 = join(dir, 'exported.json');
    await writeFile(v3, JSON.stringify(await encryptKeystore(KEY_B, 'old passphrase', FAST)));

    const wrong = await run(['account', 'import', v3, '-ethKeystorePath', keystore, '-importPassword', 'not it', '-ethPassword', 'new one']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /wrong -importPassword for .*exported\.json/);

    const r = await run(['account', 'import', v3, '-ethKeystorePath', keystore, '-importPassword', 'old passphrase', '-ethPassword', 'new one']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`Imported account ${privateKeyToAddress(KEY_B)}`));
    assert.doesNotMatch(r.err, /unencrypted/);
    const { path, key } = await importedKey(r.out, 'new one');
    assert.equal(key, KEY_B);
    await assert.rejects(decryptKeystore(parseKeystore(await readFile(path, 'utf8')), 'old passphrase'), /given password/);

    const list = await run(['account', 'list', '-ethKeystorePath', keystore]);
    assert.equal(list.code, 0);
    assert.equal(list.out, `Account #0: ${privateKeyToAddress(KEY_B)} ${path}\n`);
  });

  it('lists the network’s default keystore under -datadir, or says it is empty', async () => {
    const dir = await tmp();
    const empty = await run(['account', 'list', '-datadir', dir]);
    assert.equal(empty.out, `No accounts in ${join(dir, 'keystore')}\n`);
    const keyFile = join(dir, 'k');
    await writeFile(keyFile, KEY_A);
    assert.equal((await run(['account', 'import', keyFile, '-datadir', dir, '-ethPassword', 'pw'])).code, 0);
    const list = await run(['account', 'list', '-datadir', dir]);
    assert.match(list.out, new RegExp(`^Account #0: ${privateKeyToAddress(KEY_A)} ${join(dir, 'keystore')}/UTC--`));
  });

  it('refuses hostile or broken key files before they cost anything', async () => {
    const dir = await tmp();
    const keystore = join(dir, 'keystore');
    const attempt = async (name: string, content: string | Buffer) => {
      const file = join(dir, name);
      await writeFile(file, content);
      return run(['account', 'import', file, '-ethKeystorePath', keystore, '-ethPassword', 'pw', '-importPassword', 'pw']);
    };
    const cases: [string, string | Buffer, RegExp][] = [
      ['zero', '0'.repeat(64), /does not hold a valid secp256k1 private key/],
      ['order', CURVE_ORDER, /does not hold a valid secp256k1 private key/],
      ['garbage', 'not a key at all', /is not valid JSON/],
      ['v2.json', JSON.stringify({ version: 2, crypto: {} }), /is not a version 3 keystore/],
      ['huge', Buffer.alloc(1 << 20, 0x61), /bytes: not a key file/],
    ];
    for (const [name, content, message] of cases) {
      const r = await attempt(name, content);
      assert.equal(r.code, 1, `${name}: ${r.err}`);
      assert.match(r.err, message, name);
    }
    // scrypt parameters that would take 16 GiB of memory, and a pbkdf2 count of hours: refused up front.
    const costly = JSON.parse(JSON.stringify(await encryptKeystore(KEY_A, 'pw', FAST)));
    costly.crypto.kdfparams.n = 2 ** 24;
    const scrypt = await attempt('costly-scrypt.json', JSON.stringify(costly));
    assert.equal(scrypt.code, 1);
    assert.match(scrypt.err, /scrypt parameters n=16777216 r=8 p=1 are too costly/);
    const pbkdf2 = {
      version: 3,
      crypto: { ...costly.crypto, kdf: 'pbkdf2', kdfparams: { c: 2 ** 31, dklen: 32, prf: 'hmac-sha256', salt: '00' } },
    };
    const slow = await attempt('costly-pbkdf2.json', JSON.stringify(pbkdf2));
    assert.equal(slow.code, 1);
    assert.match(slow.err, /pbkdf2 count c=2147483648 is too costly/);
    const missing = await run(['account', 'import', join(dir, 'nope'), '-ethKeystorePath', keystore, '-ethPassword', 'pw']);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /cannot read key file .*nope: ENOENT/);
    assert.deepEqual((await run(['account', 'list', '-ethKeystorePath', keystore])).out, `No accounts in ${keystore}\n`, 'nothing was written');
  });

  it('without a terminal, a missing passphrase is an error that names the flag', async () => {
    assert.ok(!process.stdin.isTTY);
    const dir = await tmp();
    const keyFile = join(dir, 'k');
    await writeFile(keyFile, KEY_A);
    const r = await run(['account', 'import', keyFile, '-ethKeystorePath', join(dir, 'keystore')]);
    assert.equal(r.code, 2);
    assert.match(r.err, /a password is needed but standard input is not a terminal; pass it as a flag/);
    const v3 = join(dir, 'v3.json');
    await writeFile(v3, JSON.stringify(await encryptKeystore(KEY_B, 'old', FAST)));
    const r2 = await run(['account', 'import', v3, '-ethKeystorePath', join(dir, 'keystore'), '-ethPassword', 'new']);
    assert.equal(r2.code, 2);
    assert.match(r2.err, /standard input is not a terminal/);
  });

  it('on a terminal: asks the V3 file’s passphrase, then a new one twice, echoing nothing', async () => {
    const dir = await tmp();
    const keystore = join(dir, 'keystore');
    const v3 = join(dir, 'wallet-export.json');
    await writeFile(v3, JSON.stringify(await encryptKeystore(KEY_B, 'exported with this', FAST)));
    const session = await runInTerminal(`livepeer-gateway account import ${v3} -ethKeystorePath ${keystore}`, process.env);
    try {
      await session.waitFor(/Current passphrase of \S+wallet-export\.json: /);
      let mark = session.screen().length;
      session.typeLine('a wrong guess');
      await session.waitFor(/Wrong passphrase; try again\.[\s\S]*Current passphrase of /, { from: mark });
      mark = session.screen().length;
      session.typeLine('exported with this');
      await session.waitFor(/Passphrase: /, { from: mark });
      mark = session.screen().length;
      session.typeLine('stored with this');
      await session.waitFor(/Repeat passphrase: /, { from: mark });
      session.typeLine('stored with this');
      assert.equal(await session.exited, 0, session.screen());
    } finally {
      session.kill();
    }
    const screen = session.screen();
    assert.match(screen, new RegExp(`Imported account ${privateKeyToAddress(KEY_B)}`));
    assert.doesNotMatch(screen, /a wrong guess|exported with this|stored with this/, 'nothing typed is echoed');
    const { key } = await importedKey(screen.replace(/\r/g, ''), 'stored with this');
    assert.equal(key, KEY_B);
  });

  it('Ctrl-C at a passphrase question stops the command and writes nothing', async () => {
    const dir = await tmp();
    const keystore = join(dir, 'keystore');
    const session = await runInTerminal(`livepeer-gateway account new -ethKeystorePath ${keystore}`, process.env);
    try {
      await session.waitFor(/Passphrase: /);
      session.interrupt();
      assert.equal(await session.exited, 1, session.screen());
    } finally {
      session.kill();
    }
    assert.match(session.screen(), /livepeer-gateway: canceled at the passphrase question/);
    assert.equal((await run(['account', 'list', '-ethKeystorePath', keystore])).out, `No accounts in ${keystore}\n`);
  });
});
