// Retries, set-asides and suspensions of one AI request (docs/ai.md, the job's life), with real
// selection over scripted orchestrator replies and answers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AiSelector, AiSelectors } from '../../src/discovery/aiSelector.ts';
import type { Evaluation } from '../../src/discovery/sessionPool.ts';
import { runOnOrchestrators, type AiJobDeps } from '../../src/ai/job.ts';
import { PIPELINE_BY_NAME } from '../../src/ai/pipelines.ts';
import type { AiRequestError } from '../../src/ai/errors.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { rat, ZERO } from '../../src/lib/rat.ts';
import { AiJobError } from '../../src/net/aiJob.ts';
import type { OrchestratorInfo } from '../../src/wire/lpRpc.ts';

const t2i = PIPELINE_BY_NAME.get('text-to-image')!;
const MODEL = 'stabilityai/sdxl-turbo';
const URIS = ['https://a:1', 'https://b:1', 'https://c:1'];

function deps(opts: { retryTimeoutMs?: number } = {}) {
  const events: string[] = [];
  const info = (uri: string): OrchestratorInfo => ({
    transcoder: uri,
    priceInfo: { pricePerUnit: 1n, pixelsPerUnit: 1n },
    capabilities: { constraints: { PerCapability: { 27: { models: { [MODEL]: { warm: true } } } } } },
    authToken: { token: new Uint8Array([1]), sessionId: 's' },
  });
  const evaluate = (c: { uri: string }, i: OrchestratorInfo, latencyMs: number): Evaluation => ({
    ok: true,
    session: { uri: c.uri, transcoder: i.transcoder!, info: i, stake: 0n, price: rat(1n), trusted: true, latencyMs },
  });
  const selectors = new AiSelectors(
    (cap, modelId) =>
      new AiSelector({
        cap,
        modelId,
        source: { kind: 'orchAddr', candidates: async () => URIS.map((uri) => ({ uri, score: 1 })) },
        probe: async (uri) => info(uri),
        evaluate,
        onchain: false,
        discoveryTimeoutMs: 20,
        hardCutoffMs: 200,
        log: silentLogger(),
      }),
  );
  const d: AiJobDeps = {
    selectors,
    capabilities: () => ({}),
    refresh: async (s) => {
      events.push(`refresh ${s.uri}`);
      return info(s.uri);
    },
    adopt: (s, i) => {
      s.info = i;
    },
    payer: {
      prepare: async () => ({
        segmentHeader: 'seg',
        paymentHeader: '',
        tickets: 1,
        ev: ZERO,
        faceValue: 0n,
        fee: ZERO,
        settle: () => events.push('settle'),
        fail: (sent) => events.push(`fail sent=${sent}`),
      }),
    },
    record: (r) => events.push(`record ${r.orchestrator} ${r.ok}`),
    retryTimeoutMs: opts.retryTimeoutMs ?? 5000,
    log: silentLogger(),
  };
  return { d, events, selector: () => selectors.get(27, MODEL) };
}

const job = { pipeline: t2i, modelId: MODEL, units: 100n };
const answer = (status: number, text: string) => new AiJobError(`returned ${status}: ${text}`, 'status', status, text);

describe('AI request retries (docs/ai.md)', () => {
  it('insufficient capacity: next orchestrator, the first set aside but not suspended', async () => {
    const { d, selector } = deps();
    const tried: string[] = [];
    const out = await runOnOrchestrators(d, job, async (a) => {
      tried.push(a.session.uri);
      if (tried.length === 1) throw answer(503, 'insufficient capacity');
      return 'done';
    });
    assert.equal(out, 'done');
    assert.equal(tried.length, 2);
    assert.notEqual(tried[0], tried[1]);
    assert.equal(selector().suspensions.isSuspended(tried[0]!), false);
    assert.equal(
      selector()
        .status()
        .find((s) => s.uri === tried[0])?.state,
      'set-aside',
    );
  });

  for (const [status, text] of [
    [500, 'model crashed'],
    [402, 'could not decode payment'],
    [403, 'invalid auth token'],
    [400, 'Insufficient balance'],
    [400, 'invalid ticket signature'],
  ] as const) {
    it(`${status} ${text}: the orchestrator is suspended and the next one does the job`, async () => {
      const { d, selector, events } = deps();
      const tried: string[] = [];
      await runOnOrchestrators(d, job, async (a) => {
        tried.push(a.session.uri);
        if (tried.length === 1) throw answer(status, text);
        return 'ok';
      });
      assert.equal(selector().suspensions.isSuspended(tried[0]!), true);
      assert.deepEqual(
        events.filter((e) => e.startsWith('fail') || e === 'settle'),
        ['fail sent=true', 'settle'],
      );
    });
  }

  it('a 400 about the input ends the request with that 400 and suspends nobody', async () => {
    const { d, selector } = deps();
    let calls = 0;
    await assert.rejects(
      runOnOrchestrators(d, job, async () => {
        calls++;
        throw answer(400, 'image: unknown format');
      }),
      (err: AiRequestError) => err.status === 400 && /image: unknown format/.test(err.message),
    );
    assert.equal(calls, 1);
    assert.equal(selector().suspensions.list().length, 0);
  });

  it('TicketParams expired: refreshed and retried on the same orchestrator, at most 3 tries there', async () => {
    const { d, events } = deps();
    const tried: string[] = [];
    await runOnOrchestrators(d, job, async (a) => {
      tried.push(a.session.uri);
      if (tried.filter((u) => u === tried[0]).length <= 3 && a.session.uri === tried[0]) throw answer(400, 'TicketParams expired');
      return 'ok';
    });
    assert.deepEqual(tried.slice(0, 3), [tried[0], tried[0], tried[0]]);
    assert.notEqual(tried[3], tried[0]);
    assert.equal(events.filter((e) => e.startsWith('refresh')).length, 2);
  });

  it('no attempt starts after the retry budget: 503', async () => {
    const { d } = deps({ retryTimeoutMs: 50 });
    let calls = 0;
    await assert.rejects(
      runOnOrchestrators(d, job, async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 60));
        throw answer(500, 'slow failure');
      }),
      (err: AiRequestError) => err.status === 503 && /slow failure/.test(err.message),
    );
    assert.equal(calls, 1);
  });

  it('every orchestrator failing: 503 after each was tried once', async () => {
    const { d } = deps();
    const tried = new Set<string>();
    await assert.rejects(
      runOnOrchestrators(d, job, async (a) => {
        tried.add(a.session.uri);
        throw answer(500, 'broken');
      }),
      (err: AiRequestError) => err.status === 503,
    );
    assert.deepEqual([...tried].sort(), URIS);
  });
});
