// A devnet orchestrator a go-livepeer broadcaster can use: one TLS port carrying gRPC
// (GetOrchestrator, EndTranscodingSession, Ping) and HTTP (POST /segment, GET /stream/…),
// probabilistic micropayments checked against the devnet TicketBroker, ffmpeg transcoding,
// redemption of winning tickets, and fault switches for testing broadcasters.
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { pino, type Logger } from 'pino';
import { zeroAddress, type Address, type Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { keccak256 } from '../../../src/lib/keccak.ts';
import { ALL_VIDEO_CAPABILITIES, capabilitiesCompatible, capabilityBitstring, profilesFromSegData } from '../../../src/net/capabilities.ts';
import {
  decodeMessage,
  encodeMessage,
  type AuthToken,
  type Capabilities,
  type OrchestratorInfo,
  type Payment,
  type PriceInfo,
  type SegData,
  type TranscodeResult,
  type VideoProfileMsg,
} from '../../../src/wire/lpRpc.ts';
import { be32, concatBytes, hexToBytes } from '../../../src/lib/bytes.ts';
import { rat, ratToDecimal, ZERO, type Rat } from '../../../src/lib/rat.ts';
import { profileIdHex } from '../../../src/pm/requestSignatures.ts';
import { privateKeySigner, verifyPersonalSignature, type Signer } from '../../../src/pm/signer.ts';
import { AuthTokens } from './authToken.ts';
import { generateSelfSignedCert } from './cert.ts';
import { OrchestratorChain, type OrchestratorContracts } from './chainView.ts';
import { isGrpcRequest, RpcFailure, serveUnary } from './grpcUnary.ts';
import { Accounts, PaymentError, paymentSender, type PaymentOutcome, type SessionAccount } from './payments.ts';
import { InsufficientReserveError, Recipient, type HostileTicketParams } from './recipient.ts';
import { Redeemer, type Redemption } from './redeemer.ts';
import { RenditionStore } from './renditionStore.ts';
import { TranscodeError, transcodeSegment } from './transcode.ts';
import { PrerenderedTranscoder } from './loadMode.ts';
import type { AiWorkerOptions } from './ai/config.ts';
import { createAiWorker, type AiWorker } from './ai/worker.ts';

export interface OrchestratorFaults {
  /** Every nth segment gets a TranscodeResult error instead of renditions. */
  failEvery?: number;
  /** The error text of failEvery (default OrchestratorBusy, which broadcasters retry elsewhere). */
  failError?: string;
  /** Hold every /segment this long before answering. */
  stallMs?: number;
  /** Answer 400 to every payment. */
  refusePayment?: boolean;
  /** Quote this price instead of the configured one. */
  priceOverride?: { pricePerUnit: bigint; pixelsPerUnit: bigint };
  /** Hand out broken ticket params. */
  hostileTicketParams?: HostileTicketParams;
  /** Answer /segment with 200 and a body that is not a TranscodeResult. */
  malformedResponse?: boolean;
  /** Shut down after answering this many segments. */
  dieAfter?: number;
  /** Report (and bill) this many times the pixels actually encoded. */
  overbillFactor?: number;
  /** Sign the results with a key that is not the orchestrator's. */
  forgeResultSignature?: boolean;
}

export interface OrchestratorOptions {
  host?: string;
  /** 0 (default) = a free port */
  port?: number;
  /** Required on-chain: the orchestrator's account (recipient of tickets, signer of results). */
  privateKey?: Hex;
  rpcUrl?: string;
  /** Absent ⇒ off-chain orchestrator: no tickets, no price. */
  contracts?: OrchestratorContracts;
  /** wei per pixelsPerUnit pixels (default 1) */
  pricePerUnit?: bigint;
  pixelsPerUnit?: bigint;
  /** -ticketEV, wei (default 8 000 000 000) */
  ticketEV?: bigint;
  /** -maxFaceValue, wei (default: no cap) */
  maxFaceValue?: bigint;
  /** Gas a redemption is assumed to cost (default 1 200 000, Arbitrum) */
  redeemGas?: bigint;
  /** Concurrent transcoding sessions (default 10, go-livepeer -maxSessions) */
  maxSessions?: number;
  /** Initialize the round when a redemption finds it uninitialized. */
  initializeRounds?: boolean;
  faults?: OrchestratorFaults;
  /** Version advertised in capabilities. */
  version?: string;
  logger?: Logger;
  /** When no logger is given (default info, to stdout). */
  logLevel?: string;
  /** What dieAfter does; default: stop the server. */
  onDie?: () => void;
  /** AI pipelines and models to serve (see ai/config.ts); absent = transcoding only. */
  ai?: AiWorkerOptions;
  /** 'prerendered': the load mode (loadMode.ts), renditions encoded once per profile and segment length; default 'ffmpeg' per segment. */
  transcoding?: 'ffmpeg' | 'prerendered';
}

export interface SessionCredit {
  sender: Address;
  sessionId: string;
  /** wei (exact rational) */
  credited: Rat;
  debited: Rat;
  fixedPrice?: Rat;
}

export interface OrchestratorStats {
  segments: number;
  segmentErrors: number;
  ticketsReceived: number;
  winningTickets: number;
  redemptions: Redemption[];
  /** EndTranscodingSession calls with a valid token. */
  sessionsEndedByBroadcaster: number;
  /** Per (sender, session) credit and debit, computed on access. */
  readonly credits: SessionCredit[];
}

export interface RunningOrchestrator {
  /** https://host:port */
  uri: string;
  port: number;
  /** The orchestrator's account (the zero address off-chain without a key). */
  address: Address;
  stats: OrchestratorStats;
  /** The AI side, when the orchestrator serves AI models. */
  ai?: AiWorker;
  /** Resolves once every winning ticket received so far has been tried on chain. */
  redemptionsSettled(): Promise<void>;
  stop(): Promise<void>;
}

export const DEFAULT_TICKET_EV = 8_000_000_000n;
export const DEFAULT_MAX_SESSIONS = 10;
export const ORCHESTRATOR_VERSION = '0.9.1';
const SESSION_IDLE_MS = 70_000;
const MAX_SEGMENT_BYTES = 300_000_000;
const MAX_SEGMENT_DURATION_MS = 300_000;
const SESSION_QUEUE = 4;
const URI_CONTENT_TYPE = 'application/vnd+livepeer.uri';

/** A request refusal with the status and text go-livepeer's http.Error would send. */
class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface TranscodeSession {
  id: string;
  pending: number;
  chain: Promise<unknown>;
  idle?: NodeJS.Timeout;
}

// Go's base64.StdEncoding is strict; Buffer.from is not.
function strictBase64(text: string): Buffer {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new Error('illegal base64 data');
  return Buffer.from(text, 'base64');
}

function readBody(req: Http2ServerRequest, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new HttpRefusal(500, 'Internal Server Error'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('upload aborted')));
  });
}

