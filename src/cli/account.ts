// `livepeer-gateway account new`: creates an encrypted key in the keystore.
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { resolvePassword, writeKeystoreFile } from '../eth/keystore.ts';
import { addNodeFlags, flagValues } from './program.ts';
import { FlagError } from './flags.ts';
import { readSecret } from './prompt.ts';

export function defaultDataDir(network: string): string {
  return join(homedir(), '.lpData', network);
}

export function keystoreDir(values: Map<string, string>): string {
  return values.get('ethKeystorePath') || join(values.get('datadir') || defaultDataDir(values.get('network') ?? 'offchain'), 'keystore');
}

export function registerAccountCommands(program: Command, out: NodeJS.WritableStream): void {
  const account = program.command('account').description("Manage the gateway's Ethereum account");
  const cmd = account.command('new').description('Create a new account, encrypted with -ethPassword (or a password typed twice)');
  addNodeFlags(cmd, ['network', 'datadir', 'ethKeystorePath', 'ethPassword', 'config']);
  cmd.action(async () => {
    const values = flagValues(cmd);
    const dir = keystoreDir(values);
    // The password file is read before the key exists, so the key is encrypted with its contents.
    let password = await resolvePassword(values.get('ethPassword') ?? '');
    if (!password) {
      password = await readSecret('Passphrase: ');
      if ((await readSecret('Repeat passphrase: ')) !== password) throw new FlagError('passphrases do not match');
    }
    if (!password) throw new FlagError('refusing to create an account with an empty password');
    const key = `0x${randomBytes(32).toString('hex')}` as Hex;
    const path = await writeKeystoreFile(dir, key, password);
    out.write(`Created account ${privateKeyToAddress(key)}\nKeystore file: ${path}\n`);
  });
}
