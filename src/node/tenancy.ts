// The managed-provider checks wired onto the faces (-apiKeys optional|required): API keys on the AI
// routes and HTTP push, RTMP stream keys bound to API keys with a separate playback ID, limits, and every
// paid job charged to its caller. The caller of a request travels with it in AsyncLocalStorage, so the
// AI face and the stream registry stay unaware of tenancy; the node reads it where a job is recorded.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AiRequestError } from '../ai/errors.ts';
import type { AiPayer } from '../ai/payment.ts';
import { PIPELINE_BY_ROUTE } from '../ai/pipelines.ts';
import type { PublishRequest } from '../ingest/streamRegistry.ts';
import { splitStreamPath } from '../ingest/streamPath.ts';
import { errorMessage, HttpError } from '../lib/errors.ts';
import { header, type HttpRoute } from '../lib/http.ts';
import type { Logger } from '../lib/log.ts';
import type { AiJobLedgerRecord, PaymentIntent, SegmentRecord } from '../store/ledger.ts';
import type { StateStore } from '../store/stateStore.ts';
import { TrustedProxies } from '../tenancy/clientAddress.ts';
import { ApiKeyError } from '../tenancy/errors.ts';
import { StreamKeys } from '../tenancy/streamKeys.ts';
import { type EthUsdQuote, type Principal, type SpendReservation, Tenancy } from '../tenancy/tenancy.ts';
import type { NodeConfig } from './config.ts';

/** How often a live stream renews its concurrent-stream slot (its TTL is 60 s). */
const RENEW_EVERY_MS = 20_000;

const PAID_AI_ROUTES = new Set([...PIPELINE_BY_ROUTE.keys(), '/v1/chat/completions']);

function sendJsonError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const known = err instanceof HttpError;
  const status = known ? err.status : 503;
  const body = { error: { message: known ? err.message : 'usage limits cannot be checked right now; retry later', code: known ? err.code : 'UNAVAILABLE' } };
  const data = Buffer.from(`${JSON.stringify(body)}\n`);
  res.writeHead(status, { ...(known ? err.headers : { 'Retry-After': '5' }), 'Content-Type': 'application/json', 'Content-Length': String(data.length) });
  res.end(data);
}

/** One AI request's reservations, oldest first (its attempts run one after another). */
interface AiRequestSpend {
  pending: SpendReservation[];
  /** an attempt was refused at its reservation: its (empty) record is not charged */
  refused: number;
}

export class NodeTenancy {
  readonly tenancy: Tenancy;
  readonly streamKeys: StreamKeys;
  readonly #current = new AsyncLocalStorage<Principal>();
  readonly #aiSpend = new AsyncLocalStorage<AiRequestSpend>();
  /** Segment attempts' reservations, by their ledger intent; `null` = refused. */
  readonly #segmentSpend = new WeakMap<PaymentIntent, SpendReservation | null>();
  /** This instance's name in concurrent-stream slots. */
  readonly #instance = randomBytes(4).toString('hex');
  /** Live streams on this instance with their caller and slot. */
  readonly #streams = new Map<string, { principal: Principal; holder: string }>();
  readonly #renewer: NodeJS.Timeout;

  /** Streams held against their API key's limits. */
  get streamCount(): number {
    return this.#streams.size;
  }

  constructor(
    config: NodeConfig,
    store: StateStore,
    private readonly log: Logger,
    /** the ETH/USD price (on chain) for spend caps in USD */
    ethUsd?: () => EthUsdQuote | undefined,
  ) {
    const mode = config.apiKeys.mode === 'required' ? 'required' : 'optional';
    this.tenancy = new Tenancy({
      store,
      mode,
      proxies: new TrustedProxies(config.apiKeys.trustedProxies),
      anonymousRequestsPerMinute: config.apiKeys.anonymousRequestsPerMinute,
      ...(ethUsd ? { ethUsd } : {}),
      priceMaxAgeMs: config.priceFeedMaxAgeMs,
    });
    this.streamKeys = new StreamKeys(store);
    this.#renewer = setInterval(() => void this.#renewAll(), RENEW_EVERY_MS);
    this.#renewer.unref();
  }

  /** The caller of the request being handled, if a guard admitted one. */
  current(): Principal | undefined {
    return this.#current.getStore();
  }

