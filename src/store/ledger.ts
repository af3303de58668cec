// What the gateway sent and paid, per stream and per orchestrator, kept across restarts in a sublevel of
// the node's database.
import { add, cmp, rat, ratToDecimal, sub, ZERO, type Rat } from '../lib/rat.ts';
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
  /**
   * Tickets counted ahead of sending (synced), drawn on by the next attempts so their records need not
   * wait for the disk. Released when the stream ends or the node stops; after a crash they count as sent.
   */
  reserved?: { tickets: number; evPaid: string; faceValueSent: string };
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

function addRat(a: string, b: Rat): string {
  const v = add(parseRat(a), b);
  return `${v.num}/${v.den}`;
}

function parseRat(s: string): Rat {
  const [n, d] = s.split('/');
  return rat(BigInt(n ?? '0'), BigInt(d ?? '1'));
}

/** An amount of tickets: how many, their EV, and the sum of their face values. */
interface Budget {
  tickets: number;
  ev: Rat;
  faceValue: bigint;
}

const NOTHING: Budget = { tickets: 0, ev: ZERO, faceValue: 0n };
/** A reservation covers this many more attempts like the one that ran out of it. */
const RESERVE_ATTEMPTS = 4;

const budgetOf = (p: Pick<PaymentIntent, 'tickets' | 'ev' | 'faceValue'>): Budget => ({
  tickets: p.tickets,
  ev: p.ev,
  faceValue: p.faceValue * BigInt(p.tickets),
});
const times = (b: Budget, k: number): Budget => ({ tickets: b.tickets * k, ev: rat(b.ev.num * BigInt(k), b.ev.den), faceValue: b.faceValue * BigInt(k) });
const plus = (a: Budget, b: Budget): Budget => ({ tickets: a.tickets + b.tickets, ev: add(a.ev, b.ev), faceValue: a.faceValue + b.faceValue });
const minus = (a: Budget, b: Budget): Budget => ({ tickets: a.tickets - b.tickets, ev: sub(a.ev, b.ev), faceValue: a.faceValue - b.faceValue });
const fits = (b: Budget, within: Budget): boolean => b.tickets <= within.tickets && cmp(b.ev, within.ev) <= 0 && b.faceValue <= within.faceValue;
const isNothing = (b: Budget): boolean => b.tickets <= 0 && b.ev.num <= 0n && b.faceValue <= 0n;

/** What the entry holds reserved. */
function reservedOf(e: LedgerEntry): Budget {
  return e.reserved ? { tickets: e.reserved.tickets, ev: parseRat(e.reserved.evPaid), faceValue: BigInt(e.reserved.faceValueSent) } : NOTHING;
}

/** The entry with `delta` added to what it has reserved (the field goes when nothing is left). */
function reserve(e: LedgerEntry, delta: Budget): LedgerEntry {
  const now = plus(reservedOf(e), delta);
  const { reserved: _, ...rest } = e;
  if (isNothing(now)) return rest;
  return { ...rest, reserved: { tickets: now.tickets, evPaid: `${now.ev.num}/${now.ev.den}`, faceValueSent: String(now.faceValue) } };
}

/** The entry with `b` counted as sent (taken back out when `b` is negative). */
function sent(e: LedgerEntry, b: Budget, now: string): LedgerEntry {
  return {
    ...e,
    tickets: e.tickets + b.tickets,
    evPaid: addRat(e.evPaid, b.ev),
    faceValueSent: String(BigInt(e.faceValueSent) + b.faceValue),
    lastSeen: now,
  };
}

