import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { rat } from '../../src/lib/rat.ts';
import { AI_PIPELINE_CAPABILITY } from '../../src/net/aiCapabilities.ts';
import { aiFee, pricePerAiUnit } from '../../src/pm/aiFee.ts';
import { capabilityMaxPrice, parseCapabilityPrices } from '../../src/pm/capabilityPrices.ts';
import { parseMaxPricePerUnit } from '../../src/pm/maxPrice.ts';

const none = parseMaxPricePerUnit('0', 1n);
const opts = (fallback = none, warn?: (m: string) => void) => ({ pipelines: AI_PIPELINE_CAPABILITY, fallback, ...(warn ? { warn } : {}) });
const doc = (entries: unknown[]) => JSON.stringify({ capabilities_prices: entries });

describe('-maxPricePerCapability', () => {
  it('model entries win over the pipeline default; other pipelines have none', () => {
    const e = parseCapabilityPrices(
      doc([
        { pipeline: 'text-to-image', model_id: 'a', price_per_unit: 10, pixels_per_unit: 4 },
        { pipeline: 'text-to-image', price_per_unit: 7 },
      ]),
      opts(),
    );
    assert.deepEqual(capabilityMaxPrice(e, 27, 'a'), rat(10n, 4n));
    assert.deepEqual(capabilityMaxPrice(e, 27, 'b'), rat(7n));
    assert.equal(capabilityMaxPrice(e, 33, 'a'), undefined);
  });

  it('absent or ≤ 0 prices take -maxPricePerUnit when it is set, else the entry is skipped; pixels fall back to -pixelsPerUnit', () => {
    assert.deepEqual(parseCapabilityPrices(doc([{ pipeline: 'llm', price_per_unit: 0 }]), opts()), []);
    const e = parseCapabilityPrices(doc([{ pipeline: 'llm', pixels_per_unit: -1 }]), opts(parseMaxPricePerUnit('30', 3n)));
    assert.deepEqual(capabilityMaxPrice(e, 33, 'x'), rat(10n));
  });

  it('USD prices convert at the ETH price', () => {
    const e = parseCapabilityPrices(doc([{ pipeline: 'upscale', price_per_unit: 0.5, currency: 'USD' }]), opts());
    assert.deepEqual(capabilityMaxPrice(e, 30, 'x', rat(2000n)), rat(10n ** 18n, 4000n));
    assert.equal(capabilityMaxPrice(e, 30, 'x'), undefined);
  });

  it('an unknown pipeline stops start-up; invalid JSON is reported and ignored; a file works', async () => {
    assert.throws(() => parseCapabilityPrices(doc([{ pipeline: 'text-to-banana', price_per_unit: 1 }]), opts()), /unknown pipeline "text-to-banana"/);
    assert.throws(() => parseCapabilityPrices(doc([{ pipeline: 'constructor', price_per_unit: 1 }]), opts()), /unknown pipeline/);
    const warnings: string[] = [];
    assert.deepEqual(
      parseCapabilityPrices(
        '{"capabilities_prices": [',
        opts(none, (m) => warnings.push(m)),
      ),
      [],
    );
    assert.equal(warnings.length, 1);
    const dir = await mkdtemp(join(tmpdir(), 'caps-'));
    const file = join(dir, 'prices.json');
    await writeFile(file, doc([{ pipeline: 'audio-to-text', model_id: 'w', price_per_unit: 3 }]));
    assert.deepEqual(capabilityMaxPrice(parseCapabilityPrices(file, opts()), 31, 'w'), rat(3n));
  });
});

describe('AI fee', () => {
  it('units × price per unit, exact and without padding', () => {
    assert.deepEqual(aiFee(512n * 512n, pricePerAiUnit({ pricePerUnit: 3n, pixelsPerUnit: 2n })), rat(3n * 512n * 512n, 2n));
    assert.deepEqual(pricePerAiUnit(undefined), rat(0n));
    assert.throws(() => aiFee(-1n, rat(1n)));
  });
});