function httpError(res: Http2ServerResponse, status: number, text: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
  res.end(`${text}\n`);
}

function profileName(p: VideoProfileMsg): string {
  return p.name || `net_${p.width ?? 0}x${p.height ?? 0}_${p.bitrate ?? 0}`;
}

function fixed32(b: Uint8Array | undefined): Uint8Array {
  const out = new Uint8Array(32);
  if (b) {
    const src = b.length > 32 ? b.subarray(b.length - 32) : b;
    out.set(src, 32 - src.length);
  }
  return out;
}

/** The bytes a broadcaster signs for a segment (docs/wire.md §5.3), from what the orchestrator decoded. */
function segFlatten(seg: SegData, profiles: readonly VideoProfileMsg[]): Uint8Array {
  const seq = seg.seq ?? 0n;
  return concatBytes(
    seg.manifestId ?? new Uint8Array(0),
    be32(seq < 0n ? -seq : seq),
    fixed32(seg.hash),
    new TextEncoder().encode(profiles.map((p) => profileIdHex(profileName(p))).join('')),
  );
}

function checkProfiles(profiles: readonly VideoProfileMsg[]): void {
  for (const p of profiles) {
    if (![0, 1].includes(p.format ?? 0)) throw new HttpRefusal(403, 'unrecognized profile output format');
    if (![0, 1, 2, 3, 4].includes(p.profile ?? 0)) throw new HttpRefusal(403, 'unrecognized encoder profile');
    if (![0, 1, 2, 3].includes(p.encoder ?? 0)) throw new HttpRefusal(403, 'unrecognized video codec');
  }
}

