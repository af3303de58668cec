import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeOrchestratorUri, parseOrchAddrList } from '../../src/discovery/orchUri.ts';
import { checkWeights, drawCandidate, filterByMaxPrice, selectionProbabilities, DEFAULT_SELECTION_WEIGHTS } from '../../src/discovery/selection.ts';
import { Suspensions } from '../../src/discovery/suspension.ts';
import { rat } from '../../src/lib/rat.ts';

const LPT = 10n ** 18n;

describe('-orchAddr parsing', () => {
  it('defaults scheme https and port 8935, :port means loopback', () => {
    assert.equal(normalizeOrchestratorUri('1.2.3.4'), 'https://1.2.3.4:8935');
    assert.equal(normalizeOrchestratorUri('o.example.com:9000'), 'https://o.example.com:9000');
    assert.equal(normalizeOrchestratorUri(':8936'), 'https://127.0.0.1:8936');
    assert.equal(normalizeOrchestratorUri('http://h/path'), 'http://h:8935');
    assert.deepEqual(parseOrchAddrList(' a:1, a:1 ,b '), ['https://a:1', 'https://b:8935']);
    assert.throws(() => normalizeOrchestratorUri('ftp://x'), /must be http/);
  });
});

describe('selection', () => {
  const cands = [
    { key: 'a', stake: 700n * LPT, price: rat(1n) },
    { key: 'b', stake: 200n * LPT, price: rat(2n) },
    { key: 'c', stake: 100n * LPT, price: rat(5n) },
  ];

  it('weights must sum to 1', () => {
    checkWeights(DEFAULT_SELECTION_WEIGHTS);
    assert.throws(() => checkWeights({ ...DEFAULT_SELECTION_WEIGHTS, random: 0.5 }), /must sum to 1, got 1.2/);
  });

  it('probability = priceW·softmax(price) + stakeW·stake share + randW/n', () => {
    const p = selectionProbabilities(cands, DEFAULT_SELECTION_WEIGHTS);
    assert.ok(Math.abs(p.get('a')! - (0.7 * 0.7 + 0.3 / 3)) < 1e-12);
    assert.ok(Math.abs(p.get('c')! - (0.7 * 0.1 + 0.3 / 3)) < 1e-12);
    const total = [...p.values()].reduce((x, y) => x + y, 0);
    assert.ok(Math.abs(total - 1) < 1e-12);
    const priceOnly = selectionProbabilities(cands, { stake: 0, price: 1, random: 0, priceExpFactor: 1 });
    assert.ok(priceOnly.get('a')! > priceOnly.get('b')! && priceOnly.get('b')! > priceOnly.get('c')!);
    const noStake = selectionProbabilities(
      cands.map((c) => ({ ...c, stake: 0n })),
      { stake: 1, price: 0, random: 0, priceExpFactor: 100 },
    );
    assert.equal(noStake.get('a'), 1, 'a zero stake sum makes the stake term 1.0, as go-livepeer does');
  });

  it('roulette wheel follows the cumulative probabilities', () => {
    assert.equal(drawCandidate(cands, DEFAULT_SELECTION_WEIGHTS, 0)?.key, 'a');
    assert.equal(drawCandidate(cands, DEFAULT_SELECTION_WEIGHTS, 0.58)?.key, 'a');
    assert.equal(drawCandidate(cands, DEFAULT_SELECTION_WEIGHTS, 0.6)?.key, 'b');
    assert.equal(drawCandidate(cands, DEFAULT_SELECTION_WEIGHTS, 0.99)?.key, 'c');
    assert.equal(drawCandidate([], DEFAULT_SELECTION_WEIGHTS), undefined);
    // over many draws the stake-heavy candidate wins most often
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const k = drawCandidate(cands, DEFAULT_SELECTION_WEIGHTS)!.key;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    assert.ok(counts.get('a')! > counts.get('b')! && counts.get('b')! > counts.get('c')!);
  });

  it('max price filter is inclusive, drops unknown prices, can be ignored when needed', () => {
    const { kept, dropped } = filterByMaxPrice([...cands, { key: 'd', stake: LPT }], rat(2n));
    assert.deepEqual(
      kept.map((c) => c.key),
      ['a', 'b'],
    );
    assert.match(dropped.get('c')!, /above -maxPricePerUnit/);
    assert.match(dropped.get('d')!, /price unknown/);
    assert.deepEqual(filterByMaxPrice(cands, rat(0n)).kept.length, 3, 'max price 0 = any price');
    assert.deepEqual(filterByMaxPrice(cands, rat(1n, 2n)).kept.length, 0);
    assert.deepEqual(filterByMaxPrice(cands, rat(1n, 2n), true).kept.length, 3);
  });
});

describe('suspensions', () => {
  it('last until current refresh + penalty', () => {
    const s = new Suspensions();
    for (let i = 0; i < 10; i++) s.tick(); // a long-running stream
    s.suspend('o1', 2, 'timeout');
    assert.equal(s.isSuspended('o1'), true);
    assert.equal(s.reason('o1'), 'timeout');
    s.tick();
    assert.equal(s.isSuspended('o1'), true);
    s.tick();
    assert.equal(s.isSuspended('o1'), true, 'still out at refresh suspend+penalty');
    s.tick();
    assert.equal(s.isSuspended('o1'), false);
  });
});
