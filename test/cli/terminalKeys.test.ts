// The Livepeer docs' self-hosted gateway command line, typed in a terminal as a new operator would, with
// our binary's name: the passphrase is asked (not echoed), a first run creates the account, and the node
// reaches "Gateway Mode" against the devnet chain. Without a terminal nothing is asked.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { decryptKeystore, parseKeystore } from '../../src/eth/keystore.ts';
import { privateKeyToAddress } from 'viem/accounts';
import { main } from '../../src/cli/main.ts';
import { withDevnet } from '../helpers/devnet.ts';
import { assertPortFree, runInTerminal, type TerminalSession } from '../helpers/terminal.ts';
import { freePort } from '../e2e/helpers.ts';

const DEVNET_KEYSTORE = fileURLToPath(new URL('../../keystore', import.meta.url));
const DEVNET_ADDRESS = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

/** The docs' command line, word for word except the RPC URL placeholder and the binary's name. */
const docsCommand = (rpcUrl: string, ports = { rtmp: 1935, http: 8935 }) =>
  `livepeer-gateway -broadcaster -network arbitrum-one-mainnet -ethUrl ${rpcUrl} ` +
  '-ethKeystorePath ~/.lpData/arbitrum-one-mainnet/keystore -maxPricePerUnit 0 ' +
  `-rtmpAddr 127.0.0.1:${ports.rtmp} -httpAddr 127.0.0.1:${ports.http}`;

