import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildNodeConfig } from '../../src/cli/nodeConfig.ts';
import { rat } from '../../src/lib/rat.ts';
import { capabilityMaxPrice } from '../../src/pm/capabilityPrices.ts';

const cfg = (o: Record<string, string>) => buildNodeConfig(new Map(Object.entries(o)));

describe('AI flags', () => {
  it("go-livepeer's defaults", () => {
    const c = cfg({});
    assert.deepEqual(c.ai.maxPricePerCapability, []);
    assert.equal(c.ai.processingRetryTimeoutMs, 2000);
    assert.deepEqual(c.ai.minRunnerVersions, []);
    assert.equal(c.ai.serviceRegistry, false);
  });

  it('-maxPricePerCapability, -aiProcessingRetryTimeout, -aiMinRunnerVersion, -aiServiceRegistry', () => {
    const c = cfg({
      maxPricePerCapability: '{"capabilities_prices":[{"pipeline":"llm","model_id":"m","price_per_unit":20,"pixels_per_unit":4}]}',
      aiProcessingRetryTimeout: '5s',
      aiMinRunnerVersion: '[{"model_id":"m","pipeline":"llm","minVersion":"0.13.0"}]',
      aiServiceRegistry: 'true',
    });
    assert.deepEqual(capabilityMaxPrice(c.ai.maxPricePerCapability, 33, 'm'), rat(5n));
    assert.equal(c.ai.processingRetryTimeoutMs, 5000);
    assert.deepEqual(c.ai.minRunnerVersions, [{ pipeline: 'llm', modelId: 'm', minVersion: '0.13.0' }]);
    assert.equal(c.ai.serviceRegistry, true);
  });

  it('an unknown pipeline or a malformed runner list stops start-up; invalid price JSON is only a warning', () => {
    assert.throws(() => cfg({ maxPricePerCapability: '{"capabilities_prices":[{"pipeline":"dance","price_per_unit":1}]}' }), /unknown pipeline "dance"/);
    assert.throws(() => cfg({ aiMinRunnerVersion: '{"x":1}' }), /-aiMinRunnerVersion/);
    assert.throws(() => cfg({ aiMinRunnerVersion: '[{"model_id":"m"}]' }), /-aiMinRunnerVersion/);
    const c = cfg({ maxPricePerCapability: '{not json' });
    assert.deepEqual(c.ai.maxPricePerCapability, []);
    assert.equal(c.ai.warnings.length, 1);
  });
});
