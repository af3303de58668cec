// Geth "Web3 Secret Storage" v3 keystores: read (scrypt or pbkdf2, aes-128-ctr, keccak MAC) and write
// (scrypt with geth's standard parameters). viem has no keystore support, so this is ours.
import { createCipheriv, createDecipheriv, pbkdf2, randomBytes, randomUUID, scrypt, timingSafeEqual } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { scryptAsync as nobleScrypt } from '@noble/hashes/scrypt';
import { keccak256 } from '../lib/keccak.ts';
import { getAddress, isAddress, isAddressEqual, type Address, type Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { GatewayError } from '../lib/errors.ts';

const scryptAsync = promisify(scrypt) as (pw: Buffer, salt: Buffer, keylen: number, opts: object) => Promise<Buffer>;
const pbkdf2Async = promisify(pbkdf2);

export interface ScryptParams {
  n: number;
  r: number;
  p: number;
  dklen: number;
}

/** Bounds on a keystore's KDF cost: 4× geth's standard scrypt memory, 16× its work; 2^24 pbkdf2 rounds. */
const MAX_SCRYPT_MEMORY = 2 ** 30;
const MAX_SCRYPT_WORK = 2 ** 25;
const MAX_PBKDF2_ROUNDS = 2 ** 24;

/** geth's StandardScryptN / StandardScryptP */
export const STANDARD_SCRYPT: Readonly<ScryptParams> = { n: 262144, r: 8, p: 1, dklen: 32 };

export interface KeystoreV3 {
  address?: string;
  id?: string;
  version: number;
  crypto: {
    cipher: string;
    ciphertext: string;
    cipherparams: { iv: string };
    kdf: string;
    kdfparams: Record<string, unknown>;
    mac: string;
  };
}

export class KeystoreError extends GatewayError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { code: 'KEYSTORE', cause: opts.cause });
  }
}

function hexField(obj: Record<string, unknown>, name: string): Buffer {
  const v = obj[name];
  if (typeof v !== 'string' || !/^(0x)?([0-9a-fA-F]{2})*$/.test(v)) throw new KeystoreError(`keystore field ${name} is not hex`);
  return Buffer.from(v.replace(/^0x/, ''), 'hex');
}

function intField(obj: Record<string, unknown>, name: string): number {
  const v = obj[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new KeystoreError(`keystore kdf parameter ${name} is not a positive integer`);
  return v;
}

async function deriveKey(password: string, crypto: KeystoreV3['crypto']): Promise<Buffer> {
  const params = crypto.kdfparams;
  const salt = hexField(params, 'salt');
  const dklen = intField(params, 'dklen');
  if (dklen < 32 || dklen > 64) throw new KeystoreError('keystore dklen must be 32 to 64');
  const pw = Buffer.from(password.normalize('NFKD'), 'utf8');
  if (crypto.kdf === 'scrypt') {
    const n = intField(params, 'n');
    const r = intField(params, 'r');
    const p = intField(params, 'p');
    // A key file from elsewhere must not buy gigabytes of memory or hours of CPU (geth's standard: 256 MiB).
    if (128 * r * n > MAX_SCRYPT_MEMORY || n * r * p > MAX_SCRYPT_WORK)
      throw new KeystoreError(`keystore scrypt parameters n=${n} r=${r} p=${p} are too costly`);
    const maxmem = 128 * r * (n + p) + 64 * 1024 * 1024;
    // OpenSSL refuses N ≥ 2^(16·r) (RFC 7914), which geth accepts (e.g. r = 1, N = 2^18):
    // those keystores go through the slower pure-JS scrypt instead.
    if (r * 16 > Math.log2(n)) return scryptAsync(pw, salt, dklen, { N: n, r, p, maxmem });
    return Buffer.from(await nobleScrypt(pw, salt, { N: n, r, p, dkLen: dklen, maxmem }));
  }
  if (crypto.kdf === 'pbkdf2') {
    if (params.prf !== 'hmac-sha256') throw new KeystoreError(`unsupported pbkdf2 prf ${String(params.prf)}`);
    const c = intField(params, 'c');
    if (c > MAX_PBKDF2_ROUNDS) throw new KeystoreError(`keystore pbkdf2 count c=${c} is too costly`);
    return pbkdf2Async(pw, salt, c, dklen, 'sha256');
  }
  throw new KeystoreError(`unsupported keystore kdf ${crypto.kdf}`);
}

function mac(derived: Buffer, ciphertext: Buffer): Buffer {
  return Buffer.from(keccak256(Buffer.concat([derived.subarray(16, 32), ciphertext])));
}

export function parseKeystore(text: string, source = 'keystore'): KeystoreV3 {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KeystoreError(`${source} is not valid JSON`);
  }
  const ks = json as Partial<KeystoreV3> & { Crypto?: KeystoreV3['crypto'] };
  const crypto = ks?.crypto ?? ks?.Crypto;
  if (ks?.version !== 3 || !crypto || typeof crypto !== 'object') {
    throw new KeystoreError(`${source} is not a version 3 keystore`);
  }
  return { ...ks, crypto } as KeystoreV3;
}

