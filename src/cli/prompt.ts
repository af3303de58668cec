// Interactive questions on the terminal; non-interactive runs get a clear error instead of a hang.
// Secrets are read with `read` (npm's own prompt): no echo, and Ctrl-C cancels instead of being swallowed.
import { createInterface } from 'node:readline/promises';
import { read } from 'read';
import { GatewayError } from '../lib/errors.ts';
import type { PassphrasePrompt } from '../node/openAccount.ts';
import { FlagError } from './flags.ts';

/** The operator pressed Ctrl-C at a question. */
export class PromptCanceledError extends GatewayError {}

function requireTty(what: string): void {
  if (!process.stdin.isTTY) throw new FlagError(`${what} needed but standard input is not a terminal; pass it as a flag`);
}

export async function readSecret(question: string): Promise<string> {
  requireTty('a password is');
  try {
    // Questions go to standard error, so standard output stays the command's result.
    return await read({ prompt: question, silent: true, replace: '', input: process.stdin, output: process.stderr, terminal: true });
  } catch (err) {
    if (err instanceof Error && err.message === 'canceled') throw new PromptCanceledError('canceled at the passphrase question', { cause: err });
    throw err;
  }
}

/** The terminal as the node's passphrase prompt, or undefined when standard input is not a terminal. */
export function terminalPrompt(): PassphrasePrompt | undefined {
  if (!process.stdin.isTTY) return undefined;
  return { ask: readSecret, say: (text) => process.stderr.write(`${text}\n`) };
}

export async function confirm(question: string): Promise<boolean> {
  requireTty('a confirmation is');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} (y/n) `)).trim());
  } finally {
    rl.close();
  }
}
