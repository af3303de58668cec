// Opens the gateway's account at start-up the way go-livepeer does it for an operator at a terminal: an
// empty keystore gets a new account (passphrase typed twice), a key without -ethPassword is unlocked with
// a typed passphrase. Without a terminal nothing is asked and the errors say which flag to set.
import { randomBytes } from 'node:crypto';
import type { Address, Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { chooseAccount, decryptKeystore, KeystoreError, listKeystore, resolvePassword, unlockAccount, writeKeystoreFile } from '../eth/keystore.ts';
import type { Logger } from '../lib/log.ts';

/** The operator's terminal, for secrets. Absent when standard input is not a terminal. */
export interface PassphrasePrompt {
  /** Reads one line without echoing it. */
  ask(question: string): Promise<string>;
  /** A line of guidance for the operator at the terminal (not a log line). */
  say(text: string): void;
}

export interface UnlockedAccount {
  address: Address;
  privateKey: Hex;
  /** the keystore file */
  path: string;
}

export interface AccountLocation {
  /** keystore directory or key file */
  keystorePath: string;
  /** -ethAcctAddr, optional */
  address?: string;
  /** -ethPassword: literal or file, "" when not given */
  ethPassword: string;
}

/** Tries per question before giving up, so a forgotten passphrase does not loop forever. */
const ATTEMPTS = 3;

const isWrongPassword = (err: unknown): boolean => err instanceof KeystoreError && /given password/.test(err.message);

/** A new passphrase, typed twice; an empty one is refused. */
export async function askNewPassphrase(prompt: PassphrasePrompt): Promise<string> {
  for (let i = 0; i < ATTEMPTS; i++) {
    const first = await prompt.ask('Passphrase: ');
    if (!first) {
      prompt.say('An empty passphrase is refused: whoever copies the key file would hold the key.');
      continue;
    }
    if ((await prompt.ask('Repeat passphrase: ')) === first) return first;
    prompt.say('The passphrases do not match; try again.');
  }
  throw new KeystoreError(`no passphrase chosen after ${ATTEMPTS} attempts`);
}

/** A fresh secp256k1 key, encrypted into a new keystore file (mode 0600) in `dir`. */
export async function createAccount(dir: string, password: string): Promise<UnlockedAccount> {
  const privateKey = `0x${randomBytes(32).toString('hex')}` as Hex;
  const path = await writeKeystoreFile(dir, privateKey, password);
  return { address: privateKeyToAddress(privateKey), privateKey, path };
}

/**
 * Chooses and unlocks the account. With a terminal (`prompt`): an empty keystore gets a new account, and
 * without -ethPassword a key that the empty passphrase does not open is unlocked with a typed one.
 */
export async function openAccount(location: AccountLocation, log: Logger, prompt?: PassphrasePrompt): Promise<UnlockedAccount> {
  // A password file is read before anything is created or unlocked, so both use its contents.
  const password = await resolvePassword(location.ethPassword);
  const choice = { keystorePath: location.keystorePath, ...(location.address ? { address: location.address } : {}) };
  if (prompt && !location.address && (await listKeystore(location.keystorePath)).length === 0) {
    prompt.say(`No Ethereum account in ${location.keystorePath}: creating a new account for this gateway.`);
    if (!password) prompt.say('Choose a passphrase to encrypt its key. It is asked at every start; nothing appears while you type.');
    const account = await createAccount(location.keystorePath, password || (await askNewPassphrase(prompt)));
    prompt.say(`Created account ${account.address}; key file ${account.path}`);
    prompt.say('Back up the key file and the passphrase: without both, funds in this account and its TicketBroker deposit are lost.');
    log.info({ address: account.address, keystore: account.path }, 'created a new Ethereum account');
    return account;
  }
  if (password || !prompt) return unlockAccount(choice, password);

  // go-livepeer's order: the empty passphrase first (keys made without one keep starting unattended), then ask.
  const entry = await chooseAccount(choice);
  try {
    return { address: entry.address, privateKey: await decryptKeystore(entry.keystore, ''), path: entry.path };
  } catch (err) {
    if (!isWrongPassword(err)) throw err;
  }
  prompt.say(`Enter the passphrase of Ethereum account ${entry.address} (nothing appears while you type).`);
  for (let i = 1; i <= ATTEMPTS; i++) {
    const typed = await prompt.ask('Passphrase: ');
    try {
      return { address: entry.address, privateKey: await decryptKeystore(entry.keystore, typed), path: entry.path };
    } catch (err) {
      if (!isWrongPassword(err)) throw err;
      if (i < ATTEMPTS) prompt.say('Wrong passphrase; try again.');
    }
  }
  throw new KeystoreError(`wrong passphrase for ${entry.address} (${entry.path}), ${ATTEMPTS} attempts`);
}
