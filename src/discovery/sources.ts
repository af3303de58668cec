// Where orchestrator candidates come from: a fixed list, a discovery webhook, or the on-chain pool.
import { boundedFetch } from '../lib/boundedFetch.ts';
import { createHash } from 'node:crypto';
import type { Address } from 'viem';
import { normalizeOrchestratorUri, parseOrchAddrList } from './orchUri.ts';

export interface Candidate {
  uri: string;
  /** 1 = trusted (operator-listed), 0 = untrusted (chain or webhook default) */
  score: number;
  /** on-chain candidates only */
  address?: Address;
  /** on-chain candidates only: LPT wei */
  stake?: bigint;
}

export interface CandidateSource {
  readonly kind: 'orchAddr' | 'webhook' | 'onchain';
  candidates(): Promise<Candidate[]>;
}

export function staticSource(orchAddr: string): CandidateSource {
  const list = parseOrchAddrList(orchAddr).map((uri) => ({ uri, score: 1 }));
  return { kind: 'orchAddr', candidates: async () => list };
}

export interface WebhookSourceOptions {
  url: string;
  /** go-livepeer: 3 s */
  timeoutMs?: number;
  /** go-livepeer: 1 min */
  cacheMs?: number;
  onError?: (err: Error) => void;
  now?: () => number;
  /** sent with every GET (a remote signer's -remoteSignerHeaders) */
  headers?: Record<string, string>;
}

/**
 * -orchWebhookUrl: GET returns `[{"address": "https://host:port", "score": 1.0}]`. Cached; on any error
 * (timeout, non-2xx, bad JSON) the last good list is kept. Bad entries are skipped, not fatal.
 */
/** Largest orchestrator webhook answer (a list of thousands of addresses fits easily). */
export const ORCH_WEBHOOK_MAX_BYTES = 1 << 20;

export function webhookSource(opts: WebhookSourceOptions): CandidateSource {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const cacheMs = opts.cacheMs ?? 60_000;
  const now = opts.now ?? Date.now;
  let last: Candidate[] = [];
  let lastHash = '';
  let fetchedAt = -Infinity;
  return {
    kind: 'webhook',
    async candidates() {
      if (now() - fetchedAt < cacheMs) return last;
      fetchedAt = now();
      try {
        // capped, and redirected only on its own host
        const res = await boundedFetch(opts.url, opts.headers ? { headers: opts.headers } : {}, { maxBytes: ORCH_WEBHOOK_MAX_BYTES, timeoutMs });
        if (res.status < 200 || res.status > 299) throw new Error(`orchestrator webhook answered ${res.status}`);
        const body = res.body.toString('utf8');
        const hash = createHash('sha256').update(body).digest('hex');
        if (hash === lastHash) return last;
        const parsed: unknown = JSON.parse(body);
        if (!Array.isArray(parsed)) throw new Error('orchestrator webhook did not return a JSON array');
        const list: Candidate[] = [];
        for (const entry of parsed) {
          if (!entry || typeof entry !== 'object' || typeof (entry as { address?: unknown }).address !== 'string') continue;
          try {
            const score = Number((entry as { score?: unknown }).score ?? 0);
            list.push({ uri: normalizeOrchestratorUri((entry as { address: string }).address), score: Number.isFinite(score) ? score : 0 });
          } catch {
            // an unusable address from the webhook is skipped
          }
        }
        last = list;
        lastHash = hash;
      } catch (err) {
        opts.onError?.(err as Error);
      }
      return last;
    },
  };
}
