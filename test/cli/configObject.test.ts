import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIG_OPTION_NAMES, ConfigError, configFlagValues, nodeConfigFromObject, type GatewayConfig } from '../../src/cli/configObject.ts';
import { NODE_FLAGS } from '../../src/cli/flags.ts';
import { buildNodeConfig } from '../../src/cli/nodeConfig.ts';
import { GatewayError } from '../../src/lib/errors.ts';
import { rat } from '../../src/lib/rat.ts';

describe('library configuration object', () => {
  it('an empty object is exactly the command line without flags', () => {
    assert.deepEqual(nodeConfigFromObject({}), buildNodeConfig(new Map()));
    assert.deepEqual(nodeConfigFromObject(), buildNodeConfig(new Map()));
  });

  it('has one option per gateway flag, named as the flag', () => {
    const notOptions = new Set(['gateway', 'broadcaster', 'config', 'version']);
    assert.deepEqual(
      [...CONFIG_OPTION_NAMES].sort(),
      NODE_FLAGS.map((f) => f.name)
        .filter((n) => !notOptions.has(n))
        .sort(),
      'a new flag needs its option in src/cli/configObject.ts',
    );
  });

  it('typed values become the flag text the builder validates', () => {
    const c = nodeConfigFromObject({
      orchAddr: ['127.0.0.1:8936', 'https://o.example'],
      maxSessions: 3,
      discoveryTimeout: 750,
      transactionTimeout: '2m',
      maxTicketEV: 4_000_000_000_000n,
      maxTotalEV: '25000000000000',
      maxPricePerUnit: 1200,
      pixelsPerUnit: 1000n,
      httpIngest: false,
      selectStakeWeight: 0.5,
      selectRandFreq: 0.5,
      v: 5,
    });
    assert.deepEqual(c.orchAddr, ['https://127.0.0.1:8936', 'https://o.example:8935']);
    assert.equal(c.maxSessions, 3);
    assert.equal(c.discoveryTimeoutMs, 750);
    assert.equal(c.transactionTimeoutMs, 120_000);
    assert.deepEqual(c.limits.maxTicketEV, rat(4_000_000_000_000n));
    assert.deepEqual(c.limits.maxTotalEV, rat(25_000_000_000_000n));
    assert.deepEqual(c.maxPrice, { amount: rat(1200n), pixelsPerUnit: 1000n });
    assert.equal(c.httpIngest, false);
    assert.equal(c.weights.stake, 0.5);
    assert.equal(c.verbosity, 5);
  });

  it('derived settings follow the flags: the HTTP-ingest rule counts an option that is set as given', () => {
    const publicAddr = nodeConfigFromObject({ httpAddr: '0.0.0.0:9935' });
    assert.equal(publicAddr.httpIngest, false, 'public address, no auth webhook: HTTP ingest off');
    assert.equal(nodeConfigFromObject({ httpAddr: '0.0.0.0:9935', httpIngest: true }).httpIngest, true);
    assert.match(nodeConfigFromObject({ datadir: '/x' }).keystorePath, /^\/x\/keystore$/);
  });

  it('refuses unknown options, wrong types and values the flags refuse, with one error type', () => {
    const bad: [unknown, RegExp][] = [
      [{ maxSession: 3 }, /unknown gateway option "maxSession"/],
      [{ pricePerUnit: 1 }, /unknown gateway option "pricePerUnit"/], // an orchestrator flag
      [{ gateway: true }, /unknown gateway option "gateway"/],
      [JSON.parse('{"__proto__": {"maxSessions": 1}}'), /unknown gateway option "__proto__"/],
      [{ toString: 'x' }, /unknown gateway option "toString"/],
      [{ maxSessions: '3' }, /maxSessions must be a whole number, got string/],
      [{ maxSessions: 2.5 }, /maxSessions must be a whole number/],
      [{ httpIngest: 'yes' }, /httpIngest must be true or false/],
      [{ orchAddr: ['a', 3] }, /orchAddr must be a string or an array of strings/],
      [{ maxTicketEV: 1e21 }, /maxTicketEV must be a bigint, a number or a string of wei/],
      [{ selectStakeWeight: Number.NaN }, /selectStakeWeight must be a finite number/],
      [{ discoveryTimeout: {} }, /discoveryTimeout must be a Go duration/],
      [{ maxSessions: 0 }, /-maxSessions must be ≥ 1/],
      [{ network: 'arbitrum-one-mainnet' }, /-ethUrl/],
      [{ maxTicketEV: -1n }, /maxTicketEV/],
      [{ discoveryTimeout: -5 }, /invalid duration/],
      [null, /must be an object/],
      [['maxSessions'], /must be an object/],
    ];
    for (const [config, message] of bad) {
      assert.throws(
        () => nodeConfigFromObject(config as GatewayConfig),
        (err: unknown) => err instanceof ConfigError && err instanceof GatewayError && message.test(err.message),
        `${String(message)}`,
      );
    }
  });

  it('undefined values are left out, so a spread of optional settings keeps the defaults', () => {
    const values = configFlagValues({ maxSessions: undefined, ethPassword: undefined });
    assert.equal(values.size, 0);
  });
});
