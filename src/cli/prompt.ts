// Interactive questions on the terminal; non-interactive runs get a clear error instead of a hang.
import { createInterface } from 'node:readline/promises';
import { FlagError } from './flags.ts';

function requireTty(what: string): void {
  if (!process.stdin.isTTY) throw new FlagError(`${what} needed but standard input is not a terminal; pass it as a flag`);
}

export async function readSecret(question: string): Promise<string> {
  requireTty('a password is');
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // mute the echo while the secret is typed
  const write = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput;
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
    if (s.includes(question)) write.call(rl, s);
  };
  try {
    const answer = await rl.question(question);
    process.stderr.write('\n');
    return answer;
  } finally {
    rl.close();
  }
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
