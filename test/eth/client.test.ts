// RPC client: -network resolution, -ethUrl parsing and redaction, failover between endpoints with
// backoff, unreachable and wrong-chain errors, against real anvil nodes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAnvil, type Anvil } from '../../scripts/devnet/anvil.ts';
import { chainFor, connectEthClient, newRpcStats, parseEthUrls, redactText, redactUrl } from '../../src/eth/client.ts';
import { ChainIdMismatchError, EthConfigError, EthUnreachableError } from '../../src/eth/errors.ts';
import { ARBITRUM_ONE_CONTROLLER, resolveNetwork, type OnchainNetwork } from '../../src/eth/networks.ts';
import { arbitrum } from 'viem/chains';
import { closedPort } from './helpers.ts';

const devNetwork = (): OnchainNetwork => resolveNetwork('devnet', '0x0000000000000000000000000000000000000001') as OnchainNetwork;

describe('networks', () => {
  test('arbitrum-one-mainnet has its Controller and chain id; -ethController overrides', () => {
    const n = resolveNetwork('arbitrum-one-mainnet');
    assert.deepEqual(n, { name: 'arbitrum-one-mainnet', offchain: false, controller: ARBITRUM_ONE_CONTROLLER, chainId: 42161, arbitrum: true });
    const o = resolveNetwork('arbitrum-one-mainnet', '0xd8e8328501e9645d16cf49539efc04f734606ee4');
    assert.equal(o.offchain === false && o.controller, ARBITRUM_ONE_CONTROLLER);
  });

  test('offchain, and any other name needs -ethController', () => {
    assert.deepEqual(resolveNetwork('offchain'), { name: 'offchain', offchain: true });
    assert.deepEqual(resolveNetwork(''), { name: 'offchain', offchain: true });
    assert.throws(
      () => resolveNetwork('mydevnet'),
      (e: Error) => e instanceof EthConfigError && /-network mydevnet .* pass -ethController/.test(e.message),
    );
    assert.throws(() => resolveNetwork('mydevnet', '0x1234'), /-ethController 0x1234 is not an Ethereum address/);
    const n = resolveNetwork('mydevnet', '0x0000000000000000000000000000000000000001');
    assert.equal(n.offchain, false);
    assert.equal(n.offchain === false ? n.chainId : 0, undefined);
  });
});

describe('chain definitions', () => {
  test("Arbitrum One as viem's own definition has it (the gateway does not load viem/chains); Multicall3 at its canonical address", () => {
    const c = chainFor(42161, 'arbitrum-one-mainnet');
    for (const k of ['id', 'name', 'nativeCurrency', 'blockTime', 'rpcUrls'] as const) assert.deepEqual(c[k], arbitrum[k], k);
    assert.equal(c.blockExplorers?.default.url, arbitrum.blockExplorers.default.url);
    assert.equal(c.contracts?.multicall3?.address.toLowerCase(), arbitrum.contracts.multicall3.address.toLowerCase());
  });

  test('another chain id: a plain chain under the network name', () => {
    const c = chainFor(31337, 'devnet');
    assert.equal(c.id, 31337);
    assert.equal(c.name, 'devnet');
    assert.equal(c.blockTime, undefined);
    assert.equal(c.contracts?.multicall3?.address.toLowerCase(), arbitrum.contracts.multicall3.address.toLowerCase());
  });
});

