// Over-billing: before a session's balance is settled, each rendition's billed pixels are held against
// what its profile should produce from this source (media/expectedOutput.ts). An orchestrator that bills
// more — a 1080p60 answer to a 240p request bills fine by its own count — is refused and suspended,
// with -localVerify on or off. With -localVerify the rendition's real size must match as well.
import { GatewayError } from '../lib/errors.ts';
import { expectedOutputSize, maxBilledPixels, type ProfileShape, type SourceShape } from '../media/expectedOutput.ts';
import { bitstreamShape } from '../media/pixels.ts';
import { probeBuffer } from '../media/probe.ts';
import type { Rendition } from '../net/segment.ts';

/** A rendition billed or sized beyond its profile: the orchestrator is at fault. */
export class BillingError extends GatewayError {
  constructor(message: string) {
    super(message, { code: 'OVERBILLED' });
  }
}

type NamedProfile = ProfileShape & { name: string };

/** Throws BillingError when any rendition bills more pixels than its profile allows. */
export function checkBilledPixels(
  renditions: readonly Rendition[],
  profiles: readonly NamedProfile[],
  source: SourceShape | undefined,
  durationMs: number,
): void {
  renditions.forEach((r, i) => {
    const p = profiles[i];
    if (!p) return;
    // Without the source's size the box's long side bounds both sides.
    const src = source ?? { width: Math.max(p.width, p.height), height: Math.max(p.width, p.height) };
    const max = maxBilledPixels(p, src, durationMs);
    if (r.pixels > max) {
      throw new BillingError(`rendition ${p.name}: orchestrator billed ${r.pixels} pixels, the profile allows at most ${max} for ${durationMs} ms`);
    }
  });
}

/** -localVerify: every rendition has the size its profile gives for this source. */
export async function checkRenditionSizes(renditions: readonly Rendition[], profiles: readonly NamedProfile[], source: SourceShape | undefined): Promise<void> {
  if (!source) return;
  for (const [i, r] of renditions.entries()) {
    const p = profiles[i];
    if (!p || !r.data) continue;
    const want = expectedOutputSize(p, source);
    const got = bitstreamShape(r.data) ?? (await probeBuffer(r.data).catch(() => undefined));
    if (!got) throw new BillingError(`rendition ${p.name} cannot be read`);
    if (got.width !== want.width || got.height !== want.height) {
      throw new BillingError(
        `rendition ${p.name} is ${got.width}x${got.height}; the profile gives ${want.width}x${want.height} for a ${source.width}x${source.height} source`,
      );
    }
  }
}
