import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTranscodingOptions } from '../../src/media/profiles.ts';
import { BroadcastConfig, BroadcastConfigError } from '../../src/node/broadcastConfig.ts';
import { parseMaxPricePerUnit } from '../../src/pm/maxPrice.ts';
import { rat } from '../../src/lib/rat.ts';

const profiles = parseTranscodingOptions('P240p30fps16x9');

describe('broadcast config changed at run time', () => {
  it('wei prices apply at once; 0 clears the cap', () => {
    const bc = new BroadcastConfig(parseMaxPricePerUnit('0', 1n), profiles, 'P240p30fps16x9');
    assert.equal(bc.maxPrice(), undefined);
    bc.setMaxPrice('1200', '1000');
    assert.deepEqual(bc.maxPrice(), rat(6n, 5n));
    bc.setMaxPrice('0', '1');
    assert.equal(bc.maxPrice(), undefined);
    assert.throws(() => bc.setMaxPrice('1', '0'), BroadcastConfigError);
    assert.throws(() => bc.setMaxPrice('lots', '1'), /not a price/);
  });

  it('USD prices follow the ETH price and need the feed', () => {
    let usdPerEth = rat(2000n);
    const bc = new BroadcastConfig(parseMaxPricePerUnit('0.0000026USD', 1_000_000n), profiles, 'P240p30fps16x9', () => usdPerEth);
    assert.deepEqual(bc.maxPrice(), rat(1300n));
    usdPerEth = rat(2600n);
    assert.deepEqual(bc.maxPrice(), rat(1000n));
    bc.setMaxPrice('0.0000052', '1000000', 'USD');
    assert.deepEqual(bc.maxPrice(), rat(2000n));
    const noFeed = new BroadcastConfig(parseMaxPricePerUnit('1', 1n), profiles, 'P240p30fps16x9');
    assert.throws(() => noFeed.setMaxPrice('1', '1', 'USD'), /price feed/);
  });

  it('presets only; unknown names dropped; none valid is an error', () => {
    const bc = new BroadcastConfig(parseMaxPricePerUnit('0', 1n), profiles, 'P240p30fps16x9');
    bc.setTranscodingOptions('P360p30fps16x9, Nope ,P144p30fps16x9');
    assert.deepEqual(
      bc.profiles.map((p) => p.name),
      ['P360p30fps16x9', 'P144p30fps16x9'],
    );
    assert.equal(bc.transcodingOptions, 'P360p30fps16x9,P144p30fps16x9');
    assert.throws(() => bc.setTranscodingOptions('Nope'), /no valid preset/);
    assert.equal(BroadcastConfig.availablePresets().length, 13);
  });
});
