// What the gateway sent and paid, per stream and per orchestrator, kept across restarts in a sublevel of
// the node's database.
import { add, rat, ratToDecimal, type Rat } from '../lib/rat.ts';
import { StoreError } from './errors.ts';
import { GroupCommit, type KeyChange } from './groupCommit.ts';
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
  /**
   * Attempts whose tickets are counted (written before the upload) but whose outcome is not in yet. After
   * a crash they stay: their tickets may or may not have left, and the ledger errs on the side of sent.
   */
  open?: number;
}

/** The tickets of one attempt, written before they are sent (the intent). */
export interface PaymentIntent {
  manifestId: string;
  orchestrator: string;
  tickets: number;
  ev: Rat;
  faceValue: bigint;
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

// Money records are written synced: once a write returns, it survives a crash of the process or the machine.
// (classic-level's `sync`; the sublevel passes it to the database, its option types just do not list it)
const SYNCED = { sync: true } as unknown as Record<string, never>;

function addRat(a: string, b: Rat, sign: 1n | -1n = 1n): string {
  const v = add(parseRat(a), { num: b.num * sign, den: b.den });
  return `${v.num}/${v.den}`;
}

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
  // Updates are read-modify-write: applied one after another, so concurrent segments never lose one, and
  // committed in groups, so they do not each wait for the others' fsync. (AI entries share the sublevel.)
  #writes: GroupCommit<LedgerEntry | AiLedgerEntry> | undefined;

  /** `datadir`: the node's -datadir; the ledger lives in its shared database. */
  constructor(private readonly datadir: string) {}