  async #identify(req: IncomingMessage): Promise<Principal> {
    return this.tenancy.identify(header(req, 'authorization'), req.socket.remoteAddress ?? '', header(req, 'x-forwarded-for'));
  }

  /** Paid AI routes: 401 / 402 / 429 before anything is spent; the job then runs as the caller. */
  guardAi(route: HttpRoute): HttpRoute {
    return async (req, res) => {
      const path = (req.url ?? '/').split('?', 1)[0]!;
      if (!PAID_AI_ROUTES.has(path) || req.method !== 'POST') return route(req, res);
      let principal: Principal;
      try {
        principal = await this.#identify(req);
        await this.tenancy.admit(principal);
      } catch (err) {
        this.#refused(req, path, err);
        req.resume();
        sendJsonError(res, err);
        return true;
      }
      return this.#current.run(principal, () => this.#aiSpend.run({ pending: [], refused: 0 }, () => route(req, res)));
    };
  }

  /**
   * The AI payer as a caller with spend caps sees it: each attempt's payment is reserved under the caps
   * before it can leave; one that does not fit is taken back and the request refused with 402.
   */
  wrapAiPayer(payer: AiPayer): AiPayer {
    return {
      prepare: async (req) => {
        const payment = await payer.prepare(req);
        const principal = this.current();
        const spend = this.#aiSpend.getStore();
        if (!principal || !spend || payment.ev.num === 0n) return payment;
        let reservation: SpendReservation | undefined;
        try {
          reservation = await this.tenancy.reserve(principal, `${this.#instance}/ai/${randomBytes(8).toString('hex')}`, payment.ev);
        } catch (err) {
          payment.fail(false);
          spend.refused++;
          if (err instanceof HttpError) throw new AiRequestError(err.status, err.message, { ...(err.code ? { code: err.code } : {}), headers: err.headers });
          throw new AiRequestError(503, `usage limits cannot be checked right now; retry later (${errorMessage(err)})`, { headers: { 'Retry-After': '5' } });
        }
        if (reservation) spend.pending.push(reservation);
        return payment;
      },
    };
  }

  /**
   * A segment's tickets are about to leave (its ledger intent): reserve them under the stream owner's
   * caps. Throws (402/503) when they do not fit; the segment is then not sent.
   */
  async reserveSegment(principal: Principal, intent: PaymentIntent): Promise<void> {
    try {
      const r = await this.tenancy.reserve(principal, `${this.#instance}/seg/${randomBytes(8).toString('hex')}`, intent.ev);
      if (r) this.#segmentSpend.set(intent, r);
    } catch (err) {
      this.#segmentSpend.set(intent, null);
      throw err;
    }
  }

  /** True (once) when this intent was refused by reserveSegment: nothing was recorded or sent. */
  segmentRefused(intent: PaymentIntent): boolean {
    if (this.#segmentSpend.get(intent) !== null) return false;
    this.#segmentSpend.delete(intent);
    return true;
  }

  /** A segment attempt's outcome: settle its reservation with what was really sent. */
  async chargeSegmentOutcome(principal: Principal, intent: PaymentIntent, r: SegmentRecord): Promise<void> {
    const reservation = this.#segmentSpend.get(intent) ?? undefined;
    this.#segmentSpend.delete(intent);
    await this.chargeSegment(principal, r, reservation);
  }

  /**
   * HTTP push: every segment needs the key (401) and room under the spend caps (402); a new stream takes
   * a concurrent-stream slot (429). A push to a live stream of another caller is refused (403).
   */
  guardPush(route: HttpRoute, isLive: (urlId: string) => boolean): HttpRoute {
    return async (req, res) => {
      const path = (req.url ?? '/').split('?', 1)[0]!;
      if (!path.startsWith('/live/')) return route(req, res);
      const urlId = splitStreamPath(path).manifestId;
      const holder = `${this.#instance}/push/${urlId}`;
      let principal: Principal;
      let acquired = false;
      try {
        principal = await this.#identify(req);
        await this.tenancy.checkSpend(principal);
        const owner = this.#streams.get(holder);
        if (owner && owner.principal.subject !== principal.subject)
          throw new HttpError(403, `stream ${urlId} belongs to another API key`, { code: 'NOT_YOUR_STREAM' });
        if (!isLive(urlId)) {
          await this.tenancy.acquireStream(principal, holder);
          acquired = true;
        }
      } catch (err) {
        this.#refused(req, path, err);
        req.resume();
        sendJsonError(res, err);
        return true;
      }
      try {
        return await this.#current.run(principal, () => route(req, res));
      } finally {
        // the stream did not start (refused, bad segment): give its slot back now
        if (acquired && !isLive(urlId) && !this.#streams.has(holder)) await this.tenancy.releaseStream(principal, holder).catch(() => {});
      }
    };
  }

  #refused(req: IncomingMessage, path: string, err: unknown): void {
    if (err instanceof HttpError) this.log.info({ status: err.status, code: err.code, url: path, peer: req.socket.remoteAddress }, 'request refused');
    else this.log.error({ err: errorMessage(err), url: path }, 'usage limits could not be checked; request refused');
  }

  /**
   * Who a new stream belongs to. HTTP push: the caller the guard admitted. RTMP: the API key the stream
   * key in the URL is bound to; the stream is renamed to the key's public playback ID. Throws HttpError.
   */
  async authorizeStream(req: PublishRequest): Promise<{ principal: Principal; manifestId?: string } | undefined> {
    if (req.ingest === 'push') {
      const principal = this.current();
      return principal ? { principal } : undefined;
    }
    const bound = await this.streamKeys.resolve(req.urlId);
    if (!bound) {
      if (this.tenancy.mode === 'optional') return undefined;
      throw new ApiKeyError('unknown stream key: publish to rtmp://<host>/live/<stream key> with a key from `livepeer-gateway keys create`', 'API_KEY_INVALID');
    }
    const key = await this.tenancy.keys.get(bound.keyId);
    if (!key || key.revokedAt) throw new ApiKeyError('the API key of this stream key was revoked', 'API_KEY_REVOKED');
    const principal: Principal = { subject: key.id, keyId: key.id, name: key.name, limits: key.limits };
    await this.tenancy.checkSpend(principal);
    await this.tenancy.acquireStream(principal, `${this.#instance}/rtmp/${bound.playbackId}`);
    return { principal, manifestId: bound.playbackId };
  }

  /** A stream started: its slot is renewed while it runs. */
  streamStarted(ingest: 'rtmp' | 'push', urlId: string, manifestId: string, principal: Principal): void {
    const holder = `${this.#instance}/${ingest}/${ingest === 'push' ? urlId : manifestId}`;
    this.#streams.set(holder, { principal, holder });
  }

  streamEnded(ingest: 'rtmp' | 'push', urlId: string, manifestId: string, principal: Principal): void {
    const holder = `${this.#instance}/${ingest}/${ingest === 'push' ? urlId : manifestId}`;
    this.#streams.delete(holder);
    void this.tenancy.releaseStream(principal, holder).catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'could not release a stream slot'));
  }

  async #renewAll(): Promise<void> {
    for (const { principal, holder } of this.#streams.values()) {
      await this.tenancy.renewStream(principal, holder).catch(() => false);
    }
  }

  /** An AI job was recorded in the ledger: charge it to the request's caller. */
  async chargeAi(r: AiJobLedgerRecord): Promise<void> {
    const principal = this.current();
    if (!principal) return;
    const spend = this.#aiSpend.getStore();
    if (spend && spend.refused > 0 && r.tickets === 0 && spend.pending.length === 0) {
      spend.refused--;
      return;
    }
    const reservation = spend?.pending.shift();
    await this.tenancy.charge(
      principal,
      {
        kind: 'ai',
        orchestrator: r.orchestrator,
        ev: r.ev,
        faceValue: r.faceValue,
        tickets: r.tickets,
        units: r.units,
        ok: r.ok,
        pipeline: r.pipeline,
        model: r.modelId,
      },
      reservation,
    );
  }

  /** A segment attempt was recorded in the ledger: charge it to the stream's owner. */
  async chargeSegment(principal: Principal, r: SegmentRecord, reservation?: SpendReservation): Promise<void> {
    await this.tenancy.charge(
      principal,
      {
        kind: 'segment',
        orchestrator: r.orchestrator,
        ev: r.ev,
        faceValue: r.faceValue,
        tickets: r.tickets,
        units: 0n,
        ok: r.ok,
        stream: r.manifestId,
      },
      reservation,
    );
  }

  close(): void {
    clearInterval(this.#renewer);
  }
}
