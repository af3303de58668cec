// The devnet building blocks on their own: anvil start/stop, the account list, the compile cache.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    return true;
  } catch {
    return false;
  }
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
