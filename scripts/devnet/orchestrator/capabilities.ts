// What the orchestrator advertises in OrchestratorInfo.capabilities and checks every job against.
// Video transcoding is always there; another kind of job (AI pipelines) adds a source, which is
// asked again on every read, so capacities and per-model constraints can change while running.
import { ALL_VIDEO_CAPABILITIES, capabilityBitstring } from '../../../src/net/capabilities.ts';
import type { Capabilities } from '../../../src/wire/lpRpc.ts';

export interface CapabilityContribution {
  /** Capability ids this source serves. */
  ids: readonly number[];
  /** Concurrent jobs per id (go-livepeer's capacities). */
  capacities: Readonly<Record<number, number>>;
  /** constraints.PerCapability entries (per-model constraints of AI capabilities). */
  perCapability?: Readonly<Record<number, unknown>>;
}

export type CapabilitySource = () => CapabilityContribution;

export class CapabilityProvider {
  private readonly sources: CapabilitySource[] = [];

  constructor(
    private readonly version: string,
    maxSessions: number,
  ) {
    const capacities = Object.fromEntries(ALL_VIDEO_CAPABILITIES.map((c) => [c, maxSessions]));
    this.sources.push(() => ({ ids: ALL_VIDEO_CAPABILITIES, capacities }));
  }

  add(source: CapabilitySource): void {
    this.sources.push(source);
  }

  /** The capabilities as advertised now. */
  current(): Capabilities {
    const ids = new Set<number>();
    const capacities: Record<number, number> = {};
    let perCapability: Record<number, unknown> | undefined;
    for (const source of this.sources) {
      const c = source();
      for (const id of c.ids) ids.add(id);
      Object.assign(capacities, c.capacities);
      if (c.perCapability) perCapability = { ...perCapability, ...c.perCapability };
    }
    return {
      bitstring: capabilityBitstring([...ids].sort((a, b) => a - b)),
      mandatories: [],
      capacities,
      version: this.version,
      constraints: perCapability ? { PerCapability: perCapability } : {},
    };
  }
}