describe('-ethUrl', () => {
  test('redaction hides user info, path and query (API keys)', () => {
    assert.equal(redactUrl('https://user:pw@arb-mainnet.example.com/v2/SECRETKEY?key=abc'), 'https://arb-mainnet.example.com/…');
    assert.equal(redactUrl('http://127.0.0.1:8545'), 'http://127.0.0.1:8545');
    assert.equal(redactUrl('http://127.0.0.1:8545/'), 'http://127.0.0.1:8545');
    assert.equal(redactUrl('not a url'), '<unparseable URL>');
    const url = 'https://rpc.example/v2/KEY123';
    assert.equal(redactText(`failed at ${url} twice: ${url}`, [url]), 'failed at https://rpc.example/… twice: https://rpc.example/…');
  });

  test('a comma list; each entry must be an http(s) URL', () => {
    assert.deepEqual(parseEthUrls(' http://a:1 , https://b/rpc,'), ['http://a:1', 'https://b/rpc']);
    assert.throws(() => parseEthUrls(''), /Need to specify an Ethereum node JSON-RPC URL using -ethUrl/);
    assert.throws(() => parseEthUrls('ws://a:1'), /must be an http:\/\/ or https:\/\//);
    assert.throws(() => parseEthUrls('http://a:1,nonsense'), /is not a URL/);
  });
});

describe('failover and chain checks (anvil)', () => {
  let arb: Anvil;
  let l1: Anvil;
  before(async () => {
    [arb, l1] = await Promise.all([startAnvil(), startAnvil({ chainId: 1 })]);
  });
  after(async () => {
    await Promise.all([arb?.stop(), l1?.stop()]);
  });

  test('a dead first endpoint fails over to the live one, then is skipped while it backs off', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const stats = newRpcStats();
    const failovers: string[] = [];
    const client = await connectEthClient({
      urls: [dead, arb.rpcUrl],
      network: resolveNetwork('arbitrum-one-mainnet') as OnchainNetwork,
      stats,
      failover: { backoffMs: 60_000, onFailover: (from, to) => failovers.push(`${from} -> ${to}`) },
    });
    assert.equal(client.chainId, 42161);
    assert.deepEqual(failovers, [`${dead} -> ${arb.rpcUrl}`]);
    for (let i = 0; i < 3; i++) await client.publicClient.getBlockNumber();
    assert.equal(stats.byEndpoint.get(dead), 1, 'the dead endpoint was tried once, then skipped');
    assert.equal(stats.byEndpoint.get(arb.rpcUrl), 4);
    assert.equal(stats.failovers, 1);
  });

  test('after its backoff a failed endpoint is tried again first', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const stats = newRpcStats();
    const client = await connectEthClient({ urls: [dead, arb.rpcUrl], network: devNetwork(), stats, failover: { backoffMs: 30 } });
    await new Promise((r) => setTimeout(r, 80));
    await client.publicClient.getBlockNumber();
    assert.equal(stats.byEndpoint.get(dead), 2);
  });

  test('no endpoint answers: EthUnreachableError naming the redacted URLs, no secrets', async () => {
    const port = await closedPort();
    const secretUrl = `http://user:hunter2@127.0.0.1:${port}/v2/SECRETKEY?apikey=abc`;
    await assert.rejects(connectEthClient({ urls: [secretUrl, `http://127.0.0.1:${await closedPort()}`], network: devNetwork() }), (e: Error) => {
      assert.ok(e instanceof EthUnreachableError, String(e));
      assert.match(e.message, new RegExp(`^cannot reach the Ethereum RPC at http://127\\.0\\.0\\.1:${port}/…, http://127\\.0\\.0\\.1:\\d+: `));
      assert.doesNotMatch(e.message, /SECRETKEY|hunter2|apikey|abc/);
      return true;
    });
  });

  test('wrong chain id: a clear error naming both', async () => {
    await assert.rejects(connectEthClient({ urls: [l1.rpcUrl], network: resolveNetwork('arbitrum-one-mainnet') as OnchainNetwork }), (e: Error) => {
      assert.ok(e instanceof ChainIdMismatchError);
      assert.equal(
        e.message,
        `the Ethereum RPC at ${l1.rpcUrl} serves chain id 1, but -network arbitrum-one-mainnet is chain id 42161 (Arbitrum One); ` +
          'point -ethUrl at an RPC of that chain, or change -network',
      );
      return true;
    });
    // Custom networks accept whatever chain the RPC serves.
    const c = await connectEthClient({ urls: [l1.rpcUrl], network: devNetwork() });
    assert.equal(c.chainId, 1);
  });
});
