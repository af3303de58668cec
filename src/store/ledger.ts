// What the gateway sent and paid, per stream and per orchestrator, kept across restarts (level).
import { Level } from 'level';
import { add, rat, ratToDecimal, type Rat } from '../lib/rat.ts';

export interface LedgerEntry {
  segments: number;
  /** segments that came back transcoded */
  transcoded: number;
  failures: number;
  tickets: number;
  /** Σ ticket EV sent, wei, exact "num/den" */
  evPaid: string;
  /** Σ face value of the tickets sent, wei */
  faceValueSent: string;
  firstSeen: string;
  lastSeen: string;
}

export interface SegmentRecord {
  manifestId: string;
  orchestrator: string;
  tickets: number;
  ev: Rat;
  faceValue: bigint;
  ok: boolean;
}

export interface AiJobLedgerRecord {
  pipeline: string;
  modelId: string;
  orchestrator: string;
  units: bigint;
  tickets: number;
  ev: Rat;
  faceValue: bigint;
  ok: boolean;
}

export interface AiLedgerEntry {
  /** jobs that succeeded */
  jobs: number;
  failures: number;
  /** Σ units of the jobs that succeeded */
  units: string;
  tickets: number;
  /** Σ ticket EV sent, wei, exact "num/den" */
  evPaid: string;
  faceValueSent: string;
  firstSeen: string;
  lastSeen: string;
}

const empty = (now: string): LedgerEntry => ({
  segments: 0,
  transcoded: 0,
  failures: 0,
  tickets: 0,
  evPaid: '0/1',
  faceValueSent: '0',
  firstSeen: now,
  lastSeen: now,
});

function parseRat(s: string): Rat {
  const [n, d] = s.split('/');
  return rat(BigInt(n ?? '0'), BigInt(d ?? '1'));
}

export class Ledger {
  private readonly db: Level<string, LedgerEntry>;
  // writes to one key are chained so concurrent segments never lose an update
  private chain: Promise<unknown> = Promise.resolve();

  constructor(location: string) {
    this.db = new Level<string, LedgerEntry>(location, { valueEncoding: 'json' });
  }

  async open(): Promise<void> {
    await this.db.open();
  }

  async close(): Promise<void> {
    await this.chain.catch(() => {});
    await this.db.close();
  }

  /** Records one segment attempt on one orchestrator. */
  record(r: SegmentRecord): Promise<void> {
    const now = new Date().toISOString();
    const bump = (e: LedgerEntry, countSegment: boolean): LedgerEntry => ({
      ...e,
      segments: e.segments + (countSegment ? 1 : 0),
      transcoded: e.transcoded + (r.ok && countSegment ? 1 : 0),
      failures: e.failures + (r.ok ? 0 : 1),
      tickets: e.tickets + r.tickets,
      evPaid: (() => {
        const v = add(parseRat(e.evPaid), r.ev);
        return `${v.num}/${v.den}`;
      })(),
      faceValueSent: String(BigInt(e.faceValueSent) + r.faceValue * BigInt(r.tickets)),
      lastSeen: now,
    });
    const next = this.chain.then(async () => {
      const streamKey = `stream/${r.manifestId}`;
      const orchKey = `orch/${r.orchestrator}`;
      const [s, o] = await this.db.getMany([streamKey, orchKey]);
      await this.db.batch([
        { type: 'put', key: streamKey, value: bump(s ?? empty(now), r.ok) },
        { type: 'put', key: orchKey, value: bump(o ?? empty(now), true) },
      ]);
    });
    this.chain = next.catch(() => {});
    return next;
  }

  /** A failed segment that no orchestrator transcoded still counts once for its stream. */
  async recordUntranscoded(manifestId: string): Promise<void> {
    const now = new Date().toISOString();
    const next = this.chain.then(async () => {
      const key = `stream/${manifestId}`;
      const e = (await this.db.get(key)) ?? empty(now);
      await this.db.put(key, { ...e, segments: e.segments + 1, lastSeen: now });
    });
    this.chain = next.catch(() => {});
    return next;
  }

  /**
   * Records one AI job attempt beside video: per pipeline and model (`ai/<pipeline>/<model>`) and per
   * orchestrator (`aiorch/<uri>`), with the units paid for.
   */
  recordAiJob(r: AiJobLedgerRecord): Promise<void> {
    const now = new Date().toISOString();
    const bump = (e: AiLedgerEntry | undefined): AiLedgerEntry => {
      const base = e ?? { jobs: 0, failures: 0, units: '0', tickets: 0, evPaid: '0/1', faceValueSent: '0', firstSeen: now, lastSeen: now };
      const ev = add(parseRat(base.evPaid), r.ev);
      return {
        ...base,
        jobs: base.jobs + (r.ok ? 1 : 0),
        failures: base.failures + (r.ok ? 0 : 1),
        units: String(BigInt(base.units) + (r.ok ? r.units : 0n)),
        tickets: base.tickets + r.tickets,
        evPaid: `${ev.num}/${ev.den}`,
        faceValueSent: String(BigInt(base.faceValueSent) + r.faceValue * BigInt(r.tickets)),
        lastSeen: now,
      };
    };
    const next = this.chain.then(async () => {
      const jobKey = `ai/${r.pipeline}/${r.modelId}`;
      const orchKey = `aiorch/${r.orchestrator}`;
      const [j, o] = (await this.db.getMany([jobKey, orchKey])) as unknown as (AiLedgerEntry | undefined)[];
      await this.db.batch([
        { type: 'put', key: jobKey, value: bump(j) as unknown as LedgerEntry },
        { type: 'put', key: orchKey, value: bump(o) as unknown as LedgerEntry },
      ]);
    });
    this.chain = next.catch(() => {});
    return next;
  }

  /** AI records: `ai` per "<pipeline>/<model>", `aiorch` per orchestrator. */
  async aiEntries(prefix: 'ai' | 'aiorch'): Promise<Record<string, AiLedgerEntry & { evPaidWei: string }>> {
    await this.chain;
    const out: Record<string, AiLedgerEntry & { evPaidWei: string }> = {};
    for await (const [key, value] of this.db.iterator({ gt: `${prefix}/`, lt: `${prefix}0` })) {
      const v = value as unknown as AiLedgerEntry;
      out[key.slice(prefix.length + 1)] = { ...v, evPaidWei: ratToDecimal(parseRat(v.evPaid), 0) };
    }
    return out;
  }

  async entries(prefix: 'stream' | 'orch'): Promise<Record<string, LedgerEntry & { evPaidWei: string }>> {
    await this.chain;
    const out: Record<string, LedgerEntry & { evPaidWei: string }> = {};
    for await (const [key, value] of this.db.iterator({ gt: `${prefix}/`, lt: `${prefix}0` })) {
      out[key.slice(prefix.length + 1)] = { ...value, evPaidWei: ratToDecimal(parseRat(value.evPaid), 0) };
    }
    return out;
  }
}
