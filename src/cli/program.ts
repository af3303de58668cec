// Shared commander plumbing: Go-style flags on any command, values from flags > LP_ env > -config file.
import { readFileSync } from 'node:fs';
import { type Command, CommanderError, Option } from 'commander';
import { commanderOption, FlagError, flagSpec, IGNORED_FLAGS, NODE_FLAGS, parseConfigFile } from './flags.ts';

/** Adds the named gateway flags (all of them when `names` is omitted) to a command. */
export function addNodeFlags(cmd: Command, names?: readonly string[]): Command {
  for (const spec of NODE_FLAGS) {
    if (!names || names.includes(spec.name)) cmd.addOption(commanderOption(spec));
  }
  return cmd;
}

export function addIgnoredFlags(cmd: Command): Command {
  for (const name of IGNORED_FLAGS) cmd.addOption(new Option(`--${name} [value]`).hideHelp());
  return cmd;
}

/** Flag values of a parsed command as strings, with -config file values filling what flags and env left unset. */
export function flagValues(cmd: Command): Map<string, string> {
  const opts = cmd.opts<Record<string, string | boolean | undefined>>();
  const values = new Map<string, string>();
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) values.set(k, String(v));
  const configPath = values.get('config');
  if (configPath) {
    let text: string;
    try {
      text = readFileSync(configPath, 'utf8');
    } catch (err) {
      throw new FlagError(`cannot read -config ${configPath}: ${(err as Error).message}`);
    }
    for (const [name, value] of parseConfigFile(text, configPath)) {
      const source = cmd.getOptionValueSource(name);
      if (source === undefined || source === 'default') values.set(name, value);
    }
  }
  return values;
}

/** True when the operator set the flag (on the command line, in LP_ env or in the config file). */
export function flagGiven(cmd: Command, name: string, values: Map<string, string>): boolean {
  const source = cmd.getOptionValueSource(name);
  if (source === 'cli' || source === 'env') return true;
  const spec = flagSpec(name);
  return values.has(name) && values.get(name) !== (spec?.default ?? undefined) && source !== 'default';
}

export function isUsageError(err: unknown): boolean {
  return err instanceof FlagError || (err instanceof CommanderError && err.exitCode !== 0);
}
