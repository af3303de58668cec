// livepeer-gateway: command line entry. Go-style flags as `livepeer -gateway` takes them.
import { Command, CommanderError } from 'commander';
import { ACCOUNT_VALUE_FLAGS, registerAccountCommands } from './account.ts';
import { DEPOSIT_VALUE_FLAGS, registerDepositCommands } from './deposit.ts';
import { FlagError, normalizeGoArgs } from './flags.ts';
import { registerGatewayAction } from './gatewayCommand.ts';
import { KEYS_VALUE_FLAGS, registerKeysCommands } from './keys.ts';
import type { Io } from './io.ts';
import { addIgnoredFlags, addNodeFlags, isUsageError } from './program.ts';

export type { Io };

export function buildProgram(io: Io): Command {
  const program = new Command('livepeer-gateway')
    .description('Livepeer gateway (broadcaster): RTMP in, paid transcoding on Livepeer orchestrators, HLS out')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) })
    .enablePositionalOptions()
    .showHelpAfterError(false);
  addIgnoredFlags(addNodeFlags(program));
  registerAccountCommands(program, io);
  registerDepositCommands(program, io);
  registerKeysCommands(program, io);
  registerGatewayAction(program, io);
  return program;
}

/** Runs the command line; returns the process exit code. */
export async function main(argv: readonly string[], io: Io = { out: process.stdout, err: process.stderr }): Promise<number> {
  try {
    const program = buildProgram(io);
    await program.parseAsync(
      normalizeGoArgs(argv, { extraBools: ['yes', 'dry-run'], extraValues: [...DEPOSIT_VALUE_FLAGS, ...ACCOUNT_VALUE_FLAGS, ...KEYS_VALUE_FLAGS] }),
      { from: 'user' },
    );
    return 0;
  } catch (err) {
    if (err instanceof CommanderError && err.exitCode === 0) return 0; // --help, --version
    if (err instanceof CommanderError) return 2; // commander already printed its one line
    const message = err instanceof Error ? err.message : String(err);
    io.err.write(`livepeer-gateway: ${message}\n`);
    return isUsageError(err) || err instanceof FlagError ? 2 : 1;
  }
}
