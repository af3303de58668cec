// -maxPricePerCapability: the most a gateway pays per unit of an AI pipeline, per model or for every
// model of a pipeline ("default"), in wei or USD. Inline JSON or a file's path (docs/ai.md, flags):
//   {"capabilities_prices":[{"pipeline":"text-to-image","model_id":"m","price_per_unit":5,"pixels_per_unit":1,"currency":"wei"}]}
import { readFileSync } from 'node:fs';
import type { Rat } from '../lib/rat.ts';
import { maxPricePerPixel, parseMaxPricePerUnit, type MaxPriceSpec } from './maxPrice.ts';
import { GatewayError } from '../lib/errors.ts';

export const DEFAULT_MODEL_KEY = 'default';

export class CapabilityPriceError extends GatewayError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { code: 'CAPABILITY_PRICE_INVALID', cause: opts.cause });
  }
}

export interface CapabilityPriceEntry {
  cap: number;
  /** a model id, or "default" for every model of the pipeline */
  modelId: string;
  spec: MaxPriceSpec;
}

export interface ParseCapabilityPricesOptions {
  /** pipeline name → capability id */
  pipelines: Readonly<Record<string, number>>;
  /** -maxPricePerUnit / -pixelsPerUnit, the fallback of entries without their own */
  fallback: MaxPriceSpec;
  /** invalid JSON is reported here and ignored, as go-livepeer does */
  warn?: (msg: string) => void;
}

function numberText(v: unknown): string | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) return undefined;
  // integers stay exact; fractions (USD) keep their decimal text
  return Number.isInteger(v) && Number.isSafeInteger(v) ? String(v) : v.toFixed(18).replace(/0+$/, '').replace(/\.$/, '');
}

/**
 * Rules: prices are bare JSON numbers; no model_id ⇒ "default"; pixels_per_unit ≤ 0 or absent ⇒
 * -pixelsPerUnit; price_per_unit ≤ 0 or absent ⇒ -maxPricePerUnit when that is > 0, else the entry is
 * skipped; an unknown pipeline is an error (start-up stops); JSON that does not parse is reported and ignored.
 */
export function parseCapabilityPrices(value: string, opts: ParseCapabilityPricesOptions): CapabilityPriceEntry[] {
  const text = value.trim();
  if (!text) return [];
  let json = text;
  if (!text.startsWith('{')) {
    try {
      json = readFileSync(text, 'utf8');
    } catch (err) {
      throw new CapabilityPriceError(`-maxPricePerCapability: cannot read file "${text}": ${(err as Error).message}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    opts.warn?.(`-maxPricePerCapability is not valid JSON and is ignored: ${(err as Error).message}`);
    return [];
  }
  const list = (parsed as { capabilities_prices?: unknown } | null)?.capabilities_prices;
  if (!Array.isArray(list)) {
    opts.warn?.('-maxPricePerCapability has no "capabilities_prices" list and is ignored');
    return [];
  }
  const out: CapabilityPriceEntry[] = [];
  for (const raw of list) {
    if (!raw || typeof raw !== 'object') continue;
    const e = raw as Record<string, unknown>;
    const pipeline = typeof e.pipeline === 'string' ? e.pipeline : '';
    const cap = opts.pipelines[pipeline];
    if (cap === undefined || !Object.hasOwn(opts.pipelines, pipeline)) {
      throw new CapabilityPriceError(`-maxPricePerCapability: unknown pipeline "${pipeline}" (one of ${Object.keys(opts.pipelines).join(', ')})`);
    }
    const modelId = typeof e.model_id === 'string' && e.model_id ? e.model_id : DEFAULT_MODEL_KEY;
    const pixelsText = numberText(e.pixels_per_unit);
    const pixels = pixelsText && /^\d+$/.test(pixelsText) ? BigInt(pixelsText) : opts.fallback.pixelsPerUnit;
    const priceText = numberText(e.price_per_unit);
    let spec: MaxPriceSpec;
    if (priceText) {
      const currency = typeof e.currency === 'string' && e.currency.toUpperCase() !== 'WEI' ? e.currency : '';
      try {
        spec = parseMaxPricePerUnit(`${priceText}${currency}`, pixels);
      } catch (err) {
        throw new CapabilityPriceError(`-maxPricePerCapability (${pipeline}, ${modelId}): ${(err as Error).message}`);
      }
    } else if (opts.fallback.amount.num > 0n) {
      spec = { ...opts.fallback, pixelsPerUnit: pixels };
    } else {
      continue;
    }
    out.push({ cap, modelId, spec });
  }
  return out;
}

/** The max price per unit for (cap, model): the model's entry, else the pipeline's "default", else none. */
export function capabilityMaxPrice(entries: readonly CapabilityPriceEntry[], cap: number, modelId: string, usdPerEth?: Rat): Rat | undefined {
  const entry = entries.find((e) => e.cap === cap && e.modelId === modelId) ?? entries.find((e) => e.cap === cap && e.modelId === DEFAULT_MODEL_KEY);
  return entry ? maxPricePerPixel(entry.spec, usdPerEth) : undefined;
}

/** Sets (or, with a price of 0, removes) the max price of one (cap, model) at run time. */
export function setCapabilityPrice(entries: CapabilityPriceEntry[], entry: CapabilityPriceEntry): void {
  const i = entries.findIndex((e) => e.cap === entry.cap && e.modelId === entry.modelId);
  if (i >= 0) entries.splice(i, 1);
  if (entry.spec.amount.num > 0n) entries.push(entry);
}
