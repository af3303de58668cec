// The life of one AI request on the orchestrators: select a session for (capability, model), refresh it
// when its token or ticket params lapse, pay, call, and on failure set it aside or suspend it and try
// another, within the attempt and time budget (docs/ai.md, retries and suspension).
import { AI_EMPTY_POOL_RETRY_MS, type AiSelectors, type AiSession } from '../discovery/aiSelector.ts';
import { bytesToBigint } from '../lib/bytes.ts';
import { errorMessage } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { ZERO, type Rat } from '../lib/rat.ts';
import { AiJobError } from '../net/aiJob.ts';
import { AiOutputError } from '../net/aiOutput.ts';
import type { Capabilities, OrchestratorInfo } from '../wire/lpRpc.ts';
import { AiRequestError, AiUnavailableError, badRequest } from './errors.ts';
import type { AiPayer, AiPayment } from './payment.ts';
import type { PipelineSpec } from './pipelines.ts';

/** go-livepeer's attempt budget per request. */
export const MAX_AI_ATTEMPTS = 20;
/** Tries on one orchestrator whose ticket params keep expiring. */
export const MAX_EXPIRED_TRIES = 3;
/** A session is refreshed this long before its auth token expires. */
export const AUTH_TOKEN_REFRESH_MS = 180_000;

/** What the ledger keeps of one attempt. */
export interface AiJobRecord {
  pipeline: string;
  modelId: string;
  orchestrator: string;
  units: bigint;
  tickets: number;
  ev: Rat;
  faceValue: bigint;
  ok: boolean;
}

export interface AiJobDeps {
  selectors: AiSelectors;
  /** the Capabilities sent for (cap, model) */
  capabilities(cap: number, modelId: string, pipeline: string): Capabilities;
  /** GetOrchestrator on the session's URI with these capabilities */
  refresh(session: AiSession, capabilities: Capabilities): Promise<OrchestratorInfo>;
  /** takes a refreshed reply over; throws with the reason when the session is no longer usable */
  adopt(session: AiSession, info: OrchestratorInfo): void;
  payer: AiPayer;
  /** on-chain: the last L1 block seen (ticket params expiry) */
  lastSeenBlock?: () => bigint;
  record?: (r: AiJobRecord) => unknown;
  /** -aiProcessingRetryTimeout: no new attempt starts after this */
  retryTimeoutMs: number;
  log: Logger;
  now?: () => number;
}

export interface AiJobSpec {
  pipeline: PipelineSpec;
  modelId: string;
  units: bigint;
  steps?: number;
}

export interface AiAttempt {
  session: AiSession;
  payment: AiPayment;
  /** the orchestrator's origins, for output URL checks */
  origins: string[];
}

function needsRefresh(s: AiSession, nowMs: number, lastSeenBlock: bigint | undefined): string | undefined {
  const exp = s.info.authToken?.expiration;
  if (exp !== undefined && BigInt(Math.floor((nowMs + AUTH_TOKEN_REFRESH_MS) / 1000)) > exp) return 'auth token expiring';
  const tp = s.info.ticketParams;
  if (tp && lastSeenBlock !== undefined && bytesToBigint(tp.expirationBlock) - lastSeenBlock <= 1n) return 'ticket params expired';
  return undefined;
}

/** 400s from an orchestrator that are about our payment, not the client's input. */
const PAYMENT_TROUBLE = /ticket|payment|balance|sender|nonce|recipient|price|expired|signature/i;

type Verdict = 'client-error' | 'expired' | 'set-aside' | 'suspend' | 'output';

function classify(err: unknown): Verdict {
  if (err instanceof AiOutputError) return 'output';
  const text = err instanceof AiJobError ? `${err.orchestratorText} ${err.message}` : errorMessage(err);
  if (/ticket\s*params\s+expired/i.test(text)) return 'expired';
  if (/invalid ticket sendernonce/i.test(text) || /insufficient capacity/i.test(text)) return 'set-aside';
  if (err instanceof AiJobError && err.status === 400 && !PAYMENT_TROUBLE.test(err.orchestratorText)) return 'client-error';
  return 'suspend';
}

/**
 * Runs `call` on orchestrators until one succeeds. Client errors (400 from the orchestrator's input
 * checks) end the request; output failures end it with 500; everything else moves on to another.
 */
