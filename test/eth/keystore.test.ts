import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { privateKeyToAddress } from 'viem/accounts';
import {
  chooseAccount,
  decryptKeystore,
  KeystoreError,
  listKeystore,
  parseKeystore,
  resolvePassword,
  unlockAccount,
  writeKeystoreFile,
} from '../../src/eth/keystore.ts';

// Test vectors of the Web3 Secret Storage definition (password "testpassword").
const PRIV = '0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d';
const SCRYPT_VECTOR = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: { iv: '83dbcc02d8ccb40e466191a123791e0e' },
    ciphertext: 'd172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c',
    kdf: 'scrypt',
    kdfparams: { dklen: 32, n: 262144, r: 1, p: 8, salt: 'ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19' },
    mac: '2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097',
  },
  id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
  version: 3,
};
const PBKDF2_VECTOR = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: { iv: '6087dab2f9fdbbfaddc31a909735c1e6' },
    ciphertext: '5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46',
    kdf: 'pbkdf2',
    kdfparams: { c: 262144, dklen: 32, prf: 'hmac-sha256', salt: 'ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd' },
    mac: '517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2',
  },
  id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
  version: 3,
};
const FAST = { n: 1024, r: 8, p: 1, dklen: 32 } as const;
const KEY_A = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const KEY_B = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a';

describe('keystore', () => {
  const dirs: string[] = [];
  const tmp = async () => {
    const d = await mkdtemp(join(tmpdir(), 'lpks-'));
    dirs.push(d);
    return d;
  };
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('decrypts the scrypt test vector', async () => {
    assert.equal(await decryptKeystore(parseKeystore(JSON.stringify(SCRYPT_VECTOR)), 'testpassword'), PRIV);
  });

  it('decrypts the pbkdf2 test vector', async () => {
    assert.equal(await decryptKeystore(parseKeystore(JSON.stringify(PBKDF2_VECTOR)), 'testpassword'), PRIV);
  });

  it('a wrong password is a clear error, not garbage', async () => {
    await assert.rejects(decryptKeystore(parseKeystore(JSON.stringify(PBKDF2_VECTOR)), 'nope'), /could not decrypt key with given password/);
  });

  it('a corrupt file is a clear error', async () => {
    assert.throws(() => parseKeystore('{not json', 'k.json'), /k.json is not valid JSON/);
    assert.throws(() => parseKeystore('{"version":1}', 'k.json'), /not a version 3 keystore/);
    const bad = { ...PBKDF2_VECTOR, crypto: { ...PBKDF2_VECTOR.crypto, ciphertext: 'zz' } };
    await assert.rejects(decryptKeystore(parseKeystore(JSON.stringify(bad)), 'x'), /ciphertext is not hex/);
  });

  it('writes standard-scrypt keystores, 0600, geth file names, and reads them back', async () => {
    const dir = await tmp();
    const path = await writeKeystoreFile(dir, KEY_A, 'pw');
    const mode = (await stat(path)).mode & 0o777;
    assert.equal(mode, 0o600);
    assert.match(path, /UTC--\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{9}Z--70997970c51812dc3a010c7d01b50e0d17dc79c8$/);
    const json = JSON.parse(await readFile(path, 'utf8'));
    assert.deepEqual({ n: json.crypto.kdfparams.n, r: json.crypto.kdfparams.r, p: json.crypto.kdfparams.p }, { n: 262144, r: 8, p: 1 });
    const unlocked = await unlockAccount({ keystorePath: dir }, 'pw');
    assert.equal(unlocked.privateKey, KEY_A);
    assert.equal(unlocked.address, privateKeyToAddress(KEY_A));
  });

  it('chooses by -ethAcctAddr, else the only key; two keys and no address is an error', async () => {
    const dir = await tmp();
    await writeKeystoreFile(dir, KEY_A, 'pw', FAST);
    assert.equal((await chooseAccount({ keystorePath: dir })).address, privateKeyToAddress(KEY_A));
    await writeKeystoreFile(dir, KEY_B, 'pw', FAST);
    await assert.rejects(chooseAccount({ keystorePath: dir }), /2 keys in .*choose one with -ethAcctAddr/);
    const b = privateKeyToAddress(KEY_B);
    assert.equal((await chooseAccount({ keystorePath: dir, address: b.toLowerCase() })).address, b);
    await assert.rejects(chooseAccount({ keystorePath: dir, address: '0x0000000000000000000000000000000000000001' }), /no key for/);
    await assert.rejects(chooseAccount({ keystorePath: dir, address: 'bogus' }), /not an Ethereum address/);
    await assert.rejects(unlockAccount({ keystorePath: dir, address: b }, 'wrong'), /wrong password for .*check -ethPassword/);
  });

  it('an empty keystore says how to create a key; a key file path is used as given', async () => {
    const dir = await tmp();
    await assert.rejects(chooseAccount({ keystorePath: dir }), /account new/);
    const file = await writeKeystoreFile(dir, KEY_A, 'pw', FAST);
    await writeKeystoreFile(dir, KEY_B, 'pw', FAST);
    assert.equal((await listKeystore(file)).length, 1);
    assert.equal((await chooseAccount({ keystorePath: file })).address, privateKeyToAddress(KEY_A));
    await writeFile(join(dir, 'junk.txt'), 'not a key');
    assert.equal((await listKeystore(dir)).length, 2, 'junk files in a directory are skipped');
  });

  it('-ethPassword: literal value, or the trimmed contents of a file; empty file falls back to the value', async () => {
    const dir = await tmp();
    const f = join(dir, 'pw.txt');
    await writeFile(f, '  s3cret\n');
    assert.equal(await resolvePassword(f), 's3cret');
    await writeFile(f, '\n');
    assert.equal(await resolvePassword(f), f);
    assert.equal(await resolvePassword('plain'), 'plain');
    assert.equal(await resolvePassword(''), '');
  });

  it('rejects a keystore whose address does not match its key', async () => {
    const ks = parseKeystore(JSON.stringify({ ...SCRYPT_VECTOR, address: '0000000000000000000000000000000000000001' }));
    await assert.rejects(decryptKeystore(ks, 'testpassword'), KeystoreError);
  });
});
