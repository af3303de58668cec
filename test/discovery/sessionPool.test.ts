// Session pool policy with in-process probe functions: timings, filters, stickiness, failover.
// The real gRPC path is covered by the net and end-to-end tests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionPool, type Evaluation, type OrchSession } from '../../src/discovery/sessionPool.ts';
import type { Candidate } from '../../src/discovery/sources.ts';
import type { OrchestratorInfo } from '../../src/wire/lpRpc.ts';
import { rat } from '../../src/lib/rat.ts';
import { silentLogger } from '../../src/lib/log.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const source = (uris: string[], score = 1) => ({ kind: 'orchAddr' as const, candidates: async () => uris.map((uri) => ({ uri, score })) });
const accept = (c: Candidate, info: OrchestratorInfo, latencyMs: number): Evaluation => ({
  ok: true,
  session: { uri: c.uri, transcoder: info.transcoder ?? c.uri, info, stake: c.stake ?? 0n, trusted: c.score >= 1, latencyMs, price: rat(1n) },
});

describe('session pool', () => {
  it('uses the lowest-latency orchestrator off-chain and sticks to it', async () => {
    const delays: Record<string, number> = { a: 60, b: 5, c: 30 };
    const pool = new SessionPool({
      log: silentLogger(),
      source: source(['a', 'b', 'c']),
      probe: async (uri) => {
        await sleep(delays[uri]!);
        return { transcoder: uri };
      },
      evaluate: accept,
      onchain: false,
    });
    await pool.refresh();
    assert.equal(pool.size, 3);
    assert.equal(pool.select()?.uri, 'b');
    assert.equal(pool.select()?.uri, 'b', 'sticky');
  });

  it('stops waiting at the first tick once one reply is good; late replies still join', async () => {
    const pool = new SessionPool({
      log: silentLogger(),
      source: source(['fast', 'slow']),
      probe: async (uri) => {
        await sleep(uri === 'fast' ? 5 : 900);
        return { transcoder: uri };
      },
      evaluate: accept,
      onchain: false,
      discoveryTimeoutMs: 100,
    });
    const t0 = performance.now();
    await pool.refresh();
    const waited = performance.now() - t0;
    assert.ok(waited < 500, `waited ${waited} ms`);
    assert.equal(pool.size, 1);
    await sleep(1000);
    assert.equal(pool.size, 2, 'a late good reply is added');
  });

  it('records exclusion reasons and unreachable orchestrators', async () => {
    const pool = new SessionPool({
      log: silentLogger(),
      source: source(['ok', 'pricey', 'down']),
      probe: async (uri) => {
        if (uri === 'down') throw new Error('connect ECONNREFUSED');
        return { transcoder: uri };
      },
      evaluate: (c, info, l) => (c.uri === 'pricey' ? { ok: false, reason: 'price above max' } : accept(c, info, l)),
      onchain: false,
    });
    await pool.refresh();
    const st = Object.fromEntries(pool.status().map((s) => [s.uri, s]));
    assert.equal(st.ok?.state, 'usable');
    assert.deepEqual([st.pricey?.state, st.pricey?.reason], ['excluded', 'price above max']);
    assert.equal(st.down?.state, 'unreachable');
    assert.match(st.down!.reason!, /ECONNREFUSED/);
  });

  it('on failure: suspends, moves on, and the failed one is not reselected on refresh', async () => {
    const pool = new SessionPool({
      log: silentLogger(),
      source: source(['a', 'b']),
      probe: async (uri) => ({ transcoder: uri }),
      evaluate: accept,
      onchain: false,
    });
    await pool.refresh();
    const first = pool.select() as OrchSession;
    pool.fail(first, 'segment upload timed out');
    const second = pool.select();
    assert.ok(second && second.uri !== first.uri);
    await pool.refresh();
    assert.equal(
      pool.all().some((s) => s.uri === first.uri),
      false,
    );
    assert.equal(pool.status().find((s) => s.uri === first.uri)?.state, 'suspended');
  });

  it('on-chain: filters by max price and draws by stake', async () => {
    const prices: Record<string, bigint> = { cheap: 1n, dear: 10n };
    const pool = new SessionPool({
      log: silentLogger(),
      source: {
        kind: 'onchain',
        candidates: async () => [
          { uri: 'cheap', score: 0, stake: 10n ** 18n },
          { uri: 'dear', score: 0, stake: 10n ** 24n },
        ],
      },
      probe: async (uri) => ({ transcoder: uri }),
      evaluate: (c, info, l) => {
        const r = accept(c, info, l);
        if (r.ok) r.session.price = rat(prices[c.uri]!);
        return r;
      },
      onchain: true,
      maxPrice: () => rat(5n),
    });
    await pool.refresh();
    assert.equal(pool.select()?.uri, 'cheap');
    assert.match(pool.status().find((s) => s.uri === 'dear')!.reason!, /above -maxPricePerUnit/);
  });

  it('nothing usable: select returns undefined instead of throwing', async () => {
    const pool = new SessionPool({
      log: silentLogger(),
      source: source(['x']),
      probe: async () => {
        throw new Error('down');
      },
      evaluate: accept,
      onchain: false,
      hardCutoffMs: 200,
    });
    await pool.refresh();
    assert.equal(pool.select(), undefined);
  });

  it('a low pool refreshes in the background at most every 10 s', async () => {
    let probes = 0;
    let clock = 0;
    const pool = new SessionPool({
      log: silentLogger(),
      source: source(['a', 'b', 'c']),
      probe: async (uri) => {
        probes++;
        if (uri !== 'a') throw new Error('down');
        return { transcoder: uri };
      },
      evaluate: accept,
      onchain: false,
      now: () => clock,
      hardCutoffMs: 100,
    });
    await pool.refresh();
    const afterFirst = probes;
    pool.select();
    await sleep(10);
    assert.equal(probes, afterFirst, 'no refresh right after one');
    clock += 10_000;
    pool.select();
    await sleep(10);
    assert.ok(probes > afterFirst, 'refreshed once the interval passed');
  });
});