/** Decrypts a keystore; a wrong password is reported as such (MAC mismatch), never as garbage. */
export async function decryptKeystore(keystore: KeystoreV3, password: string): Promise<Hex> {
  const { crypto } = keystore;
  if (crypto.cipher !== 'aes-128-ctr') throw new KeystoreError(`unsupported keystore cipher ${crypto.cipher}`);
  const ciphertext = hexField(crypto as unknown as Record<string, unknown>, 'ciphertext');
  const iv = hexField(crypto.cipherparams as Record<string, unknown>, 'iv');
  const expectedMac = hexField(crypto as unknown as Record<string, unknown>, 'mac');
  if (iv.length !== 16) throw new KeystoreError('keystore iv must be 16 bytes');
  const derived = await deriveKey(password, crypto);
  const actual = mac(derived, ciphertext);
  if (expectedMac.length !== actual.length || !timingSafeEqual(expectedMac, actual)) {
    throw new KeystoreError('could not decrypt key with given password');
  }
  const decipher = createDecipheriv('aes-128-ctr', derived.subarray(0, 16), iv);
  const key = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  if (key.length !== 32) throw new KeystoreError('keystore does not hold a 32-byte secp256k1 key');
  const privateKey = `0x${key.toString('hex')}` as Hex;
  if (keystore.address && isAddress(`0x${keystore.address.replace(/^0x/, '')}`)) {
    const derivedAddress = privateKeyToAddress(privateKey);
    if (!isAddressEqual(derivedAddress, `0x${keystore.address.replace(/^0x/, '')}`)) {
      throw new KeystoreError(`keystore address ${keystore.address} does not match its key (${derivedAddress})`);
    }
  }
  return privateKey;
}

export async function encryptKeystore(privateKey: Hex, password: string, scryptParams: Readonly<ScryptParams> = STANDARD_SCRYPT): Promise<KeystoreV3> {
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const kdfparams = { dklen: scryptParams.dklen, n: scryptParams.n, r: scryptParams.r, p: scryptParams.p, salt: salt.toString('hex') };
  const crypto: KeystoreV3['crypto'] = { cipher: 'aes-128-ctr', ciphertext: '', cipherparams: { iv: iv.toString('hex') }, kdf: 'scrypt', kdfparams, mac: '' };
  const derived = await deriveKey(password, crypto);
  const cipher = createCipheriv('aes-128-ctr', derived.subarray(0, 16), iv);
  const ciphertext = Buffer.concat([cipher.update(Buffer.from(privateKey.slice(2), 'hex')), cipher.final()]);
  crypto.ciphertext = ciphertext.toString('hex');
  crypto.mac = mac(derived, ciphertext).toString('hex');
  return { address: privateKeyToAddress(privateKey).slice(2).toLowerCase(), crypto, id: randomUUID(), version: 3 };
}

