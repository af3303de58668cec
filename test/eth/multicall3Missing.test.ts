// A chain without Multicall3 at its canonical address: the node says exactly that, not "no Livepeer
// Controller" (every batched read fails there as if the Controller were missing).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectEth } from '../../src/eth/connect.ts';
import { MULTICALL3_ADDRESS } from '../../src/eth/abi/multicall3.ts';
import { withDevnet } from '../helpers/devnet.ts';

const devnet = withDevnet({ resetEach: true });

test('no Multicall3: the error names Multicall3 and its address', async () => {
  const res = await fetch(devnet.rpcUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_setCode', params: [MULTICALL3_ADDRESS, '0x'] }),
  });
  assert.equal(res.status, 200);
  await assert.rejects(
    connectEth({ network: 'devnet', ethUrl: devnet.rpcUrl, ethController: devnet.contracts.controller, pollingIntervalMs: 20 }),
    (err: Error) => {
      assert.match(err.message, new RegExp(`chain 42161 has no Multicall3 contract at its canonical address ${MULTICALL3_ADDRESS}`, 'i'));
      assert.doesNotMatch(err.message, /no Livepeer Controller/);
      return true;
    },
  );
});