const FORMAT_EXT: Record<number, string> = { 0: '.ts', 1: '.mp4' };

// A body that fails protobuf decoding on every parser: a length-delimited field whose length runs off the end.
const GARBAGE_BODY = Buffer.from([0x1a, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]);

export async function startOrchestrator(opts: OrchestratorOptions = {}): Promise<RunningOrchestrator> {
  const host = opts.host ?? '127.0.0.1';
  const faults = opts.faults ?? {};
  const log = opts.logger ?? pino({ level: opts.logLevel ?? 'info', base: { component: 'orchestrator' } });
  const onChain = opts.contracts !== undefined;
  if (onChain && !opts.privateKey) throw new Error('an on-chain orchestrator needs its private key (privateKey; CLI: ORCH_PRIVATE_KEY or --private-key-file)');
  if (onChain && !opts.rpcUrl) throw new Error('an on-chain orchestrator needs the chain RPC URL (--rpc-url)');
  const ticketEV = opts.ticketEV ?? DEFAULT_TICKET_EV;
  if (ticketEV <= 0n) throw new Error('ticketEV must be > 0');
  const maxSessions = opts.maxSessions ?? DEFAULT_MAX_SESSIONS;
  const basePrice = faults.priceOverride ?? { pricePerUnit: opts.pricePerUnit ?? 1n, pixelsPerUnit: opts.pixelsPerUnit ?? 1n };
  if (basePrice.pixelsPerUnit <= 0n || basePrice.pricePerUnit < 0n) throw new Error('the price needs pixelsPerUnit > 0 and pricePerUnit ≥ 0');

  const signer: Signer | undefined = onChain ? privateKeySigner(opts.privateKey!) : undefined;
  const address: Address = signer ? signer.address : opts.privateKey ? privateKeyToAddress(opts.privateKey) : zeroAddress;
  const chain = onChain ? new OrchestratorChain(opts.rpcUrl!, opts.contracts!, address) : undefined;
  const recipient = chain
    ? new Recipient(address, chain, { ticketEV, redeemGas: opts.redeemGas, maxFaceValue: opts.maxFaceValue, hostile: faults.hostileTicketParams })
    : undefined;
  const accounts = new Accounts(recipient, chain);
  const stats: OrchestratorStats = {
    segments: 0,
    segmentErrors: 0,
    ticketsReceived: 0,
    winningTickets: 0,
    redemptions: [],
    sessionsEndedByBroadcaster: 0,
    get credits(): SessionCredit[] {
      return accounts.all().map((a: SessionAccount) => {
        const c: SessionCredit = { sender: a.sender, sessionId: a.sessionId, credited: a.credited, debited: a.debited };
        if (a.fixedPrice) c.fixedPrice = a.fixedPrice;
        return c;
      });
    },
  };
  const redeemer = chain && recipient ? new Redeemer(chain, recipient, opts.privateKey!, log, stats.redemptions, opts.initializeRounds ?? false) : undefined;
  const tokens = new AuthTokens();
  const store = new RenditionStore();
  const sessions = new Map<string, TranscodeSession>();
  const shutdown = new AbortController();
  const capabilities: Capabilities = {
    bitstring: capabilityBitstring(ALL_VIDEO_CAPABILITIES),
    mandatories: [],
    capacities: Object.fromEntries(ALL_VIDEO_CAPABILITIES.map((c) => [c, maxSessions])),
    version: opts.version ?? ORCHESTRATOR_VERSION,
    constraints: {},
  };
  let uri = '';
  const ai = opts.ai
    ? createAiWorker(opts.ai, {
        uri: () => uri,
        onChain,
        ticketEV,
        tokens,
        accounts,
        onPayment: (o) => {
          stats.ticketsReceived += o.tickets;
          stats.winningTickets += o.winners.length;
          for (const w of o.winners) redeemer?.enqueue(w);
        },
        log,
        signal: shutdown.signal,
      })
    : undefined;
  ai?.advertise(capabilities);
  let answered = 0;
  // dieAfter: the rendition paths still to be served before shutting down
  let dying: { pending: Set<string>; die: () => void } | undefined;
  let dyingDone = false;
  let transcodeCount = 0;

  const wirePrice = (p: Rat): PriceInfo => ({ pricePerUnit: p.num, pixelsPerUnit: p.den });
  const base: Rat = rat(basePrice.pricePerUnit, basePrice.pixelsPerUnit);

  /** OrchestratorInfo for `sender`; `sessionId` set ⇒ that session's pinned price. */
  async function orchestratorInfo(sender: Address, sessionId: string | undefined, authToken: AuthToken, aiPrice?: Rat): Promise<OrchestratorInfo> {
    const info: OrchestratorInfo = { transcoder: uri, address: hexToBytes(address), capabilities, authToken };
    if (recipient) {
      const price = aiPrice ?? ((sessionId && accounts.fixedPrice(sender, sessionId)) || base);
      info.priceInfo = wirePrice(price);
      info.ticketParams = await recipient.ticketParams(sender, price);
    }
    return info;
  }

  function touchSession(id: string): TranscodeSession {
    let s = sessions.get(id);
    if (!s) {
      s = { id, pending: 0, chain: Promise.resolve() };
      sessions.set(id, s);
    }
    if (s.idle) clearTimeout(s.idle);
    s.idle = setTimeout(() => endSession(id, 'idle'), SESSION_IDLE_MS);
    s.idle.unref();
    return s;
  }

  function endSession(id: string, why: string): void {
    const s = sessions.get(id);
    if (s?.idle) clearTimeout(s.idle);
    sessions.delete(id);
    store.dropSession(id);
    log.debug({ event: 'session-end', sessionId: id, why }, 'transcoding session ended');
  }

  // ---------------------------------------------------------------- gRPC

  async function getOrchestrator(body: Uint8Array): Promise<Uint8Array> {
    const req = decodeMessage('OrchestratorRequest', body);
    const sender = paymentSender({ sender: req.address ?? new Uint8Array(0) });
    if (onChain) {
      const msg = keccak256(new TextEncoder().encode(sender));
      if (!verifyPersonalSignature(sender, msg, req.sig ?? new Uint8Array(0))) {
        throw new RpcFailure('Invalid orchestrator request: orchestrator req sig check failed');
      }
    }
    if (sessions.size >= maxSessions) throw new RpcFailure('Invalid orchestrator request: OrchestratorCapped');
    try {
      const info = await orchestratorInfo(sender, undefined, tokens.issue(), ai?.priceFor(req.capabilities));
      return encodeMessage('OrchestratorInfo', info);
    } catch (err) {
      if (err instanceof InsufficientReserveError) log.warn({ event: 'params-refused', sender, reason: err.detail }, 'no ticket params for this sender');
      throw new RpcFailure(err instanceof Error ? err.message : String(err));
    }
  }

  async function endTranscodingSession(body: Uint8Array): Promise<Uint8Array> {
    const req = decodeMessage('EndTranscodingSessionRequest', body);
    if (!req.authToken || !tokens.valid(req.authToken)) throw new RpcFailure('Invalid auth token');
    endSession(req.authToken.sessionId ?? '', 'ended by broadcaster');
    stats.sessionsEndedByBroadcaster++;
    return encodeMessage('EndTranscodingSessionResponse', {});
  }

  async function ping(body: Uint8Array): Promise<Uint8Array> {
    const req = decodeMessage('PingPong', body);
    const value = signer ? hexToBytes(signer.signHash(keccak256(req.value ?? new Uint8Array(0)))) : new Uint8Array(0);
    return encodeMessage('PingPong', { value });
  }

  const grpcHandlers = {
    '/net.Orchestrator/GetOrchestrator': getOrchestrator,
    '/net.Orchestrator/EndTranscodingSession': endTranscodingSession,
    '/net.Orchestrator/Ping': ping,
  };

  // ---------------------------------------------------------------- /segment

  function decodeHeaders(req: Http2ServerRequest): { payment: Payment; seg: SegData; profiles: VideoProfileMsg[]; sender: Address } {
    let payment: Payment;
    try {
      payment = decodeMessage('Payment', strictBase64(String(req.headers['livepeer-payment'] ?? '')));
    } catch (err) {
      throw new HttpRefusal(402, `could not decode payment: ${(err as Error).message}`);
    }
    const sender = paymentSender(payment);
    let seg: SegData;
    try {
      seg = decodeMessage('SegData', strictBase64(String(req.headers['livepeer-segment'] ?? '')));
    } catch (err) {
      throw new HttpRefusal(403, (err as Error).message.includes('base64') ? 'ErrorSegEncoding' : (err as Error).message);
    }
    const profiles = profilesFromSegData(seg);
    checkProfiles(profiles);
    const duration = seg.duration ?? 0;
    if (duration < 0 || duration > MAX_SEGMENT_DURATION_MS) throw new HttpRefusal(403, 'invalid duration');
    if (onChain && !verifyPersonalSignature(sender, keccak256(segFlatten(seg, profiles)), seg.sig ?? new Uint8Array(0))) {
      throw new HttpRefusal(403, 'ErrSegSig');
    }
    const jobCaps: Capabilities = seg.capabilities ?? { bitstring: [] };
    if (!capabilitiesCompatible(jobCaps, capabilities)) throw new HttpRefusal(403, 'incompatible capabilities');
    const token = seg.authToken;
    if (!token) throw new HttpRefusal(403, 'missing auth token');
    if (!tokens.valid(token)) throw new HttpRefusal(403, 'invalid auth token');
    if (tokens.expired(token)) throw new HttpRefusal(403, 'expired auth token');
    if (!sessions.has(token.sessionId ?? '') && sessions.size >= maxSessions) throw new HttpRefusal(403, 'OrchestratorCapped');
    return { payment, seg, profiles, sender };
  }

  const prerendered = opts.transcoding === 'prerendered' ? new PrerenderedTranscoder() : undefined;

  async function transcodeInSession(session: TranscodeSession, input: Buffer, profiles: VideoProfileMsg[], durationMs: number) {
    if (session.pending >= SESSION_QUEUE) throw new TranscodeError('OrchestratorBusy');
    session.pending++;
    const run = session.chain.then(() =>
      prerendered ? prerendered.transcode(durationMs, profiles) : transcodeSegment(input, profiles, { signal: shutdown.signal }),
    );
    session.chain = run.catch(() => {});
    try {
      return await run;
    } finally {
      session.pending--;
    }
  }

  async function handleSegment(req: Http2ServerRequest, res: Http2ServerResponse): Promise<void> {
    const started = Date.now();
    let lastUrls: string[] = [];
    const entry: Record<string, unknown> = { event: 'segment' };
    let outcome: PaymentOutcome | undefined;
    try {
      const { payment, seg, profiles, sender } = decodeHeaders(req);
      const sessionId = seg.authToken!.sessionId ?? '';
      Object.assign(entry, { sessionId, seq: String(seg.seq ?? 0n), sender, profiles: profiles.length });

      let info: OrchestratorInfo;
      try {
        info = await orchestratorInfo(sender, sessionId, seg.authToken!);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'could not build orchestrator info');
        throw new HttpRefusal(500, 'Internal Server Error');
      }

      if (faults.refusePayment) throw new HttpRefusal(400, 'payment refused by this orchestrator (fault injection)');
      try {
        outcome = await accounts.process(payment, sessionId);
      } catch (err) {
        const partial = (err as { outcome?: PaymentOutcome }).outcome;
        if (partial) outcome = partial;
        throw new HttpRefusal(400, err instanceof PaymentError ? err.message : `payment error: ${(err as Error).message}`);
      } finally {
        if (outcome) {
          stats.ticketsReceived += outcome.tickets;
          stats.winningTickets += outcome.winners.length;
          for (const w of outcome.winners) redeemer?.enqueue(w);
          Object.assign(entry, { tickets: outcome.tickets, winners: outcome.winners.length, ev: ratToDecimal(outcome.ev, 0) });
        }
      }
      const expectedPrice = payment.expectedPrice;
      if (recipient && (expectedPrice?.pricePerUnit ?? 0n) > 0n && !accounts.sufficient(sender, sessionId, ticketEV)) {
        throw new HttpRefusal(400, 'Insufficient balance');
      }

      let body = await readBody(req, MAX_SEGMENT_BYTES);
      if (req.headers['content-type'] === URI_CONTENT_TYPE) {
        try {
          const r = await fetch(body.toString('utf8'), { signal: AbortSignal.timeout(8000) });
          if (!r.ok) throw new Error(`status ${r.status}`);
          body = Buffer.from(await r.arrayBuffer());
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'could not download the segment from its URL');
          throw new HttpRefusal(400, 'BadRequest');
        }
      }
      if (Buffer.compare(Buffer.from(keccak256(body)), Buffer.from(fixed32(seg.hash))) !== 0) throw new HttpRefusal(403, 'Forbidden');

      if (faults.stallMs) await new Promise((r) => setTimeout(r, faults.stallMs).unref());
      if (res.destroyed) return;
      // Upload accepted: headers go out now, the result follows in the body.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      // HTTP/2 sends headers on writeHead; an HTTP/1.1 response needs an explicit flush.
      (res as unknown as { flushHeaders?: () => void }).flushHeaders?.();

      if (faults.malformedResponse) {
        res.end(GARBAGE_BODY);
        entry.status = 'malformed-response';
        return;
      }

      const session = touchSession(sessionId);
      const result: TranscodeResult = { seq: seg.seq ?? 0n, info };
      transcodeCount++;
      try {
        if (faults.failEvery && transcodeCount % faults.failEvery === 0) throw new TranscodeError(faults.failError ?? 'OrchestratorBusy');
        const t0 = Date.now();
        const renditions = await transcodeInSession(session, body, profiles, seg.duration ?? 0);
        entry.transcodeMs = Date.now() - t0;
        let pixels = 0n;
        const segments = renditions.map((r, i) => {
          const p = profiles[i]!;
          const file = `${seg.seq ?? 0n}${FORMAT_EXT[p.format ?? 0] ?? '.ts'}`;
          store.put(sessionId, profileName(p), file, r.data);
          const billed = faults.overbillFactor ? r.pixels * BigInt(faults.overbillFactor) : r.pixels;
          pixels += billed;
          return { url: `${uri}/stream/${sessionId}/${encodeURIComponent(profileName(p))}/${file}`, pixels: billed };
        });
        lastUrls = segments.map((s) => new URL(s.url).pathname);
        const resultSigner = faults.forgeResultSignature ? privateKeySigner(`0x${'42'.repeat(32)}`) : signer;
        const sig = resultSigner ? hexToBytes(resultSigner.signHash(keccak256(concatBytes(...renditions.map((r) => keccak256(r.data)))))) : new Uint8Array(0);
        result.data = { segments, sig };
        if (recipient && expectedPrice) {
          const price = rat(expectedPrice.pricePerUnit ?? 0n, expectedPrice.pixelsPerUnit || 1n);
          accounts.debit(sender, sessionId, price, pixels);
          entry.fee = ratToDecimal(price.num === 0n ? ZERO : rat(price.num * pixels, price.den), 0);
        }
        entry.pixels = String(pixels);
        entry.status = 'ok';
      } catch (err) {
        result.error = err instanceof TranscodeError ? err.message : `transcode failed: ${(err as Error).message}`;
        entry.status = 'transcode-error';
        entry.error = result.error;
        stats.segmentErrors++;
      }
      stats.segments++;
      if (!res.destroyed) res.end(Buffer.from(encodeMessage('TranscodeResult', result)));
    } catch (err) {
      const refusal = err instanceof HttpRefusal ? err : new HttpRefusal(500, 'Internal Server Error');
      if (!(err instanceof HttpRefusal)) log.error({ err: (err as Error).message }, 'unexpected /segment failure');
      entry.status = refusal.status;
      entry.error = refusal.message;
      req.resume();
      httpError(res, refusal.status, refusal.message);
    } finally {
      entry.ms = Date.now() - started;
      log.info(entry, 'segment');
      answered++;
      if (faults.dieAfter && answered === faults.dieAfter) {
        // Let the broadcaster fetch this last segment's renditions first (or give up after 4 s).
        dying = { pending: new Set(lastUrls), die: () => {} };
        const die = (): void => {
          if (!dying || dyingDone) return;
          dyingDone = true;
          clearTimeout(grace);
          log.warn({ event: 'die', after: answered }, 'shutting down after the configured number of segments (fault injection)');
          setImmediate(opts.onDie ?? (() => void stop()));
        };
        const grace = setTimeout(die, 4000);
        grace.unref();
        dying.die = die;
        if (dying.pending.size === 0) die();
      }
    }
  }

  function serveRendition(res: Http2ServerResponse, sessionId: string, profile: string, file: string): void {
    let name = profile;
    try {
      name = decodeURIComponent(profile);
    } catch {
      // keep the raw text
    }
    const data = store.get(sessionId, name, file);
    if (!data) return httpError(res, 404, 'ErrNotFound');
    res.writeHead(200, { 'content-type': file.endsWith('.mp4') ? 'video/mp4' : 'video/mp2t', 'content-length': String(data.length) });
    res.end(data);
  }

  async function onRequest(req: Http2ServerRequest, res: Http2ServerResponse): Promise<void> {
    req.on('error', () => {});
    res.on('error', () => {});
    try {
      if (isGrpcRequest(req)) return await serveUnary(req, res, grpcHandlers);
      const path = (req.url ?? '/').split('?')[0]!;
      if (ai && (await ai.handle(req, res, path))) return;
      if (req.method === 'POST' && path === '/segment') return await handleSegment(req, res);
      const m = /^\/stream\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
      if (m && (req.method === 'GET' || req.method === 'HEAD')) {
        serveRendition(res, m[1]!, m[2]!, m[3]!);
        if (dying?.pending.delete(path) && dying.pending.size === 0) res.once('finish', () => dying?.die());
        return;
      }
      req.resume();
      httpError(res, 404, '404 page not found');
    } catch (err) {
      log.error({ err: (err as Error).message }, 'request failed');
      httpError(res, 500, 'Internal Server Error');
    }
  }

  // ---------------------------------------------------------------- server

  const { cert, key } = await generateSelfSignedCert(host);
  const server: Http2SecureServer = createSecureServer({ cert, key, allowHTTP1: true, maxSessionMemory: 64 }, (req, res) => {
    void onRequest(req, res);
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  // Peers' garbage (bad TLS, bad HTTP/2 frames) is their problem, never a crash.
  server.on('tlsClientError', () => {});
  server.on('sessionError', () => {});
  server.on('session', (s) => s.on('error', () => {}));
  server.on('clientError', () => {});

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err: err.message }, 'server error'));
  const port = (server.address() as AddressInfo).port;
  uri = `https://${host}:${port}`;

  let stopping: Promise<void> | undefined;
  function stop(): Promise<void> {
    stopping ??= (async () => {
      shutdown.abort();
      redeemer?.stop();
      for (const id of [...sessions.keys()]) endSession(id, 'shutdown');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
      log.info({ event: 'stopped', uri }, 'orchestrator stopped');
    })();
    return stopping;
  }

  const cleanup = setInterval(() => {
    void recipient?.cleanupNonces().catch(() => {});
    accounts.all();
  }, 30_000);
  cleanup.unref();
  server.on('close', () => clearInterval(cleanup));

  log.info(
    {
      event: 'ready',
      uri,
      address,
      mode: onChain ? 'on-chain' : 'off-chain',
      price: onChain ? `${basePrice.pricePerUnit}/${basePrice.pixelsPerUnit}` : undefined,
      ticketEV: onChain ? ticketEV.toString() : undefined,
      maxSessions,
      faults: Object.keys(faults).length ? JSON.parse(JSON.stringify(faults, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) : undefined,
    },
    'orchestrator ready',
  );

  return {
    uri,
    port,
    address,
    stats,
    ...(ai ? { ai } : {}),
    redemptionsSettled: async () => {
      await redeemer?.idle();
    },
    stop,
  };
}
