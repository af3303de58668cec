// What each key used: one append-only record per paid job (an AI request, or one segment attempt), and
// the sums and exports invoices are made from.
import { ratToDecimal, type Rat, rat, mul, floor } from '../lib/rat.ts';
import type { RecordSum, StateStore, StoredRecord } from '../store/stateStore.ts';

export const NS_USAGE = 'tenancy.usage';
/**
 * EV is an exact fraction of a wei; records hold integers, so it is kept in 10⁻¹⁸ wei (rounded down per
 * job). A sum over fewer than 10¹⁸ jobs is then within one wei of the exact sum, and reported in wei.
 */
export const EV_SCALE = 10n ** 18n;

export interface PaidJob {
  /** API key id, or `anon:<address>` (IPv4, or an IPv6 /64) */
  subject: string;
  kind: 'ai' | 'segment';
  orchestrator: string;
  ev: Rat;
  /** face value of one ticket */
  faceValue: bigint;
  tickets: number;
  /** AI: pipeline units (pixels, ms, tokens…); segments: 0 */
  units: bigint;
  ok: boolean;
  pipeline?: string;
  model?: string;
  stream?: string;
}

export function evScaled(ev: Rat): bigint {
  return floor(mul(ev, rat(EV_SCALE)));
}

export async function recordPaidJob(store: StateStore, job: PaidJob, at?: Date): Promise<StoredRecord> {
  return store.records.append(NS_USAGE, {
    subject: job.subject,
    ...(at ? { at } : {}),
    amounts: {
      ev_e18: evScaled(job.ev),
      face_value_wei: job.faceValue * BigInt(job.tickets),
      tickets: BigInt(job.tickets),
      units: job.ok ? job.units : 0n,
      jobs: job.ok ? 1n : 0n,
      failures: job.ok ? 0n : 1n,
    },
    tags: {
      kind: job.kind,
      orchestrator: job.orchestrator,
      ...(job.pipeline ? { pipeline: job.pipeline } : {}),
      ...(job.model ? { model: job.model } : {}),
      ...(job.stream ? { stream: job.stream } : {}),
    },
  });
}

export type UsageGroupBy = 'day' | 'model' | 'stream' | 'key';

export interface UsageRow {
  group: string;
  records: number;
  jobs: string;
  failures: string;
  tickets: string;
  units: string;
  evWei: string;
  faceValueWei: string;
}

const sumOf = (s: RecordSum['sums'], name: string): bigint => s[name] ?? 0n;

function evWei(scaled: bigint): string {
  return ratToDecimal(rat(scaled, EV_SCALE), 0);
}

/** Sums of `[from, to)`, for one key or all, grouped by UTC day, model, stream or key. */
export async function usageSummary(store: StateStore, q: { key?: string; from: Date; to: Date; groupBy: UsageGroupBy }): Promise<UsageRow[]> {
  const groupBy = q.groupBy === 'day' ? { by: 'day' as const } : q.groupBy === 'key' ? { by: 'subject' as const } : { by: 'tag' as const, tag: q.groupBy };
  const sums = await store.records.sum({ ns: NS_USAGE, from: q.from, to: q.to, ...(q.key ? { subject: q.key } : {}), groupBy });
  return sums.map((g) => ({
    group: g.group,
    records: g.count,
    jobs: String(sumOf(g.sums, 'jobs')),
    failures: String(sumOf(g.sums, 'failures')),
    tickets: String(sumOf(g.sums, 'tickets')),
    units: String(sumOf(g.sums, 'units')),
    evWei: evWei(sumOf(g.sums, 'ev_e18')),
    faceValueWei: String(sumOf(g.sums, 'face_value_wei')),
  }));
}

export interface UsageLine {
  at: string;
  key: string;
  kind: string;
  orchestrator: string;
  pipeline: string;
  model: string;
  stream: string;
  tickets: string;
  units: string;
  /** exact to 10⁻¹⁸ wei */
  ev_wei: string;
  face_value_wei: string;
  ok: boolean;
}

/** Every usage record of the range, oldest first, page by page. */
export async function* usageLines(store: StateStore, q: { key?: string; from: Date; to: Date }): AsyncGenerator<UsageLine> {
  let after: { at: Date; id: string } | undefined;
  for (;;) {
    const page = await store.records.list({ ns: NS_USAGE, from: q.from, to: q.to, ...(q.key ? { subject: q.key } : {}), ...(after ? { after } : {}) });
    for (const r of page) {
      yield {
        at: r.at.toISOString(),
        key: r.subject,
        kind: r.tags.kind ?? '',
        orchestrator: r.tags.orchestrator ?? '',
        pipeline: r.tags.pipeline ?? '',
        model: r.tags.model ?? '',
        stream: r.tags.stream ?? '',
        tickets: String(r.amounts.tickets ?? 0n),
        units: String(r.amounts.units ?? 0n),
        ev_wei: ratToDecimal(rat(r.amounts.ev_e18 ?? 0n, EV_SCALE), 18),
        face_value_wei: String(r.amounts.face_value_wei ?? 0n),
        ok: (r.amounts.failures ?? 0n) === 0n,
      };
    }
    if (page.length === 0) return;
    const last = page[page.length - 1]!;
    after = { at: last.at, id: last.id };
  }
}

const CSV_COLUMNS: (keyof UsageLine)[] = [
  'at',
  'key',
  'kind',
  'orchestrator',
  'pipeline',
  'model',
  'stream',
  'tickets',
  'units',
  'ev_wei',
  'face_value_wei',
  'ok',
];

/** RFC 4180 field; a leading = + - @ is prefixed with ' so a spreadsheet never runs it as a formula. */
function csvField(v: string | boolean): string {
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

export function csvLine(l: UsageLine): string {
  return `${CSV_COLUMNS.map((c) => csvField(l[c])).join(',')}\r\n`;
}
