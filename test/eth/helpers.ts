// Shared bits of the Ethereum-side tests: a port nobody listens on, captured CLI output, quick keystores.
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Hex } from 'viem';
import { type STANDARD_SCRYPT, writeKeystoreFile } from '../../src/eth/keystore.ts';

/** A local port with nothing listening (bound, then closed). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface CapturedIo {
  out: Writable;
  err: Writable;
  stdout(): string;
  stderr(): string;
}

export function captureIo(): CapturedIo {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        append(chunk.toString());
        cb();
      },
    });
  return {
    out: sink((s) => (out += s)),
    err: sink((s) => (err += s)),
    stdout: () => out,
    stderr: () => err,
  };
}

/** Cheap scrypt parameters: these keystores only guard public devnet keys inside a test run. */
const LIGHT_SCRYPT = { n: 1024, r: 8, p: 1, dklen: 32 } as unknown as typeof STANDARD_SCRYPT;

/** A fresh keystore directory holding `privateKey`, encrypted with `password`. */
export async function tempKeystore(privateKey: Hex, password = 'test-password'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lpgw-keys-'));
  await writeKeystoreFile(dir, privateKey, password, LIGHT_SCRYPT);
  return dir;
}
