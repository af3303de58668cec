// What an operator can change while the node runs (livepeer_cli "Set broadcast config"): the max price
// and the default transcoding profiles. New profiles apply to new streams; the price applies at once.
import { parsePresets, PRESETS, type VideoProfile } from '../media/profiles.ts';
import { maxPricePerPixel, parseMaxPricePerUnit, type MaxPriceSpec } from '../pm/maxPrice.ts';
import { GatewayError } from '../lib/errors.ts';
import type { Rat } from '../lib/rat.ts';

export class BroadcastConfigError extends GatewayError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { code: 'BROADCAST_CONFIG_INVALID', cause: opts.cause });
  }
}

export class BroadcastConfig {
  constructor(
    private spec: MaxPriceSpec,
    private defaultProfiles: VideoProfile[],
    private options: string,
    /** USD per ETH now, for USD prices */
    private readonly usdPerEth: () => Rat | undefined = () => undefined,
  ) {}

  /** Wei per pixel now; undefined = any price. */
  maxPrice(): Rat | undefined {
    return maxPricePerPixel(this.spec, this.usdPerEth());
  }

  get priceSpec(): MaxPriceSpec {
    return this.spec;
  }

  get profiles(): VideoProfile[] {
    return this.defaultProfiles;
  }

  get transcodingOptions(): string {
    return this.options;
  }

  /** maxPricePerUnit as the flag takes it ("1200", "0.5USD", or an amount with a separate currency). */
  setMaxPrice(maxPricePerUnit: string, pixelsPerUnit: string, currency = ''): void {
    if (!/^\d+$/.test(pixelsPerUnit) || BigInt(pixelsPerUnit) <= 0n) throw new BroadcastConfigError('pixelsPerUnit must be a whole number > 0');
    const spec = parseMaxPricePerUnit(`${maxPricePerUnit}${currency}`, BigInt(pixelsPerUnit));
    if (spec.currency && !this.usdPerEth())
      throw new BroadcastConfigError('USD prices need the ETH/USD price feed: start the node with a USD -maxPricePerUnit');
    this.spec = spec;
  }

  /** Preset names only, as go-livepeer's control API accepts them. */
  setTranscodingOptions(presetList: string): void {
    const profiles = parsePresets(
      presetList
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
    if (profiles.length === 0) throw new BroadcastConfigError(`no valid preset in "${presetList}"`);
    this.defaultProfiles = profiles;
    this.options = profiles.map((p) => p.name).join(',');
  }

  static availablePresets(): string[] {
    return Object.keys(PRESETS);
  }
}
