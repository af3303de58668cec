// The stream runner on its own: a real HlsStore and SessionPool, and an orchestrator attempt that is a
// small function the test answers by hand (success, failure, when).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionPool } from '../../src/discovery/sessionPool.ts';
import { type Logger, silentLogger } from '../../src/lib/log.ts';
import { rat } from '../../src/lib/rat.ts';
import { PRESETS } from '../../src/media/profiles.ts';
import { SegmentError } from '../../src/net/segment.ts';
import { SenderValidationError } from '../../src/pm/validate.ts';
import { HlsStore } from '../../src/server/hls.ts';
import { GatewayEventBus, type GatewayEvents } from '../../src/node/events.ts';
import { MAX_BACKLOG, StreamRunner } from '../../src/node/stream.ts';
import type { AttemptResult, SegmentJob, SentPayment } from '../../src/node/transcodeSegment.ts';
import type { DecodeCheckOutcome } from '../../src/node/verifyResult.ts';
import { captureLog } from '../helpers/logCapture.ts';

const PROFILES = [PRESETS.P240p30fps16x9!, PRESETS.P144p30fps16x9!];
const MID = 'runner';

interface Attempt {
  job: SegmentJob;
  uri: string;
  paid: (p: SentPayment) => void;
  /** `renditions`: how many of the profiles come back (default all) */
  succeed(opts?: { tickets?: number; renditions?: number; decodeCheck?: Promise<DecodeCheckOutcome> }): void;
  fail(err: Error): void;
}

/** A pool over fixed orchestrators; off-chain selection takes the lowest latency, so o1 before o2 before o3. */
function pool(uris: string[], events: GatewayEventBus): SessionPool {
  return new SessionPool({
    source: { kind: 'orchAddr', candidates: async () => uris.map((uri) => ({ uri, score: 1 })) },
    probe: async (uri) => ({ transcoder: uri }),
    evaluate: (c, info) => ({
      ok: true,
      session: { uri: c.uri, transcoder: info.transcoder!, info, stake: 0n, trusted: true, latencyMs: uris.indexOf(c.uri) + 1 },
    }),
    onchain: false,
    discoveryTimeoutMs: 10,
    onSuspended: (orchestrator, reason) => events.emit('orchestrator.suspended', { orchestrator, reason, manifestId: MID }),
    log: silentLogger(),
  });
}

function harness(opts: { uris?: string[]; maxAttempts?: number; timeoutMultiplier?: number; log?: Logger } = {}) {
  const hls = new HlsStore();
  const events = new GatewayEventBus();
  const seen: Array<{ [K in keyof GatewayEvents]: [K, GatewayEvents[K]] }[keyof GatewayEvents]> = [];
  events.onAny((name, payload) => seen.push([name, payload] as never));
  const attempts: Attempt[] = [];
  const waiters: (() => void)[] = [];
  const fatal: string[] = [];
  const p = pool(opts.uris ?? ['o1', 'o2', 'o3'], events);
  const runner = new StreamRunner(
    {
      hls,
      events,
      log: opts.log ?? silentLogger(),
      maxAttempts: opts.maxAttempts ?? 3,
      transcode: (job, session, paid) =>
        new Promise<AttemptResult>((resolve, reject) => {
          attempts.push({
            job,
            uri: session.uri,
            paid,
            succeed: ({ tickets = 0, renditions = PROFILES.length, decodeCheck } = {}) =>
              resolve({
                renditions: PROFILES.slice(0, renditions).map((pr) => ({ url: '', pixels: 1n, data: Buffer.from(`${pr.name}-${job.seq}-${session.uri}`) })),
                pixels: 2n,
                tickets,
                ev: rat(BigInt(tickets) * 1000n),
                faceValue: 10n ** 15n,
                latencyMs: 5,
                verifyMs: 0,
                ...(decodeCheck ? { decodeCheck } : {}),
              }),
            fail: reject,
          });
          for (const w of waiters.splice(0)) w();
        }),
    },
    {
      manifestId: MID,
      profiles: PROFILES,
      capabilities: { bitstring: [] },
      pool: p,
      ...(opts.timeoutMultiplier ? { timeoutMultiplier: opts.timeoutMultiplier } : {}),
      onFatal: (reason) => fatal.push(reason),
    },
  );
  /** Resolves once `n` attempts have started. */
  const started = async (n: number) => {
    while (attempts.length < n) await new Promise<void>((r) => waiters.push(r));
    return attempts[n - 1]!;
  };
  const renditionSeqs = () => [...(hls.mediaPlaylist(MID, PROFILES[0]!.name) ?? '').matchAll(/\/(\d+)\.ts$/gm)].map((m) => Number(m[1]));
  const names = () => seen.map(([n]) => n);
  return { hls, events, seen, names, attempts, started, runner, pool: p, fatal, renditionSeqs };
}

