// `livepeer-gateway account new | import | list`: the gateway's keys, in a geth v3 keystore.
import { open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { type Hex, isAddressEqual } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { decryptKeystore, KeystoreError, listKeystore, parseKeystore, resolvePassword, writeKeystoreFile } from '../eth/keystore.ts';
import { askNewPassphrase, createAccount, type PassphrasePrompt } from '../node/openAccount.ts';
import { FlagError } from './flags.ts';
import type { Io } from './io.ts';
import { addNodeFlags, flagValues } from './program.ts';
import { readSecret } from './prompt.ts';

/** Value flags of the account commands (besides the node's), for the Go-style argument normalizer. */
export const ACCOUNT_VALUE_FLAGS = ['importPassword'] as const;

/** A key file is a few hundred bytes; anything much larger is not one. */
const MAX_KEY_FILE_BYTES = 64 * 1024;
const OLD_PASSPHRASE_ATTEMPTS = 3;

export function defaultDataDir(network: string): string {
  return join(homedir(), '.lpData', network);
}

export function keystoreDir(values: Map<string, string>): string {
  return values.get('ethKeystorePath') || join(values.get('datadir') || defaultDataDir(values.get('network') ?? 'offchain'), 'keystore');
}

const terminal: PassphrasePrompt = { ask: readSecret, say: (text) => process.stderr.write(`${text}\n`) };

/** The new key's passphrase: -ethPassword (literal or file), else typed twice on the terminal. */
async function newPassphrase(values: Map<string, string>): Promise<string> {
  // The password file is read before the key exists, so the key is encrypted with its contents.
  const password = (await resolvePassword(values.get('ethPassword') ?? '')) || (await askNewPassphrase(terminal));
  if (!password) throw new FlagError('refusing to encrypt a key with an empty password');
  return password;
}

async function readKeyFile(path: string): Promise<string> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, 'r');
  } catch (err) {
    throw new FlagError(`cannot read key file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const { size } = await file.stat();
    if (size > MAX_KEY_FILE_BYTES) throw new KeystoreError(`${path} is ${size} bytes: not a key file (a raw key or a V3 keystore is under 1 KiB)`);
    return await file.readFile('utf8');
  } finally {
    await file.close();
  }
}

/** A raw secp256k1 private key: 64 hex digits, 0x optional, surrounding whitespace ignored. */
export function parseRawKey(text: string, source: string): Hex | undefined {
  const m = /^(?:0x)?([0-9a-fA-F]{64})$/.exec(text.trim());
  if (!m) return undefined;
  const key = `0x${m[1]!.toLowerCase()}` as Hex;
  try {
    privateKeyToAddress(key); // rejects 0 and values at or above the curve order
  } catch {
    throw new KeystoreError(`${source} does not hold a valid secp256k1 private key`);
  }
  return key;
}

/** The key inside a V3 keystore file, opened with -importPassword or a passphrase typed on the terminal. */
async function decryptImported(text: string, source: string, values: Map<string, string>): Promise<Hex> {
  const keystore = parseKeystore(text, source);
  const given = values.get('importPassword');
  if (given !== undefined) {
    try {
      return await decryptKeystore(keystore, await resolvePassword(given));
    } catch (err) {
      if (err instanceof KeystoreError && /given password/.test(err.message)) throw new KeystoreError(`wrong -importPassword for ${source}`);
      throw err;
    }
  }
  for (let i = 1; ; i++) {
    try {
      return await decryptKeystore(keystore, await readSecret(`Current passphrase of ${source}: `));
    } catch (err) {
      if (!(err instanceof KeystoreError && /given password/.test(err.message)) || i >= OLD_PASSPHRASE_ATTEMPTS) throw err;
      terminal.say('Wrong passphrase; try again.');
    }
  }
}

export function registerAccountCommands(program: Command, { out, err }: Io): void {
  const account = program.command('account').description("Manage the gateway's Ethereum account");

  const create = account.command('new').description('Create a new account, encrypted with -ethPassword (or a passphrase typed twice)');
  addNodeFlags(create, ['network', 'datadir', 'ethKeystorePath', 'ethPassword', 'config']);
  create.action(async () => {
    const values = flagValues(create);
    const created = await createAccount(keystoreDir(values), await newPassphrase(values));
    out.write(`Created account ${created.address}\nKeystore file: ${created.path}\n`);
  });

  const importer = account
    .command('import')
    .argument('<keyfile>', 'a raw private key (64 hex digits) or a V3 JSON keystore file')
    .description('Import a key into the keystore, encrypted with -ethPassword (or a new passphrase typed twice)');
  addNodeFlags(importer, ['network', 'datadir', 'ethKeystorePath', 'ethPassword', 'config']);
  importer.addOption(
    new Option('--importPassword <value>', 'Current passphrase of a V3 keystore file, or the path of a file holding it (asked when not given)'),
  );
  importer.action(async (keyFile: string) => {
    const values = flagValues(importer);
    const dir = keystoreDir(values);
    const text = await readKeyFile(keyFile);
    const raw = parseRawKey(text, keyFile);
    const privateKey = raw ?? (await decryptImported(text, keyFile, values));
    const address = privateKeyToAddress(privateKey);
    const existing = (await listKeystore(dir)).find((e) => isAddressEqual(e.address, address));
    if (existing) throw new KeystoreError(`${address} is already in the keystore: ${existing.path}`);
    const path = await writeKeystoreFile(dir, privateKey, await newPassphrase(values));
    out.write(`Imported account ${address}\nKeystore file: ${path}\n`);
    if (raw) err.write(`${keyFile} still holds the key unencrypted: delete it once the keystore file and its passphrase are backed up.\n`);
  });

  const list = account.command('list').description('List the accounts in the keystore');
  addNodeFlags(list, ['network', 'datadir', 'ethKeystorePath', 'config']);
  list.action(async () => {
    const values = flagValues(list);
    const dir = keystoreDir(values);
    const entries = await listKeystore(dir);
    if (entries.length === 0) {
      out.write(`No accounts in ${dir}\n`);
      return;
    }
    for (const [i, e] of entries.entries()) out.write(`Account #${i}: ${e.address} ${e.path}\n`);
  });
}
