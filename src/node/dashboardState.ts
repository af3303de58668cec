// What the dashboard shows, in one JSON snapshot: live streams with their renditions and counts, every
// orchestrator a stream's pool judged (price, latency, success rate, money sent, why it is or is not used),
// money (spend, deposit, runway) and recent events. Amounts are decimal wei strings.
import type { Gateway } from './gateway.ts';

/** `login`: the page was opened through the login form (-cliToken), so it offers to sign out. */
export async function dashboardState(gateway: Gateway, network: string, login = false): Promise<unknown> {
  const status = await gateway.status();
  const orchLedger = status.Ledger.orchestrators as Record<string, { segments: number; transcoded: number; failures: number; evPaidWei: string }>;
  const streams = Object.entries(status.Streams).map(([manifestId, raw]) => {
    const s = raw as {
      ingest: string;
      profiles: string[];
      sourceSegments: number;
      transcodedSegments: number;
      renditionSegments?: Record<string, number>;
      failedSegments: number;
      orchestrator?: string;
      startedAt: string;
    };
    return {
      manifestId,
      ingest: s.ingest,
      startedAt: s.startedAt,
      orchestrator: s.orchestrator ?? null,
      sourceSegments: s.sourceSegments,
      transcodedSegments: s.transcodedSegments,
      failedSegments: s.failedSegments,
      // the source first, then each profile with the segments that reached its playlist
      renditions: [{ name: 'source', segments: s.sourceSegments }, ...s.profiles.map((name) => ({ name, segments: s.renditionSegments?.[name] ?? 0 }))],
      playlist: `${gateway.httpUrl}/stream/${encodeURIComponent(manifestId)}.m3u8`,
    };
  });
  const pool = status.OrchestratorPoolInfos as {
    uri: string;
    state: string;
    reason?: string;
    pricePerPixelWei?: string;
    latencyMs?: number;
    manifestId: string;
  }[];
  const orchestrators = [...new Set([...pool.map((p) => p.uri), ...Object.keys(orchLedger)])].sort().map((uri) => {
    const judged = pool.filter((p) => p.uri === uri);
    const inUse = streams.filter((s) => s.orchestrator === uri).map((s) => s.manifestId);
    const last = judged.at(-1);
    const ledger = orchLedger[uri];
    const state = inUse.length > 0 ? 'in use' : (last?.state ?? 'seen before');
    return {
      uri,
      state,
      reason: inUse.length > 0 ? `transcoding ${inUse.join(', ')}` : (last?.reason ?? (last?.state === 'usable' ? 'usable, not picked' : '')),
      pricePerPixelWei: last?.pricePerPixelWei ?? null,
      latencyMs: last?.latencyMs === undefined ? null : Math.round(last.latencyMs),
      segments: ledger?.segments ?? 0,
      successRate: ledger && ledger.segments > 0 ? ledger.transcoded / ledger.segments : null,
      sentWei: ledger?.evPaidWei ?? '0',
    };
  });
  return {
    node: { version: status.Version, network, address: status.EthAddress ?? null, hls: gateway.httpUrl, login },
    streams,
    orchestrators,
    money: status.Money,
    webhook: gateway.webhook?.stats() ?? null,
    events: gateway.recentEvents.list().slice(-50).reverse(),
  };
}
