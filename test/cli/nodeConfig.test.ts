import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildNodeConfig, parseListenAddr, parseWeiRat } from '../../src/cli/nodeConfig.ts';
import { rat } from '../../src/lib/rat.ts';
import { maxPricePerPixel } from '../../src/pm/maxPrice.ts';

const cfg = (o: Record<string, string>, given: string[] = []) => buildNodeConfig(new Map(Object.entries(o)), (n) => given.includes(n));

describe('gateway configuration', () => {
  it('go-livepeer defaults off-chain', () => {
    const c = cfg({});
    assert.equal(c.network.offchain, true);
    assert.deepEqual(c.rtmpAddr, { host: '127.0.0.1', port: 1935 });
    assert.deepEqual(c.httpAddr, { host: '127.0.0.1', port: 9935 });
    assert.deepEqual(c.cliAddr, { host: '127.0.0.1', port: 5935 });
    assert.deepEqual(
      c.profiles.map((p) => p.name),
      ['P240p30fps16x9', 'P360p30fps16x9'],
    );
    assert.equal(c.maxSessions, 10);
    assert.equal(maxPricePerPixel(c.maxPrice), undefined, 'maxPricePerUnit 0 = any price');
    assert.deepEqual(c.limits.maxTicketEV, rat(3_000_000_000_000n));
  });

  it('on-chain needs -ethUrl; custom networks need -ethController', () => {
    assert.throws(() => cfg({ network: 'arbitrum-one-mainnet' }), /Need to specify an Ethereum node JSON-RPC URL using -ethUrl/);
    assert.throws(() => cfg({ network: 'mydevnet', ethUrl: 'http://x' }), /-ethController/);
    const c = cfg({ network: 'arbitrum-one-mainnet', ethUrl: 'https://a, https://b' });
    assert.deepEqual(c.ethUrls, ['https://a', 'https://b']);
    assert.equal(c.network.offchain ? '' : c.network.controller, '0xD8E8328501E9645d16Cf49539efC04f734606ee4');
  });

  it('max price = maxPricePerUnit / pixelsPerUnit, in wei or USD; 0 = any', () => {
    assert.deepEqual(maxPricePerPixel(cfg({ maxPricePerUnit: '1200', pixelsPerUnit: '1000' }).maxPrice), rat(6n, 5n));
    const usd = cfg({ maxPricePerUnit: '0.5USD', pixelsPerUnit: '1000' }).maxPrice;
    assert.equal(usd.currency, 'USD');
    assert.equal(maxPricePerPixel(usd), undefined, 'no ETH price yet');
    // 0.5 USD per 1000 pixels at 2000 USD/ETH = 2.5e-7 ETH per pixel
    assert.deepEqual(maxPricePerPixel(usd, rat(2000n)), rat(250_000_000_000n));
    assert.throws(() => cfg({ maxPricePerUnit: '0.5EUR' }), /only USD prices/);
    assert.throws(() => cfg({ maxPricePerUnit: '12.5' }), /whole number/);
    assert.throws(() => cfg({ maxPricePerUnit: 'cheap' }), /-maxPricePerUnit: "cheap" is not a price/);
    assert.throws(() => cfg({ priceFeedAddr: 'nope' }), /-priceFeedAddr/);
    assert.throws(() => cfg({ pixelsPerUnit: '0' }), /-pixelsPerUnit must be > 0/);
  });

  it('listen addresses follow go-livepeer rules', () => {
    assert.deepEqual(parseListenAddr('rtmpAddr', ':1936', 1935), { host: '127.0.0.1', port: 1936 });
    assert.deepEqual(parseListenAddr('rtmpAddr', '0.0.0.0', 1935), { host: '0.0.0.0', port: 1935 });
    assert.deepEqual(parseListenAddr('httpAddr', '[::1]:8935', 9935), { host: '::1', port: 8935 });
    assert.throws(() => parseListenAddr('httpAddr', 'h:99999', 1), /not host:port/);
  });

  it('HTTP ingest turns off on a public address without a webhook unless the flag was given', () => {
    const off = cfg({ httpAddr: '0.0.0.0:9935' });
    assert.equal(off.httpIngest, false);
    assert.match(off.httpIngestNote!, /HTTP ingest disabled/);
    assert.equal(cfg({ httpAddr: '0.0.0.0:9935', httpIngest: 'true' }, ['httpIngest']).httpIngest, true);
    assert.equal(cfg({ httpAddr: '0.0.0.0:9935', authWebhookUrl: 'http://auth' }).httpIngest, true);
  });

  it('bad values are one clear error naming the flag', () => {
    assert.throws(() => cfg({ maxSessions: '0' }), /-maxSessions must be ≥ 1/);
    assert.throws(() => cfg({ maxSessions: 'auto' }), /-maxSessions: "auto" is not a whole number/);
    assert.throws(() => cfg({ transcodingOptions: 'Nope' }), /-transcodingOptions/);
    assert.throws(() => cfg({ orchBlocklist: 'xyz' }), /-orchBlocklist/);
    assert.throws(() => cfg({ authWebhookUrl: 'ftp://x' }), /-authWebhookUrl must be an http/);
    // a mistyped RPC URL is not echoed: it may still carry the provider's key
    assert.throws(
      () => cfg({ network: 'arbitrum-one-mainnet', ethUrl: 'arb-mainnet.g.alchemy.com/v2/k3yS3cr3tK3yS3cr3t' }),
      (e: Error) => /-ethUrl is not a URL/.test(e.message) && !e.message.includes('k3yS3cr3t'),
    );
    assert.throws(() => cfg({ discoveryTimeout: 'soon' }), /-discoveryTimeout/);
    assert.throws(() => cfg({ network: 'arbitrum-one-mainnet', ethUrl: 'http://x', selectRandFreq: '0.5' }), /must sum to 1/);
  });

  it('wei amounts as integers, decimals or fractions', () => {
    assert.deepEqual(parseWeiRat('maxTicketEV', '1.5'), rat(3n, 2n));
    assert.deepEqual(parseWeiRat('maxTicketEV', '3/2'), rat(3n, 2n));
    assert.throws(() => parseWeiRat('maxTicketEV', '-1'), /not a non-negative amount/);
  });
});
