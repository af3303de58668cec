// What the gateway sent and paid, per stream and per orchestrator, kept across restarts in a sublevel of
// the node's database.
import { add, rat, ratToDecimal, type Rat } from '../lib/rat.ts';
import { SerialQueue } from '../lib/serialQueue.ts';
import { StoreError } from './errors.ts';
import { openNodeDb, type DbHandle, type NodeDb } from './level.ts';

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

/** Keys of the ledger's sublevel: `stream/<manifest id>` and `orch/<orchestrator URI>`. */
const SUBLEVEL = 'ledger';

function ledgerOf(db: NodeDb) {
  return db.sublevel<string, LedgerEntry>(SUBLEVEL, { valueEncoding: 'json' });
}

export class Ledger {
  #handle: DbHandle | undefined;
  #ledger: ReturnType<typeof ledgerOf> | undefined;
  // Updates are read-modify-write, so they run one at a time and concurrent segments never lose one.
  readonly #writes = new SerialQueue();

  /** `datadir`: the node's -datadir; the ledger lives in its shared database. */
  constructor(private readonly datadir: string) {}

  async open(): Promise<void> {
    this.#handle = await openNodeDb(this.datadir);
    this.#ledger = ledgerOf(this.#handle.db);
  }

  async close(): Promise<void> {
    await this.#writes.idle();
    await this.#handle?.close();
    this.#handle = undefined;
    this.#ledger = undefined;
  }

  private get db(): ReturnType<typeof ledgerOf> {
    if (!this.#ledger) throw new StoreError('the ledger is not open: call open() first');
    return this.#ledger;
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
    return this.#writes.run(async () => {
      const streamKey = `stream/${r.manifestId}`;
      const orchKey = `orch/${r.orchestrator}`;
      const [s, o] = await this.db.getMany([streamKey, orchKey]);
      await this.db.batch([
        { type: 'put', key: streamKey, value: bump(s ?? empty(now), r.ok) },
        { type: 'put', key: orchKey, value: bump(o ?? empty(now), true) },
      ]);
    });
  }

  /** A failed segment that no orchestrator transcoded still counts once for its stream. */
  recordUntranscoded(manifestId: string): Promise<void> {
    const now = new Date().toISOString();
    return this.#writes.run(async () => {
      const key = `stream/${manifestId}`;
      const e = (await this.db.get(key)) ?? empty(now);
      await this.db.put(key, { ...e, segments: e.segments + 1, lastSeen: now });
    });
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
    return this.#writes.run(async () => {
      const jobKey = `ai/${r.pipeline}/${r.modelId}`;
      const orchKey = `aiorch/${r.orchestrator}`;
      const [j, o] = (await this.db.getMany([jobKey, orchKey])) as unknown as (AiLedgerEntry | undefined)[];
      await this.db.batch([
        { type: 'put', key: jobKey, value: bump(j) as unknown as LedgerEntry },
        { type: 'put', key: orchKey, value: bump(o) as unknown as LedgerEntry },
      ]);
    });
  }

  /** AI records: `ai` per "<pipeline>/<model>", `aiorch` per orchestrator. */
  async aiEntries(prefix: 'ai' | 'aiorch'): Promise<Record<string, AiLedgerEntry & { evPaidWei: string }>> {
    await this.#writes.idle();
    const out: Record<string, AiLedgerEntry & { evPaidWei: string }> = {};
    for await (const [key, value] of this.db.iterator({ gt: `${prefix}/`, lt: `${prefix}0` })) {
      const v = value as unknown as AiLedgerEntry;
      out[key.slice(prefix.length + 1)] = { ...v, evPaidWei: ratToDecimal(parseRat(v.evPaid), 0) };
    }
    return out;
  }

  async entries(prefix: 'stream' | 'orch'): Promise<Record<string, LedgerEntry & { evPaidWei: string }>> {
    await this.#writes.idle();
    const out: Record<string, LedgerEntry & { evPaidWei: string }> = {};
    for await (const [key, value] of this.db.iterator({ gt: `${prefix}/`, lt: `${prefix}0` })) {
      out[key.slice(prefix.length + 1)] = { ...value, evPaidWei: ratToDecimal(parseRat(value.evPaid), 0) };
    }
    return out;
  }
}