  async open(): Promise<void> {
    this.#handle = await openNodeDb(this.datadir);
    const ledger = ledgerOf(this.#handle.db);
    this.#ledger = ledger;
    this.#writes = new GroupCommit<LedgerEntry | AiLedgerEntry>({
      getMany: (keys) => ledger.getMany(keys),
      putSynced: (entries) =>
        ledger.batch(
          entries.map(({ key, value }) => ({ type: 'put' as const, key, value: value as LedgerEntry })),
          SYNCED,
        ),
    });
  }

  async close(): Promise<void> {
    await this.#writes?.idle();
    await this.#handle?.close();
    this.#handle = undefined;
    this.#ledger = undefined;
    this.#writes = undefined;
  }

  private get db(): ReturnType<typeof ledgerOf> {
    if (!this.#ledger) throw new StoreError('the ledger is not open: call open() first');
    return this.#ledger;
  }

  /** Applies `changes` (in order with every other update) and resolves once they are on disk, synced. */
  #commit(changes: KeyChange<LedgerEntry | AiLedgerEntry>[]): Promise<void> {
    if (!this.#writes) return Promise.reject(new StoreError('the ledger is not open: call open() first'));
    return this.#writes.update(changes);
  }

  /**
   * Before an upload: the attempt's tickets are counted as sent (synced), so a crash at any point after
   * leaves a ledger that never under-reports. recordOutcome() closes the attempt.
   */
  recordIntent(p: PaymentIntent): Promise<void> {
    const now = new Date().toISOString();
    const bump = (e: LedgerEntry): LedgerEntry => ({
      ...e,
      tickets: e.tickets + p.tickets,
      evPaid: addRat(e.evPaid, p.ev),
      faceValueSent: String(BigInt(e.faceValueSent) + p.faceValue * BigInt(p.tickets)),
      open: (e.open ?? 0) + 1,
      lastSeen: now,
    });
    return this.#update(p.manifestId, p.orchestrator, bump, bump);
  }

  /**
   * After the attempt: counted as a segment (and transcoded or failed). `sent` false means the tickets
   * provably never left this process (no connection was made): they are taken back out.
   */
  recordOutcome(p: PaymentIntent, outcome: { ok: boolean; sent: boolean }): Promise<void> {
    const now = new Date().toISOString();
    const bump = (e: LedgerEntry, countSegment: boolean): LedgerEntry => {
      const back = outcome.sent ? 0 : p.tickets;
      return {
        ...e,
        segments: e.segments + (countSegment ? 1 : 0),
        transcoded: e.transcoded + (outcome.ok && countSegment ? 1 : 0),
        failures: e.failures + (outcome.ok ? 0 : 1),
        tickets: e.tickets - back,
        evPaid: outcome.sent ? e.evPaid : addRat(e.evPaid, p.ev, -1n),
        faceValueSent: String(BigInt(e.faceValueSent) - p.faceValue * BigInt(back)),
        open: Math.max(0, (e.open ?? 0) - 1),
        lastSeen: now,
      };
    };
    return this.#update(
      p.manifestId,
      p.orchestrator,
      (e) => bump(e, outcome.ok),
      (e) => bump(e, true),
    );
  }

  #update(manifestId: string, orchestrator: string, stream: (e: LedgerEntry) => LedgerEntry, orch: (e: LedgerEntry) => LedgerEntry): Promise<void> {
    const now = new Date().toISOString();
    return this.#commit([
      { key: `stream/${manifestId}`, next: (e) => stream((e as LedgerEntry | undefined) ?? empty(now)) },
      { key: `orch/${orchestrator}`, next: (e) => orch((e as LedgerEntry | undefined) ?? empty(now)) },
    ]);
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
    return this.#commit([
      { key: `stream/${r.manifestId}`, next: (e) => bump((e as LedgerEntry | undefined) ?? empty(now), r.ok) },
      { key: `orch/${r.orchestrator}`, next: (e) => bump((e as LedgerEntry | undefined) ?? empty(now), true) },
    ]);
  }

  /** A failed segment that no orchestrator transcoded still counts once for its stream. */
  recordUntranscoded(manifestId: string): Promise<void> {
    const now = new Date().toISOString();
    return this.#commit([
      {
        key: `stream/${manifestId}`,
        next: (v) => {
          const e = (v as LedgerEntry | undefined) ?? empty(now);
          return { ...e, segments: e.segments + 1, lastSeen: now };
        },
      },
    ]);
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
    return this.#commit([
      { key: `ai/${r.pipeline}/${r.modelId}`, next: (e) => bump(e as AiLedgerEntry | undefined) },
      { key: `aiorch/${r.orchestrator}`, next: (e) => bump(e as AiLedgerEntry | undefined) },
    ]);
  }

  /** AI records: `ai` per "<pipeline>/<model>", `aiorch` per orchestrator. */
  async aiEntries(prefix: 'ai' | 'aiorch', limit = Number.POSITIVE_INFINITY): Promise<Record<string, AiLedgerEntry & { evPaidWei: string }>> {
    await this.#writes?.idle();
    const out: Record<string, AiLedgerEntry & { evPaidWei: string }> = {};
    const range = { gt: `${prefix}/`, lt: `${prefix}0`, ...(Number.isFinite(limit) ? { limit } : {}) };
    for await (const [key, value] of this.db.iterator(range)) {
      const v = value as unknown as AiLedgerEntry;
      out[key.slice(prefix.length + 1)] = { ...v, evPaidWei: ratToDecimal(parseRat(v.evPaid), 0) };
    }
    return out;
  }

  /** `limit`: at most this many entries (the ledger grows with every stream; /status shows a page). */
  async entries(prefix: 'stream' | 'orch', limit = Number.POSITIVE_INFINITY): Promise<Record<string, LedgerEntry & { evPaidWei: string }>> {
    await this.#writes?.idle();
    const out: Record<string, LedgerEntry & { evPaidWei: string }> = {};
    const range = { gt: `${prefix}/`, lt: `${prefix}0`, ...(Number.isFinite(limit) ? { limit } : {}) };
    for await (const [key, value] of this.db.iterator(range)) {
      out[key.slice(prefix.length + 1)] = { ...value, evPaidWei: ratToDecimal(parseRat(value.evPaid), 0) };
    }
    return out;
  }
}