export async function runOnOrchestrators<T>(deps: AiJobDeps, job: AiJobSpec, call: (a: AiAttempt) => Promise<T>): Promise<T> {
  const now = deps.now ?? Date.now;
  const started = now();
  const { pipeline, modelId } = job;
  const selector = deps.selectors.get(pipeline.cap, modelId);
  const capabilities = deps.capabilities(pipeline.cap, modelId, pipeline.name);
  const exclude = new Set<string>();
  const expiredTries = new Map<string, number>();
  let lastError = '';
  let attempts = 0;
  let everFound = false;
  for (; attempts < MAX_AI_ATTEMPTS; attempts++) {
    if (attempts > 0 && now() - started > deps.retryTimeoutMs) break;
    const session = await selector.select(exclude);
    if (!session) {
      // Nothing usable now: discovery may find one a moment later (e.g. a round that only the
      // orchestrators have seen yet), so look once more, and again while the retry budget allows.
      if (attempts === 0 || now() - started + AI_EMPTY_POOL_RETRY_MS <= deps.retryTimeoutMs) {
        await new Promise((r) => setTimeout(r, AI_EMPTY_POOL_RETRY_MS));
        continue;
      }
      break;
    }
    everFound = true;
    let payment: AiPayment | undefined;
    let sent = false;
    const t0 = now();
    try {
      const why = needsRefresh(session, now(), deps.lastSeenBlock?.());
      if (why) deps.adopt(session, await deps.refresh(session, capabilities));
      const pay = () => deps.payer.prepare({ info: session.info, units: job.units, cap: pipeline.cap, modelId, capabilities });
      try {
        payment = await pay();
      } catch (payErr) {
        // Our own check of the session's ticket params failed (e.g. their creation round is too old by
        // now: AI answers bring no new params). Fresh params first; suspend only if that fails too.
        deps.log.debug({ orchestrator: session.uri, err: errorMessage(payErr) }, 'AI payment refused locally; refreshing the session');
        deps.adopt(session, await deps.refresh(session, capabilities));
        payment = await pay();
      }
      sent = true;
      const value = await call({ session, payment, origins: [session.transcoder, session.uri] });
      payment.settle();
      const seconds = (now() - t0) / 1000;
      const perUnit = job.units > 0n ? seconds / Number(job.units) : seconds;
      selector.release(session, job.steps ? perUnit / job.steps : perUnit);
      void deps.record?.({
        pipeline: pipeline.name,
        modelId,
        orchestrator: session.uri,
        units: job.units,
        tickets: payment.tickets,
        ev: payment.ev,
        faceValue: payment.faceValue,
        ok: true,
      });
      return value;
    } catch (err) {
      const reallySent = sent && (err instanceof AiJobError ? err.sent : true);
      payment?.fail(reallySent);
      void deps.record?.({
        pipeline: pipeline.name,
        modelId,
        orchestrator: session.uri,
        units: job.units,
        tickets: reallySent ? (payment?.tickets ?? 0) : 0,
        ev: reallySent ? (payment?.ev ?? ZERO) : ZERO,
        faceValue: payment?.faceValue ?? 0n,
        ok: false,
      });
      if (err instanceof AiRequestError) {
        selector.release(session);
        throw err;
      }
      lastError = errorMessage(err);
      const verdict = classify(err);
      deps.log.warn({ pipeline: pipeline.name, modelId, orchestrator: session.uri, attempt: attempts + 1, verdict, err: lastError }, 'AI job attempt failed');
      switch (verdict) {
        case 'client-error':
          selector.release(session);
          throw badRequest((err as AiJobError).orchestratorText || lastError);
        case 'output':
          selector.suspend(session, lastError);
          throw new AiRequestError(500, `Internal Server Error: ${lastError}`, { code: 'AI_OUTPUT', cause: err });
        case 'expired': {
          const n = (expiredTries.get(session.uri) ?? 0) + 1;
          expiredTries.set(session.uri, n);
          if (n >= MAX_EXPIRED_TRIES) {
            exclude.add(session.uri);
            selector.setAside(session, lastError);
            break;
          }
          // new params for the next try on this orchestrator
          try {
            deps.adopt(session, await deps.refresh(session, capabilities));
            selector.release(session);
          } catch (refreshErr) {
            exclude.add(session.uri);
            selector.suspend(session, errorMessage(refreshErr));
          }
          break;
        }
        case 'set-aside':
          exclude.add(session.uri);
          selector.setAside(session, lastError);
          break;
        default:
          exclude.add(session.uri);
          selector.suspend(session, lastError);
      }
    }
  }
  if (!everFound) {
    throw new AiUnavailableError(`no orchestrator serves model ${modelId} for ${pipeline.name} (or none is usable: see /status on the control API)`);
  }
  throw new AiUnavailableError(
    `no orchestrator completed the ${pipeline.name} job for ${modelId} (${attempts} attempt${attempts === 1 ? '' : 's'}, retry budget ${deps.retryTimeoutMs} ms)${lastError ? `; last error: ${lastError}` : ''}`,
  );
}