describe('the docs’ gateway command line in a terminal', () => {
  const devnet = withDevnet({ fundBroadcaster: { deposit: 10n ** 18n, reserve: 10n ** 18n } });
  const homes: string[] = [];
  const sessions: TerminalSession[] = [];
  after(async () => {
    for (const s of sessions) s.kill();
    for (const h of homes) await rm(h, { recursive: true, force: true });
  });

  /** A fresh $HOME, so `~/.lpData/…` is the test's own; LP_ETHCONTROLLER points the network at the devnet (same chain id). */
  async function operatorEnv(): Promise<{ home: string; env: NodeJS.ProcessEnv }> {
    const home = await mkdtemp(join(tmpdir(), 'lpgw-home-'));
    homes.push(home);
    return { home, env: { ...process.env, HOME: home, LP_ETHCONTROLLER: devnet.contracts.controller } };
  }

  async function stopWithCtrlC(session: TerminalSession): Promise<void> {
    session.interrupt();
    assert.equal(await session.exited, 0, `Ctrl-C is a clean shutdown; terminal:\n${session.screen()}`);
  }

  it('asks for the passphrase without echo, then reaches Gateway Mode on 127.0.0.1:8935', async () => {
    for (const [port, what] of [
      [8935, 'this test runs the docs’ command line verbatim, with -httpAddr 127.0.0.1:8935'],
      [1935, 'the docs’ -rtmpAddr'],
      [5935, 'the default -cliAddr'],
    ] as const) {
      await assertPortFree(port, what);
    }
    const { home, env } = await operatorEnv();
    const keystore = join(home, '.lpData', 'arbitrum-one-mainnet', 'keystore');
    await mkdir(keystore, { recursive: true });
    for (const f of await readdir(DEVNET_KEYSTORE)) if (f.startsWith('UTC--')) await copyFile(join(DEVNET_KEYSTORE, f), join(keystore, f));

    const session = await runInTerminal(docsCommand(devnet.rpcUrl), env);
    sessions.push(session);
    await session.waitFor(new RegExp(`Enter the passphrase of Ethereum account ${DEVNET_ADDRESS}`));
    let mark = session.screen().length;
    await session.waitFor(/Passphrase: /, { from: mark - 20 });
    mark = session.screen().length;
    session.typeLine('not-the-passphrase');
    await session.waitFor(/Wrong passphrase; try again\./, { from: mark });
    mark = session.screen().length;
    await session.waitFor(/Passphrase: /, { from: mark - 20 });
    session.typeLine('devnet');
    // the last of the start-up lines
    await session.waitFor(/Gateway account 0x[0-9a-fA-F]{40} on arbitrum-one-mainnet/);
    const screen = session.screen();
    assert.match(screen, /\*\*\*Livepeer Running in Gateway Mode\*\*\*/);
    assert.match(screen, /Video Ingest Endpoint - rtmp:\/\/127\.0\.0\.1:1935/);
    assert.match(screen, /HTTP Server listening on http:\/\/127\.0\.0\.1:8935/);
    assert.match(screen, /CLI server listening on http:\/\/127\.0\.0\.1:5935/);
    assert.match(screen, new RegExp(`Gateway account ${DEVNET_ADDRESS} on arbitrum-one-mainnet`));
    assert.match(screen, /ffmpeg \S+ at \S+ \([^)]+\); ffprobe \S+ at \S+ \([^)]+\)/, 'says which ffmpeg it runs');
    assert.doesNotMatch(screen, /not-the-passphrase/, 'typed passphrases are not echoed');
    assert.doesNotMatch(screen, /Passphrase: [^\n]*devnet/, 'the right passphrase is not echoed either');
    assert.equal((await fetch('http://127.0.0.1:8935/healthz')).status, 200);
    await stopWithCtrlC(session);
  });

  it('creates the account on a first run (passphrase twice), then reaches Gateway Mode', async () => {
    const { home, env } = await operatorEnv();
    const ports = { rtmp: await freePort(), http: await freePort() };
    const cli = await freePort();
    const session = await runInTerminal(`${docsCommand(devnet.rpcUrl, ports)} -cliAddr 127.0.0.1:${cli}`, env);
    sessions.push(session);
    await session.waitFor(/No Ethereum account in \S+: creating a new account/);
    let mark = session.screen().length;
    await session.waitFor(/Passphrase: /, { from: mark - 20 });
    session.typeLine('first run passphrase');
    mark = session.screen().length;
    await session.waitFor(/Repeat passphrase: /, { from: mark - 20 });
    session.typeLine('a typo');
    mark = session.screen().length;
    await session.waitFor(/do not match; try again/, { from: mark });
    await session.waitFor(/Passphrase: /, { from: mark });
    session.typeLine('first run passphrase');
    mark = session.screen().length;
    await session.waitFor(/Repeat passphrase: /, { from: mark - 20 });
    session.typeLine('first run passphrase');
    const [, address, keyFile] = await session.waitFor(/Created account (0x[0-9a-fA-F]{40}); key file (\S+)/);
    await session.waitFor(new RegExp(`Gateway account ${address} on arbitrum-one-mainnet`));
    assert.match(session.screen(), /\*\*\*Livepeer Running in Gateway Mode\*\*\*/);
    assert.doesNotMatch(session.screen(), /first run passphrase|a typo/, 'nothing typed is echoed');
    await stopWithCtrlC(session);

    // The key went where the docs' -ethKeystorePath says, readable by its owner only, and opens with what was typed.
    assert.equal(keyFile!.startsWith(join(home, '.lpData', 'arbitrum-one-mainnet', 'keystore')), true, keyFile);
    assert.equal((await stat(keyFile!)).mode & 0o777, 0o600);
    const key = await decryptKeystore(parseKeystore(await readFile(keyFile!, 'utf8')), 'first run passphrase');
    assert.equal(privateKeyToAddress(key), address);
  });

  it('without a terminal nothing is asked: the errors name the flag or command to use', async () => {
    assert.ok(!process.stdin.isTTY, 'the test runner gives tests no terminal');
    const { home } = await operatorEnv();
    const run = async (keystore: string) => {
      let err = '';
      const sink = new Writable({
        write: (c, _e, cb) => {
          err += String(c);
          cb();
        },
      });
      const args = ['-gateway', '-network', 'arbitrum-one-mainnet', '-ethUrl', devnet.rpcUrl, '-ethController', devnet.contracts.controller];
      const ports = ['-rtmpAddr', '127.0.0.1:0', '-httpAddr', '127.0.0.1:0', '-cliAddr', '127.0.0.1:0'];
      const code = await main([...args, ...ports, '-datadir', join(home, 'data'), '-ethKeystorePath', keystore], { out: sink, err: sink });
      return { code, err };
    };
    const locked = await run(DEVNET_KEYSTORE);
    assert.equal(locked.code, 1);
    assert.match(locked.err, new RegExp(`wrong password for ${DEVNET_ADDRESS} .*; check -ethPassword`));
    const empty = await run(join(home, 'no-keys-here'));
    assert.equal(empty.code, 1);
    assert.match(empty.err, /no keys in .*no-keys-here; create one with `livepeer-gateway account new`/);
    await assert.rejects(stat(join(home, 'no-keys-here')), 'no account was created without a terminal');
  });
});
