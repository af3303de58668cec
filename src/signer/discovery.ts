// GET /discover-orchestrators (-remoteDiscovery): the orchestrators a keyless caller may use for each AI
// (pipeline, model), from a snapshot the signer refreshes every -liveAICapReportInterval. A (pipeline,
// model) is listed only when the orchestrator prices it within the signer's configured ceiling.
import type { Candidate } from '../discovery/sources.ts';
import { errorMessage } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { cmp, rat, type Rat } from '../lib/rat.ts';
import { AI_PIPELINE_CAPABILITY } from '../net/aiCapabilities.ts';
import type { OrchestratorInfo } from '../wire/lpRpc.ts';

export interface DiscoveredOrchestrator {
  address: string;
  score: number;
  /** "<pipeline>/<model>", sorted */
  capabilities: string[];
}

export interface RemoteDiscoveryOptions {
  candidates(): Promise<Candidate[]>;
  /** GetOrchestrator without capabilities (go-livepeer: 3 s budget) */
  probe(uri: string): Promise<OrchestratorInfo>;
  /** the ceiling for (capability, model), wei per unit; undefined = none */
  maxPrice(cap: number, modelId: string): Rat | undefined;
  /** -liveAICapReportInterval */
  intervalMs: number;
  log: Logger;
}

const PIPELINE_OF = new Map(Object.entries(AI_PIPELINE_CAPABILITY).map(([name, cap]) => [cap, name]));

/** Most orchestrators probed in one refresh, and at once. */
const MAX_CANDIDATES = 500;
const PROBE_CONCURRENCY = 16;
/** How soon an empty snapshot may be taken again. */
const EMPTY_RETRY_MS = 3000;

/** The (pipeline, model) pairs an orchestrator's reply offers within the ceilings. */
export function eligibleCapabilities(info: OrchestratorInfo, maxPrice: (cap: number, modelId: string) => Rat | undefined): string[] {
  const per = info.capabilities?.constraints?.PerCapability as Record<string, unknown> | undefined;
  const out: string[] = [];
  for (const [capText, entry] of Object.entries(per ?? {})) {
    const cap = Number(capText);
    const pipeline = PIPELINE_OF.get(cap);
    const models = (entry as { models?: unknown } | null)?.models;
    if (!pipeline || !models || typeof models !== 'object') continue;
    for (const modelId of Object.keys(models)) {
      const quoted = info.capabilitiesPrices?.find((p) => p.capability === cap && p.constraint === modelId) ?? info.priceInfo;
      if (!quoted?.pixelsPerUnit || quoted.pixelsPerUnit <= 0n || (quoted.pricePerUnit ?? 0n) < 0n) continue;
      const price = rat(quoted.pricePerUnit ?? 0n, quoted.pixelsPerUnit);
      const max = maxPrice(cap, modelId);
      if (max && max.num > 0n && cmp(price, max) > 0) continue;
      out.push(`${pipeline}/${modelId}`);
    }
  }
  return out.sort();
}

export class RemoteDiscovery {
  private snapshot: DiscoveredOrchestrator[] = [];
  private refreshedAt = 0;
  private running: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly opts: RemoteDiscoveryOptions) {
    this.timer = setInterval(() => void this.refresh(), Math.max(1000, opts.intervalMs));
    this.timer.unref();
    void this.refresh();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Re-polls every candidate (one refresh at a time). */
  refresh(): Promise<void> {
    this.running ??= this.poll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async poll(): Promise<void> {
    let candidates: Candidate[];
    try {
      candidates = (await this.opts.candidates()).slice(0, MAX_CANDIDATES);
    } catch (err) {
      this.opts.log.warn({ err: errorMessage(err) }, 'remote discovery: no candidates');
      return;
    }
    // no candidates (the chain's pool not read yet): no snapshot either, so the next request asks again
    if (candidates.length === 0) {
      this.opts.log.info('remote discovery: no candidates yet');
      return;
    }
    const found: DiscoveredOrchestrator[] = [];
    let next = 0;
    const worker = async () => {
      while (next < candidates.length) {
        const c = candidates[next++]!;
        try {
          const info = await this.opts.probe(c.uri);
          const caps = eligibleCapabilities(info, this.opts.maxPrice);
          if (caps.length === 0) continue;
          const address = (info.transcoder || c.uri).replace(/\/+$/, '');
          if (!found.some((f) => f.address === address)) found.push({ address, score: 1, capabilities: caps });
        } catch (err) {
          this.opts.log.debug({ uri: c.uri, err: errorMessage(err) }, 'remote discovery: orchestrator did not answer');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PROBE_CONCURRENCY, candidates.length) }, worker));
    // keep the candidates' order, so the answer does not depend on who answered first
    const order = new Map(candidates.map((c, i) => [c.uri.replace(/\/+$/, ''), i]));
    found.sort((a, b) => (order.get(a.address) ?? 1e9) - (order.get(b.address) ?? 1e9));
    this.snapshot = found;
    this.refreshedAt = Date.now();
    this.opts.log.info({ candidates: candidates.length, orchestrators: found.length }, 'remote discovery refreshed');
  }

  /**
   * The orchestrators offering any of `caps` ("<pipeline>/<model>"; none = all). Undefined when there is
   * no snapshot yet (503): the first poll is waited for.
   */
  async orchestrators(caps: readonly string[]): Promise<DiscoveredOrchestrator[] | undefined> {
    // the first poll is waited for; an empty snapshot (e.g. taken before the chain's pool was read) is
    // retried on demand, at most every few seconds, rather than kept for a whole interval
    if (this.refreshedAt === 0 || (this.snapshot.length === 0 && Date.now() - this.refreshedAt > EMPTY_RETRY_MS)) await this.refresh();
    if (this.refreshedAt === 0) return undefined;
    if (this.snapshot.length === 0) return undefined;
    if (caps.length === 0) return this.snapshot;
    const wanted = new Set(caps);
    return this.snapshot.filter((o) => o.capabilities.some((c) => wanted.has(c)));
  }
}