const seg = (n: number) => Buffer.from(`source-${n}`);
const settled = () => new Promise((r) => setImmediate(r));

describe('stream runner', () => {
  it('puts renditions into the playlists in arrival order, whichever segment finishes first', async () => {
    const h = harness();
    const r0 = h.runner.push(0, seg(0), 2000);
    const r1 = h.runner.push(1, seg(1), 2000);
    const [a0, a1] = [await h.started(1), await h.started(2)];
    a1.succeed();
    let done1 = false;
    void r1.then(() => (done1 = true));
    await settled();
    assert.deepEqual(h.renditionSeqs(), [], 'segment 1 waits for segment 0');
    assert.equal(done1, false, 'and so does its answer');
    assert.equal(h.hls.segment(MID, 'source', 1)?.toString(), 'source-1', 'the source is served at once');
    a0.succeed();
    const [o0, o1] = await Promise.all([r0, r1]);
    assert.deepEqual(h.renditionSeqs(), [0, 1]);
    assert.deepEqual([o0?.transcoded, o1?.transcoded], [true, true]);
    assert.deepEqual(
      o1?.renditions?.map((r) => r.name),
      PROFILES.map((p) => p.name),
    );
    assert.equal(h.hls.segment(MID, PROFILES[1]!.name, 1)?.toString(), `${PROFILES[1]!.name}-1-o1`);
    assert.deepEqual(
      h.seen.map(([name, p]) => [name, (p as { seq: number }).seq]),
      [
        ['segment.transcoded', 0],
        ['segment.transcoded', 1],
      ],
      'the feed hears of segments in playlist order',
    );
  });

  it('counts the segments of each rendition that reached its playlist', async () => {
    const h = harness();
    const r0 = h.runner.push(0, seg(0), 2000);
    (await h.started(1)).succeed();
    await r0;
    const r1 = h.runner.push(1, seg(1), 2000);
    (await h.started(2)).succeed({ renditions: 1 });
    await r1;
    assert.equal(h.runner.stats.sourceSegments, 2);
    assert.equal(h.runner.stats.transcodedSegments, 2);
    assert.deepEqual(h.runner.stats.renditionSegments, { [PROFILES[0]!.name]: 2, [PROFILES[1]!.name]: 1 });
  });

  it('has at most two segments at orchestrators, and a segment that fails does not hold back the next', async () => {
    const h = harness({ maxAttempts: 1 });
    const results = [0, 1, 2].map((n) => h.runner.push(n, seg(n), 2000));
    await h.started(2);
    await settled();
    assert.equal(h.attempts.length, 2, 'the third waits');
    h.attempts[0]!.fail(new SegmentError('transcode', 'Unsupported input codec', true, false));
    const a2 = await h.started(3);
    assert.equal(a2.job.seq, 2);
    h.attempts[1]!.succeed();
    a2.succeed();
    const outcomes = await Promise.all(results);
    assert.deepEqual(
      outcomes.map((o) => [o?.seq, o?.transcoded, o?.failure]),
      [
        [0, false, 'input'],
        [1, true, undefined],
        [2, true, undefined],
      ],
    );
    assert.deepEqual(h.renditionSeqs(), [1, 2]);
  });

  it(`serves the source only for new segments once ${MAX_BACKLOG} are waiting, and says so once per run of them`, async () => {
    const captured = captureLog('info');
    const h = harness({ log: captured.log });
    const queued = Array.from({ length: MAX_BACKLOG }, (_, n) => h.runner.push(n, seg(n), 2000));
    const over = await h.runner.push(MAX_BACKLOG, seg(MAX_BACKLOG), 2000);
    assert.deepEqual([over?.transcoded, over?.failure, over?.attempts], [false, 'backlog', 0]);
    assert.match(over?.error ?? '', /4 segments behind/);
    assert.equal(h.hls.segment(MID, 'source', MAX_BACKLOG)?.toString(), `source-${MAX_BACKLOG}`, 'the source still plays');
    assert.deepEqual(h.seen.at(-1), ['segment.failed', { manifestId: MID, seq: MAX_BACKLOG, error: over?.error, failure: 'backlog' }]);
    const again = await h.runner.push(MAX_BACKLOG + 1, seg(MAX_BACKLOG + 1), 2000);
    assert.equal(again?.failure, 'backlog');
    for (let n = 1; n <= MAX_BACKLOG; n++) (await h.started(n)).succeed();
    await Promise.all(queued);
    const next = h.runner.push(MAX_BACKLOG + 2, seg(MAX_BACKLOG + 2), 2000);
    (await h.started(MAX_BACKLOG + 1)).succeed();
    assert.equal((await next)?.transcoded, true, 'caught up: transcoding resumes');
    await new Promise((r) => setImmediate(r));
    const said = captured.lines().filter((l) => l.backlog !== undefined || l.skipped !== undefined);
    assert.deepEqual(
      said.map((l) => [l.level, l.seq, l.backlog ?? null, l.skipped ?? null, l.fromSeq ?? null]),
      [
        [40, MAX_BACKLOG, MAX_BACKLOG, null, null],
        [30, MAX_BACKLOG + 2, null, 2, MAX_BACKLOG],
      ],
      'a warning at the first segment skipped, and the count when transcoding resumes',
    );
  });

  it('publishes a sampled segment before its full decode ends, and suspends the orchestrator whose renditions fail it', async () => {
    const h = harness();
    let failDecode: (err: Error) => void = () => {};
    const decodeCheck = new Promise<DecodeCheckOutcome>((_, reject) => (failDecode = reject));
    const r0 = h.runner.push(0, seg(0), 2000);
    (await h.started(1)).succeed({ decodeCheck });
    const o0 = await r0;
    assert.equal(o0?.transcoded, true);
    assert.deepEqual(h.renditionSeqs(), [0], 'in the playlists while the decode still runs');
    failDecode(new Error('renditions do not decode as counted'));
    await settled();
    assert.ok(
      h.seen.some(([name, p]) => name === 'orchestrator.suspended' && (p as { orchestrator: string }).orchestrator === 'o1'),
      'the orchestrator is suspended',
    );
    const r1 = h.runner.push(1, seg(1), 2000);
    const next = await h.started(2);
    assert.equal(next.uri, 'o2', 'the next segment goes elsewhere');
    next.succeed({ decodeCheck: Promise.resolve('decoded') });
    assert.equal((await r1)?.orchestrator, 'o2');
    await h.runner.end();
  });

  it('a sampled decode that ran out of time on this machine does not suspend the orchestrator', async () => {
    const h = harness();
    const r0 = h.runner.push(0, seg(0), 2000);
    (await h.started(1)).succeed({ decodeCheck: Promise.resolve('timed out') });
    assert.equal((await r0)?.transcoded, true);
    await settled();
    assert.ok(!h.seen.some(([name]) => name === 'orchestrator.suspended'), 'not suspended');
    const r1 = h.runner.push(1, seg(1), 2000);
    const next = await h.started(2);
    assert.equal(next.uri, 'o1', 'the stream keeps its orchestrator');
    next.succeed();
    await r1;
    await h.runner.end();
  });

  it('retries a failed segment on another orchestrator, suspends the one that failed, and marks the swap', async () => {
    const h = harness();
    const r0 = h.runner.push(0, seg(0), 2000);
    (await h.started(1)).succeed();
    await r0;
    const r1 = h.runner.push(1, seg(1), 2000);
    const first = await h.started(2);
    assert.equal(first.uri, 'o1', 'the stream stays on its orchestrator');
    first.fail(new SegmentError('http-status', 'OrchestratorBusy', true, true, 503));
    const retry = await h.started(3);
    assert.equal(retry.uri, 'o2');
    retry.succeed();
    const o1 = await r1;
    assert.deepEqual([o1?.transcoded, o1?.orchestrator, o1?.attempts], [true, 'o2', 2]);
    assert.deepEqual(o1?.attemptErrors, [{ orchestrator: 'o1', error: 'OrchestratorBusy' }]);
    assert.equal(h.pool.status().find((s) => s.uri === 'o1')?.state, 'suspended');
    assert.match(h.hls.mediaPlaylist(MID, PROFILES[0]!.name)!, /#EXT-X-DISCONTINUITY\n.*\n\/stream\/runner\/P240p30fps16x9\/1\.ts/);
    assert.deepEqual(h.names(), ['segment.transcoded', 'orchestrator.suspended', 'orchestrator.swapped', 'segment.transcoded']);
    assert.deepEqual(
      h.seen.find(([n]) => n === 'orchestrator.swapped'),
      ['orchestrator.swapped', { manifestId: MID, from: 'o1', to: 'o2' }],
    );
  });

  it('does not retry input no orchestrator can transcode, and keeps the orchestrator', async () => {
    const h = harness();
    const r = h.runner.push(0, seg(0), 2000);
    (await h.started(1)).fail(new SegmentError('transcode', 'Unsupported input pixel format', true, false));
    const o = await r;
    assert.deepEqual([o?.transcoded, o?.failure, o?.attempts, o?.orchestrator], [false, 'input', 1, 'o1']);
    assert.equal(h.attempts.length, 1);
    assert.notEqual(h.pool.status().find((s) => s.uri === 'o1')?.state, 'suspended');
    assert.deepEqual(h.seen.at(-1), ['segment.failed', { manifestId: MID, seq: 0, error: 'Unsupported input pixel format', failure: 'input' }]);
  });

  it('ends the stream on a payment error that no orchestrator can fix, without retrying', async () => {
    const h = harness();
    const r = h.runner.push(0, seg(0), 2000);
    (await h.started(1)).fail(new SenderValidationError('no-deposit', 'no sender deposit'));
    const o = await r;
    assert.deepEqual([o?.transcoded, o?.failure, o?.attempts], [false, 'payment', 1]);
    assert.equal(h.fatal.length, 1);
    assert.match(h.fatal[0]!, /no sender deposit/);
    assert.equal(h.attempts.length, 1);
  });

  it('gives up after -maxAttempts, and says so when there is no orchestrator at all', async () => {
    const h = harness({ maxAttempts: 2 });
    const r = h.runner.push(0, seg(0), 2000);
    (await h.started(1)).fail(new SegmentError('timeout', 'no response headers after 2000 ms', true, true));
    (await h.started(2)).fail(new SegmentError('connect', 'refused', false, true));
    const o = await r;
    assert.deepEqual([o?.transcoded, o?.failure, o?.attempts], [false, 'attempts', 2]);
    assert.equal(h.runner.stats.failedSegments, 1);

    const empty = harness({ uris: [] });
    const none = await empty.runner.push(0, seg(0), 2000);
    assert.deepEqual([none?.transcoded, none?.failure, none?.attempts], [false, 'none', 0]);
  });

  it('reports the tickets of every attempt that sent them, as decimal wei', async () => {
    const h = harness();
    const r = h.runner.push(3, seg(3), 2000);
    const a = await h.started(1);
    a.paid({ tickets: 2, ev: rat(2_000_000_001n, 2n), faceValue: 10n ** 15n });
    a.succeed({ tickets: 2 });
    assert.equal((await r)?.tickets, 2);
    assert.deepEqual(h.seen[0], [
      'payment.sent',
      { manifestId: MID, seq: 3, orchestrator: 'o1', tickets: 2, evWei: '1000000000', faceValueWei: '1000000000000000' },
    ]);
    assert.equal(h.runner.stats.ticketsSent, 2);
  });

  it('carries a segment re-initialisation, a clip and the stream timeout multiplier to the attempt', async () => {
    const h = harness({ timeoutMultiplier: 3 });
    const r = h.runner.push(0, seg(0), 2000, { forceSessionReinit: true, clip: { fromMs: 100, toMs: 900 } });
    const a = await h.started(1);
    assert.equal(a.job.forceSessionReinit, true);
    assert.deepEqual(a.job.clip, { fromMs: 100, toMs: 900 });
    assert.equal(a.job.timeoutMultiplier, 3);
    a.succeed();
    await r;
    const plain = harness();
    const r2 = plain.runner.push(0, seg(0), 2000);
    const b = await plain.started(1);
    assert.deepEqual([b.job.forceSessionReinit, b.job.clip, b.job.timeoutMultiplier], [undefined, undefined, undefined]);
    b.succeed();
    await r2;
  });

  it('answers every push of a repeated sequence number (a publisher that retries a segment)', async () => {
    const h = harness();
    const first = h.runner.push(5, seg(5), 2000);
    const again = h.runner.push(5, seg(5), 2000);
    (await h.started(1)).succeed();
    (await h.started(2)).succeed();
    const outcomes = await Promise.all([first, again]);
    assert.deepEqual(
      outcomes.map((o) => o?.transcoded),
      [true, true],
    );
  });

  it('end() waits for segments in flight, then drops the stream; later pushes are ignored', async () => {
    const h = harness();
    const r = h.runner.push(0, seg(0), 2000);
    const a = await h.started(1);
    let ended = false;
    const end = h.runner.end().then(() => (ended = true));
    await settled();
    assert.equal(ended, false, 'still finishing segment 0');
    a.succeed();
    await end;
    assert.equal((await r)?.transcoded, true);
    assert.equal(h.hls.hasStream(MID), false);
    assert.equal(await h.runner.push(1, seg(1), 2000), undefined);
  });

  it('abort() stops retrying: a failed attempt is not followed by another', async () => {
    const h = harness();
    const r = h.runner.push(0, seg(0), 2000);
    const a = await h.started(1);
    h.runner.abort();
    a.fail(new SegmentError('http-status', 'busy', true, true, 503));
    const o = await r;
    assert.equal(o?.transcoded, false);
    assert.equal(h.attempts.length, 1);
    await h.runner.end();
  });
});
