// Attack 3, the other side: a bad source is not the orchestrators' fault, and a stream whose paid
// attempts keep failing stops paying for a while. (An orchestrator that answers input errors for sources
// our probe reads as valid is suspended: 03-paid-for-nothing.)
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { startLocalNetwork, type LocalNetwork } from '../../scripts/devnet/network.ts';
import type { RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { PAID_FAILURE_PAUSE_MS } from '../../src/node/stream.ts';
import { probeSourceSegment } from '../../src/node/sourceProbe.ts';
import { sleep } from '../e2e/helpers.ts';
import { devnetOrchestratorOptions, gatedOrchestrator, startDevnetNode, startOrchestrator, testClip } from './helpers.ts';

const TS_PACKET = 188;
/** Declared segment length: a 15 s budget for the orchestrator's answer on a loaded machine. */
const SEGMENT_MS = 30_000;

/**
 * The clip with its first packets (PAT, PMT, the start of the first video frame) kept and every later
 * packet's payload overwritten with noise: ffprobe still reads it as MPEG-TS, but there is no decodable
 * video in it. Deterministic, so every run sends the same bytes.
 */
function scrambledClip(keepPackets = 6): Buffer {
  const b = Buffer.from(testClip());
  let seed = 1;
  for (let off = keepPackets * TS_PACKET; off + TS_PACKET <= b.length; off += TS_PACKET) {
    for (let i = off + 4; i < off + TS_PACKET; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      b[i] = seed & 0xff;
    }
  }
  return b;
}

async function push(httpUrl: string, mid: string, seq: number, body: Buffer): Promise<{ status: number; text: string }> {
  const res = await fetch(`${httpUrl}/live/${mid}/${seq}.ts`, { method: 'POST', body, headers: { 'Content-Duration': String(SEGMENT_MS) } });
  // a refusal is text; the renditions of a success are not kept
  if (res.headers.get('content-type')?.startsWith('text/')) return { status: res.status, text: await res.text() };
  await res.arrayBuffer();
  return { status: res.status, text: '' };
}

const sum = (orchs: RunningOrchestrator[], f: (o: RunningOrchestrator) => number) => orchs.reduce((n, o) => n + f(o), 0);

describe('attack 3: bad sources and the pause after paid failures in a row', () => {
  let net: LocalNetwork;
  let started: { stop(): Promise<void> }[] = [];
  before(async () => {
    net = await startLocalNetwork({ orchestrators: [] });
  });
  afterEach(async () => {
    for (const s of started.reverse()) await s.stop().catch(() => {});
    started = [];
  });
  after(async () => {
    await net?.stop();
  });

  it('a bad source: refused or tried on one orchestrator at most, nobody suspended, a clear error to the client', async () => {
    const orchs: RunningOrchestrator[] = [];
    for (let i = 0; i < 3; i++) orchs.push(await startOrchestrator(devnetOrchestratorOptions(net, i)));
    started.push(...orchs);
    const node = await startDevnetNode(net, { orchAddr: orchs.map((o) => o.uri).join(','), transcodingOptions: 'P144p30fps16x9' });
    started.push(node);
    const mid = 'badsource';

    // Not media at all: refused before anyone is asked or paid.
    const garbage = await push(node.gateway.httpUrl, mid, 0, Buffer.alloc(64 * 1024, 0x5a));
    assert.equal(garbage.status, 422, garbage.text);
    assert.match(garbage.text, /Error getting codec info/);
    assert.equal(
      sum(orchs, (o) => o.stats.segmentsReceived),
      0,
    );

    // MPEG-TS whose video is noise: our probe finds no video in it, so the orchestrator's input error is
    // believed. One orchestrator is tried (and paid, as go-livepeer would); it is not suspended, and the
    // segment is not carried around the pool.
    const scrambled = scrambledClip();
    assert.equal((await probeSourceSegment(scrambled)).valid, false, 'the gateway reads the scrambled clip as invalid');
    const bad = await push(node.gateway.httpUrl, mid, 1, scrambled);
    assert.equal(bad.status, 422, bad.text);
    assert.match(bad.text, /TranscoderInvalidVideo|Invalid argument|No keyframes/);
    const tried = orchs.filter((o) => o.stats.segmentsReceived > 0);
    assert.equal(tried.length, 1, 'exactly one orchestrator was sent the bad segment');
    assert.ok(sum(orchs, (o) => o.stats.ticketsReceived) >= 1);
    const runner = node.gateway.stream(mid)!;
    const outcome = runner.outcomes.find((o) => o.seq === 1);
    assert.equal(outcome?.failure, 'input', JSON.stringify(outcome));
    assert.equal(outcome?.attempts, 1);
    for (const st of runner.opts.pool.status()) assert.notEqual(st.state, 'suspended', JSON.stringify(st));
    const status = (await node.gateway.status()) as unknown as { PaidForNothing?: Record<string, unknown> };
    assert.deepEqual(status.PaidForNothing ?? {}, {}, 'a bad source is not money lost to an orchestrator');
  });

  it('six paid failures in a row: the stream stops paying, and pays again once the pause is over', async () => {
    // Six orchestrators that take payment and answer every segment with an error; an honest one that
    // cannot be reached until the pause has begun.
    const hostile: RunningOrchestrator[] = [];
    for (let i = 0; i < 6; i++) hostile.push(await startOrchestrator(devnetOrchestratorOptions(net, i % 2, { faults: { failEvery: 1 } })));
    started.push(...hostile);
    const honest = await gatedOrchestrator(devnetOrchestratorOptions(net, 2));
    started.push(honest);
    const node = await startDevnetNode(net, {
      orchAddr: [...hostile.map((o) => o.uri), honest.uri].join(','),
      transcodingOptions: 'P144p30fps16x9',
      maxAttempts: '3',
    });
    started.push(node);
    const mid = 'pausepaying';
    const clip = testClip();

    // Two segments, three paid attempts each, every one failing: the sixth starts the pause.
    for (let seq = 0; seq < 2; seq++) assert.equal((await push(node.gateway.httpUrl, mid, seq, clip)).status, 500, `segment ${seq}`);
    const runner = node.gateway.stream(mid)!;
    assert.deepEqual(
      runner.outcomes.map((o) => o.attempts),
      [3, 3],
      JSON.stringify(runner.outcomes),
    );
    assert.equal(
      sum(hostile, (o) => o.stats.segmentsReceived),
      6,
    );
    const paidBefore = sum(hostile, (o) => o.stats.ticketsReceived);
    assert.ok(paidBefore >= 6, `every failed attempt was paid (${paidBefore} tickets)`);

    // Paused: an honest orchestrator is reachable now, but nothing is paid or sent.
    honest.open();
    const paused = await push(node.gateway.httpUrl, mid, 2, clip);
    assert.equal(paused.status, 500);
    assert.match(paused.text, /6 paid attempts in a row returned nothing usable; not paying until /);
    const until = Date.parse(/not paying until (\S+)/.exec(paused.text)![1]!);
    assert.ok(until - Date.now() <= PAID_FAILURE_PAUSE_MS);
    assert.equal(runner.outcomes.at(-1)?.failure, 'paid-failures');
    assert.equal(runner.outcomes.at(-1)?.tickets, 0);
    assert.equal(
      sum(hostile, (o) => o.stats.ticketsReceived),
      paidBefore,
      'no ticket sent while paused',
    );
    assert.equal(honest.orchestrator.stats.ticketsReceived, 0);
    assert.equal(sum(hostile, (o) => o.stats.segmentsReceived) + honest.orchestrator.stats.segmentsReceived, 6);

    // The pause ends by itself: the next segment is paid again, and the honest orchestrator transcodes it.
    await sleep(Math.max(0, until - Date.now()) + 1000);
    const resumed = await push(node.gateway.httpUrl, mid, 3, clip);
    assert.equal(resumed.status, 200, `${resumed.text} ${JSON.stringify(runner.outcomes.at(-1))}`);
    assert.equal(runner.outcomes.at(-1)?.orchestrator, honest.uri);
    assert.ok(honest.orchestrator.stats.ticketsReceived > 0, 'paying again');
  });
});