/** What one stream has reserved on one orchestrator, and is on disk (synced). */
interface Reservation {
  manifestId: string;
  orchestrator: string;
  durable: Budget;
  toppingUp: boolean;
  released: boolean;
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
  /** by `${manifestId}\n${orchestrator}` */
  readonly #reservations = new Map<string, Reservation>();

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
    await this.#countLeftReservations();
  }

  /** Reservations a crash left on disk: some of their tickets may have left, so they count as sent. */
  async #countLeftReservations(): Promise<void> {
    const changes: KeyChange<LedgerEntry | AiLedgerEntry>[] = [];
    for (const prefix of ['stream', 'orch']) {
      for await (const [key, value] of this.db.iterator({ gt: `${prefix}/`, lt: `${prefix}0` })) {
        if (!value.reserved) continue;
        const b = reservedOf(value);
        changes.push({ key, next: (e) => sent(reserve(e as LedgerEntry, minus(NOTHING, b)), b, (e as LedgerEntry).lastSeen) });
      }
    }
    if (changes.length > 0) await this.#commit(changes);
  }

  async close(): Promise<void> {
    if (this.#writes) await Promise.all([...this.#reservations.values()].map((r) => this.#release(r)));
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
   *
   * Each stream reserves on its orchestrator, in the same synced write, room for a few more attempts like
   * this one. The next attempts draw on it: their tickets are already on disk as reserved, so there is
   * nothing to wait for (undefined is returned) and the move from reserved to sent is written with the next
   * group. The reservation is topped up (synced, in the background) before it runs out.
   */
  recordIntent(p: PaymentIntent): Promise<void> | undefined {
    const b = budgetOf(p);
    const key = `${p.manifestId}\n${p.orchestrator}`;
    const held = this.#reservations.get(key);
    const now = new Date().toISOString();
    const open = (e: LedgerEntry): LedgerEntry => ({ ...e, open: (e.open ?? 0) + 1 });
    if (held && fits(b, held.durable)) {
      held.durable = minus(held.durable, b);
      const draw = (e: LedgerEntry) => open(sent(reserve(e, minus(NOTHING, b)), b, now));
      // (a failed write leaves the tickets reserved on disk: counted as sent after a crash, never lost)
      this.#update(p.manifestId, p.orchestrator, draw, draw).catch(() => {});
      if (!held.toppingUp && !fits(times(b, 2), held.durable)) void this.#topUp(held, times(b, RESERVE_ATTEMPTS)).catch(() => {});
      return undefined;
    }
    // the stream moved to another orchestrator: what it reserved on the others goes back
    for (const r of this.#reservations.values()) if (r.manifestId === p.manifestId && r.orchestrator !== p.orchestrator) void this.#release(r).catch(() => {});
    const r = held ?? { manifestId: p.manifestId, orchestrator: p.orchestrator, durable: NOTHING, toppingUp: false, released: false };
    this.#reservations.set(key, r);
    const ahead = times(b, RESERVE_ATTEMPTS);
    const count = (e: LedgerEntry) => open(reserve(sent(e, b, now), ahead));
    return this.#update(p.manifestId, p.orchestrator, count, count).then(() => this.#reserved(r, ahead));
  }

  /** Reserves `ahead` more for `r`, synced; usable once on disk. */
  async #topUp(r: Reservation, ahead: Budget): Promise<void> {
    r.toppingUp = true;
    try {
      const more = (e: LedgerEntry) => reserve(e, ahead);
      await this.#update(r.manifestId, r.orchestrator, more, more);
      await this.#reserved(r, ahead);
    } finally {
      r.toppingUp = false;
    }
  }

  /** `ahead` is on disk for `r`: drawn on from now, or given back at once when `r` was released meanwhile. */
  async #reserved(r: Reservation, ahead: Budget): Promise<void> {
    if (!r.released) {
      r.durable = plus(r.durable, ahead);
      return;
    }
    const back = (e: LedgerEntry) => reserve(e, minus(NOTHING, ahead));
    await this.#update(r.manifestId, r.orchestrator, back, back);
  }

  /** Gives back what `r` has reserved and not drawn. */
  async #release(r: Reservation): Promise<void> {
    if (r.released) return;
    r.released = true;
    this.#reservations.delete(`${r.manifestId}\n${r.orchestrator}`);
    const left = r.durable;
    r.durable = NOTHING;
    if (isNothing(left)) return;
    const back = (e: LedgerEntry) => reserve(e, minus(NOTHING, left));
    await this.#update(r.manifestId, r.orchestrator, back, back);
  }

  /** The stream has ended: what it reserved and did not send goes back (synced). */
  async releaseStream(manifestId: string): Promise<void> {
    const mine = [...this.#reservations.values()].filter((r) => r.manifestId === manifestId);
    await Promise.all(mine.map((r) => this.#release(r)));
  }

  /**
   * After the attempt: counted as a segment (and transcoded or failed). `sent` false means the tickets
   * provably never left this process (no connection was made): they are taken back out.
   */
  recordOutcome(p: PaymentIntent, outcome: { ok: boolean; sent: boolean }): Promise<void> {
    const now = new Date().toISOString();
    const bump = (e: LedgerEntry, countSegment: boolean): LedgerEntry => {
      const kept = outcome.sent ? { ...e, lastSeen: now } : sent(e, minus(NOTHING, budgetOf(p)), now);
      return {
        ...kept,
        segments: e.segments + (countSegment ? 1 : 0),
        transcoded: e.transcoded + (outcome.ok && countSegment ? 1 : 0),
        failures: e.failures + (outcome.ok ? 0 : 1),
        open: Math.max(0, (e.open ?? 0) - 1),
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
      ...sent(e, budgetOf(r), now),
      segments: e.segments + (countSegment ? 1 : 0),
      transcoded: e.transcoded + (r.ok && countSegment ? 1 : 0),
      failures: e.failures + (r.ok ? 0 : 1),
    });
    return this.#update(
      r.manifestId,
      r.orchestrator,
      (e) => bump(e, r.ok),
      (e) => bump(e, true),
    );
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