/** geth's file name: UTC--<ISO time with dashes>--<address lower-case, no 0x> */
export function keystoreFileName(address: Address, now = new Date()): string {
  const iso = now.toISOString().replace(/:/g, '-');
  return `UTC--${iso.replace(/Z$/, '000000Z')}--${address.slice(2).toLowerCase()}`;
}

/** Writes a new keystore file readable only by its owner; returns its path. */
export async function writeKeystoreFile(
  dir: string,
  privateKey: Hex,
  password: string,
  scryptParams: Readonly<ScryptParams> = STANDARD_SCRYPT,
): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ks = await encryptKeystore(privateKey, password, scryptParams);
  const path = join(dir, keystoreFileName(privateKeyToAddress(privateKey)));
  await writeFile(path, `${JSON.stringify(ks)}\n`, { mode: 0o600, flag: 'wx' });
  return path;
}

export interface KeystoreEntry {
  path: string;
  address: Address;
  keystore: KeystoreV3;
}

/** Lists the keys in a keystore directory, or the one key file given. Unreadable files are skipped. */
export async function listKeystore(pathOrDir: string): Promise<KeystoreEntry[]> {
  const info = await stat(pathOrDir).catch(() => undefined);
  if (!info) return [];
  const files = info.isDirectory() ? (await readdir(pathOrDir)).sort().map((f) => join(pathOrDir, f)) : [pathOrDir];
  const entries: KeystoreEntry[] = [];
  for (const path of files) {
    let keystore: KeystoreV3;
    try {
      keystore = parseKeystore(await readFile(path, 'utf8'), path);
    } catch (err) {
      if (!info.isDirectory()) throw err;
      continue;
    }
    const addr = keystore.address ? `0x${keystore.address.replace(/^0x/, '')}` : '';
    if (!isAddress(addr)) {
      if (!info.isDirectory()) throw new KeystoreError(`${path} has no address field`);
      continue;
    }
    entries.push({ path, address: getAddress(addr), keystore });
  }
  return entries;
}

/**
 * `-ethPassword` is a password or the path of a file holding it (trimmed). An empty file falls back
 * to the literal value, as go-livepeer does. Resolved once, before any account is created or unlocked.
 */
export async function resolvePassword(value: string): Promise<string> {
  if (!value) return '';
  const text = await readFile(value, 'utf8').catch(() => undefined);
  const trimmed = text?.trim();
  return trimmed ? trimmed : value;
}

export interface AccountChoice {
  /** keystore directory or key file */
  keystorePath: string;
  /** -ethAcctAddr, optional */
  address?: string;
}

/** Picks the account: the one -ethAcctAddr names, else the only key present. */
export async function chooseAccount(choice: AccountChoice): Promise<KeystoreEntry> {
  const entries = await listKeystore(choice.keystorePath);
  if (choice.address) {
    if (!isAddress(choice.address, { strict: false })) throw new KeystoreError(`-ethAcctAddr ${choice.address} is not an Ethereum address`);
    const found = entries.find((e) => isAddressEqual(e.address, choice.address as Address));
    if (!found) throw new KeystoreError(`no key for ${choice.address} in ${choice.keystorePath}`);
    return found;
  }
  if (entries.length === 0) {
    throw new KeystoreError(`no keys in ${choice.keystorePath}; create one with \`livepeer-gateway account new\` or point -ethKeystorePath at a keystore`);
  }
  if (entries.length > 1) {
    throw new KeystoreError(`${entries.length} keys in ${choice.keystorePath} (${entries.map((e) => e.address).join(', ')}); choose one with -ethAcctAddr`);
  }
  return entries[0]!;
}

/** Chooses and decrypts the account in one step. */
export async function unlockAccount(choice: AccountChoice, password: string): Promise<{ address: Address; privateKey: Hex; path: string }> {
  const entry = await chooseAccount(choice);
  try {
    const privateKey = await decryptKeystore(entry.keystore, password);
    return { address: entry.address, privateKey, path: entry.path };
  } catch (err) {
    if (err instanceof KeystoreError && /given password/.test(err.message)) {
      throw new KeystoreError(`wrong password for ${entry.address} (${entry.path}); check -ethPassword`);
    }
    throw err;
  }
}
