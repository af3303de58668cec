// The embedded pool-walker bytecode is what its Solidity source compiles to.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { POOL_WALKER_BYTECODE, POOL_WALKER_SOLC_SETTINGS, POOL_WALKER_SOURCE } from '../../src/eth/poolWalker.ts';

test('POOL_WALKER_BYTECODE is reproducible from POOL_WALKER_SOURCE', () => {
  const solc = createRequire(import.meta.url)('solc') as { compile(input: string): string };
  const input = {
    language: 'Solidity',
    sources: { 'PoolWalker.sol': { content: POOL_WALKER_SOURCE } },
    settings: { ...POOL_WALKER_SOLC_SETTINGS, outputSelection: { '*': { '*': ['evm.bytecode.object'] } } },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<string, Record<string, { evm: { bytecode: { object: string } } }>>;
  };
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  assert.deepEqual(errors, []);
  assert.equal(`0x${out.contracts['PoolWalker.sol']!.PoolWalker!.evm.bytecode.object}`, POOL_WALKER_BYTECODE);
});
