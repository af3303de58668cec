import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AiSelector, AiSelectors } from '../../src/discovery/aiSelector.ts';
import type { Evaluation } from '../../src/discovery/sessionPool.ts';
import type { Candidate } from '../../src/discovery/sources.ts';
import { rat } from '../../src/lib/rat.ts';
import type { OrchestratorInfo } from '../../src/wire/lpRpc.ts';
import { silentLogger } from '../../src/lib/log.ts';

const MODEL = 'm/model';

function info(uri: string, models: Record<string, { warm: boolean }>, price = 1n): OrchestratorInfo {
  return {
    transcoder: uri,
    priceInfo: { pricePerUnit: price, pixelsPerUnit: 1n },
    capabilities: { constraints: { PerCapability: { 27: { models } } } },
    authToken: { token: new Uint8Array([1]), sessionId: 's' },
  };
}

const evaluate = (c: Candidate, i: OrchestratorInfo, latencyMs: number): Evaluation => ({
  ok: true,
  session: {
    uri: c.uri,
    transcoder: i.transcoder!,
    info: i,
    stake: c.stake ?? 0n,
    price: rat(i.priceInfo!.pricePerUnit!, 1n),
    initialPrice: rat(i.priceInfo!.pricePerUnit!, 1n),
    trusted: true,
    latencyMs,
  },
});

function selector(replies: Record<string, OrchestratorInfo | Error>, opts: Partial<ConstructorParameters<typeof AiSelector>[0]> = {}) {
  let probes = 0;
  const s = new AiSelector({
    log: silentLogger(),
    cap: 27,
    modelId: MODEL,
    source: { kind: 'orchAddr', candidates: async () => Object.keys(replies).map((uri) => ({ uri, score: 1, stake: 10n ** 18n })) },
    probe: async (uri) => {
      probes++;
      const r = replies[uri]!;
      if (r instanceof Error) throw r;
      return r;
    },
    evaluate,
    onchain: false,
    discoveryTimeoutMs: 50,
    hardCutoffMs: 500,
    ...opts,
  });
  return { s, probes: () => probes };
}

describe('AI selection per (capability, model)', () => {
  it('warm before cold, idle before busy; replies without the model are excluded with the reason', async () => {
    const { s } = selector({
      'https://a:1': info('https://a:1', { [MODEL]: { warm: false } }),
      'https://b:1': info('https://b:1', { [MODEL]: { warm: true } }),
      'https://c:1': info('https://c:1', { other: { warm: true } }),
      'https://d:1': new Error('connection refused'),
    });
    const first = await s.select();
    assert.equal(first?.uri, 'https://b:1');
    // b is busy now: still warm first (shared) rather than cold
    assert.equal((await s.select())?.uri, 'https://b:1');
    const byUri = Object.fromEntries(s.status().map((c) => [c.uri, c]));
    assert.equal(byUri['https://a:1']!.state, 'cold');
    assert.equal(byUri['https://c:1']!.state, 'excluded');
    assert.match(byUri['https://c:1']!.reason!, /does not serve model m\/model/);
    assert.equal(byUri['https://d:1']!.state, 'unreachable');
    // excluding warm ones falls back to cold
    assert.equal((await s.select(new Set(['https://b:1'])))?.uri, 'https://a:1');
  });

  it('set aside: out of the pool without suspension; suspended: out for refreshes', async () => {
    const { s } = selector({
      'https://a:1': info('https://a:1', { [MODEL]: { warm: true } }),
      'https://b:1': info('https://b:1', { [MODEL]: { warm: true } }),
    });
    const a = (await s.select())!;
    s.setAside(a, 'insufficient capacity');
    assert.equal(s.suspensions.isSuspended(a.uri), false);
    const b = (await s.select())!;
    assert.notEqual(b.uri, a.uri);
    s.suspend(b, 'returned 500');
    assert.equal(s.suspensions.isSuspended(b.uri), true);
    assert.equal(s.status().find((c) => c.uri === b.uri)?.state, 'suspended');
  });

  it('on-chain: an orchestrator above the max price per unit is never drawn', async () => {
    const { s } = selector(
      {
        'https://cheap:1': info('https://cheap:1', { [MODEL]: { warm: true } }, 10n),
        'https://dear:1': info('https://dear:1', { [MODEL]: { warm: true } }, 1000n),
      },
      { onchain: true, maxPrice: () => rat(100n) },
    );
    for (let i = 0; i < 30; i++) {
      const x = (await s.select(new Set()))!;
      assert.equal(x.uri, 'https://cheap:1');
      s.release(x, 0.001);
    }
    const dear = s.status().find((c) => c.uri === 'https://dear:1')!;
    assert.equal(dear.state, 'excluded');
    assert.match(dear.reason!, /above the max/);
  });

  it('off-chain: lowest latency score first, never-used counts as 0', async () => {
    const { s } = selector({
      'https://a:1': info('https://a:1', { [MODEL]: { warm: true } }),
      'https://b:1': info('https://b:1', { [MODEL]: { warm: true } }),
    });
    const x = (await s.select())!;
    s.release(x, 5);
    const y = (await s.select())!;
    assert.notEqual(y.uri, x.uri, 'the unused one (score 0) goes next');
    s.release(y, 1);
    assert.equal((await s.select())?.uri, y.uri, 'then the faster one');
  });

  it('an empty pool is not re-discovered on every request', async () => {
    let now = 0;
    const { s, probes } = selector({ 'https://a:1': info('https://a:1', { other: { warm: true } }) }, { now: () => now });
    assert.equal(await s.select(), undefined);
    assert.equal(await s.select(), undefined);
    assert.equal(probes(), 1);
    now += 1500;
    assert.equal(await s.select(), undefined);
    assert.equal(probes(), 2);
  });

  it('selectors are per (capability, model) and bounded in number', () => {
    const made: string[] = [];
    const all = new AiSelectors((cap, model) => {
      made.push(`${cap}/${model}`);
      return selector({}, { cap, modelId: model }).s;
    }, 3);
    assert.equal(all.get(27, 'a'), all.get(27, 'a'));
    assert.notEqual(all.get(27, 'a'), all.get(28, 'a'));
    for (const m of ['b', 'c', 'd', 'e']) all.get(27, m);
    assert.equal(all.all().length, 3);
  });
});
