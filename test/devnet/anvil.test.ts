// The devnet building blocks on their own: anvil start/stop, the account list, the compile cache.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { createWalletClient, http } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { ANVIL_ACCOUNTS, ANVIL_MNEMONIC, BROADCASTER, DEPLOYER, ORCHESTRATORS } from '../../scripts/devnet/accounts.ts';
import { startAnvil } from '../../scripts/devnet/anvil.ts';
import { devnetPublicClient } from '../../scripts/devnet/chain.ts';
import { compileDevnetContracts } from '../../scripts/devnet/compile.ts';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A killed child whose parent is gone may linger as a zombie until init reaps it: that is dead too.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return process.platform !== 'linux';
  }
}

const anvilModule = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '../../scripts/devnet/anvil.ts')).href;

/** Runs a Node process that starts anvil, prints its pid, then runs `then`; returns both pids. */
async function anvilInChild(then: string): Promise<{ child: ChildProcess; anvilPid: number }> {
  const code = `const { startAnvil } = await import(${JSON.stringify(anvilModule)});
const a = await startAnvil();
process.stdout.write(a.pid + '\\n');
${then}`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const anvilPid = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${out}`)));
  });
  return { child, anvilPid };
}

async function waitDead(pid: number, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

test('anvil starts on a free port with chain id 42161, the default accounts, and stops by pid', async () => {
  const anvil = await startAnvil();
  try {
    assert.match(anvil.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(anvil.port > 0);
    const pub = devnetPublicClient(anvil.rpcUrl);
    assert.equal(await pub.getChainId(), 42161);
    const wallet = createWalletClient({ transport: http(anvil.rpcUrl) });
    const accounts = (await wallet.getAddresses()).map((a) => a.toLowerCase());
    assert.deepEqual(
      accounts,
      ANVIL_ACCOUNTS.map((a) => a.address.toLowerCase()),
    );
    assert.ok(isAlive(anvil.pid));
  } finally {
    await anvil.stop();
  }
  assert.equal(isAlive(anvil.pid), false);
  await anvil.stop(); // idempotent
});

test('two anvils run side by side; a given port and chain id are honoured', async () => {
  const a = await startAnvil();
  try {
    const b = await startAnvil({ port: a.port + 1 === 65536 ? a.port - 1 : a.port + 1, chainId: 1337 }).catch(
      // The neighbouring port may be taken on a busy machine; a free one proves the same thing.
      () => startAnvil({ chainId: 1337 }),
    );
    try {
      assert.notEqual(a.port, b.port);
      assert.equal(await devnetPublicClient(b.rpcUrl).getChainId(), 1337);
    } finally {
      await b.stop();
    }
  } finally {
    await a.stop();
  }
});

test('anvil does not outlive its parent: normal exit, SIGTERM, and SIGKILL on Linux', async () => {
  const started: { child: ChildProcess; anvilPid: number }[] = [];
  const run = async (then: string) => {
    const r = await anvilInChild(then);
    started.push(r);
    return r;
  };
  try {
    const exits = await run('process.exit(0);');
    assert.ok(await waitDead(exits.anvilPid), 'after process.exit');

    const term = await run('setInterval(() => {}, 1000);');
    term.child.kill('SIGTERM');
    assert.ok(await waitDead(term.anvilPid), 'after SIGTERM of the parent');

    if (process.platform === 'linux') {
      const killed = await run('setInterval(() => {}, 1000);');
      killed.child.kill('SIGKILL');
      assert.ok(await waitDead(killed.anvilPid), 'after SIGKILL of the parent');
    }
  } finally {
    for (const { child, anvilPid } of started) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (isAlive(anvilPid)) process.kill(anvilPid, 'SIGKILL');
    }
  }
});

test('account constants are the anvil mnemonic accounts; roles as documented', () => {
  for (const a of ANVIL_ACCOUNTS) {
    const derived = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: a.index });
    assert.equal(derived.address, a.address);
    assert.equal(Buffer.from(derived.getHdKey().privateKey!).toString('hex'), a.privateKey.slice(2));
  }
  assert.equal(DEPLOYER.index, 0);
  assert.equal(BROADCASTER.address, '0x70997970C51812dc3A010C7d01b50e0d17dc79C8');
  assert.deepEqual(
    ORCHESTRATORS.map((o) => o.index),
    [2, 3, 4],
  );
});

test('contracts compile once; the second call reads the cache', async () => {
  const cacheDir = await mkdtemp(join(tmpdir(), 'devnet-artifacts-'));
  try {
    const first = await compileDevnetContracts({ cacheDir });
    assert.equal(first.cached, false);
    const second = await compileDevnetContracts({ cacheDir });
    assert.equal(second.cached, true);
    assert.equal(second.artifacts.sourceHash, first.artifacts.sourceHash);
    assert.deepEqual(await readdir(cacheDir), [`${first.artifacts.sourceHash}.json`]);
    for (const name of ['Controller', 'TicketBroker', 'BondingManager', 'RoundsManager', 'ServiceRegistry', 'Minter', 'LivepeerToken', 'Multicall3']) {
      const a = second.artifacts.contracts[name];
      assert.ok(a, name);
      assert.match(a.bytecode, /^0x[0-9a-f]{100,}$/);
      assert.match(a.deployedBytecode, /^0x[0-9a-f]{100,}$/);
    }
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
});
