// Attack 10 (found on the real contracts): at a round change the node's cached round is up to
// -blockPollingInterval old, so an honest orchestrator's fresh ticket params look "created after the last
// initialized round". The node reads the rounds fresh (once per round) before judging them, and never
// suspends the orchestrator for its own stale cache. Here the cache would be an hour old.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { devnetPublicClient } from '../../scripts/devnet/chain.ts';
import { DEFAULT_AI_MODELS } from '../../scripts/devnet/orchestrator/ai/config.ts';
import { startLocalNetwork, type LocalNetwork } from '../../scripts/devnet/network.ts';
import { roundsManagerAbi } from '../../src/eth/abi/roundsManager.ts';
import { freshRounds } from '../../src/node/freshRounds.ts';
import { post } from '../ai/aiTestKit.ts';
import { sleep, waitUntil } from '../e2e/helpers.ts';
import { devnetOrchestratorOptions, pushSegment, startDevnetNode, startOrchestrator, testClip } from './helpers.ts';

/** Declared segment length: a 15 s budget for the orchestrator's answer on a loaded machine. */
const SEGMENT_MS = 30_000;

describe('attack 10: round change', () => {
  let net: LocalNetwork;
  const started: { stop(): Promise<void> }[] = [];
  before(async () => {
    net = await startLocalNetwork({ orchestrators: [] });
  });
  after(async () => {
    for (const s of started.reverse()) await s.stop().catch(() => {});
    await net?.stop();
  });

  it('one fresh read per newer creation round, shared by concurrent callers', async () => {
    let round = 6n;
    let polls = 0;
    const fresh = freshRounds(
      () => ({ lastInitializedRound: round, lastSeenL1Block: 100n, ticketValidityPeriod: 2n }),
      async () => {
        polls++;
        await sleep(10);
        round = 7n;
      },
    );
    const info = (r: bigint) => ({ ticketParams: { expirationParams: { creationRound: r } } });
    await fresh.ensureFor(info(6n));
    assert.equal(polls, 0, 'a round we know needs no read');
    await Promise.all([fresh.ensureFor(info(7n)), fresh.ensureFor(info(7n)), fresh.ensureFor(info(7n))]);
    assert.equal(polls, 1);
    await fresh.ensureFor(info(8n)); // the chain is still at 7: one read for round 8, then none
    await fresh.ensureFor(info(8n));
    assert.equal(polls, 2);
  });

  it('segments across a round change are paid to the same orchestrator, which is never suspended', async () => {
    const orch = await startOrchestrator(devnetOrchestratorOptions(net, 0));
    started.push(orch);
    const node = await startDevnetNode(net, { orchAddr: orch.uri, transcodingOptions: 'P144p30fps16x9', blockPollingInterval: '3600' });
    started.push(node);
    const mid = 'roundchange';
    const push = async (m: string, seq: number) => {
      const status = await pushSegment(node.gateway.httpUrl, m, seq, testClip(), SEGMENT_MS);
      assert.equal(status, 200, `${m} segment ${seq}: ${JSON.stringify(node.gateway.stream(m)?.outcomes.at(-1))}`);
    };
    await push(mid, 0);

    const pub = devnetPublicClient(net.devnet.rpcUrl);
    const lastInit = () => pub.readContract({ address: net.devnet.contracts.roundsManager, abi: roundsManagerAbi, functionName: 'lastInitializedRound' });
    const startRound = await lastInit();
    // The keeper initializes a new round every 20 blocks (a block a second).
    await waitUntil(async () => ((await lastInit()) > startRound ? true : undefined), 90_000, 'a round change on the devnet');
    await sleep(3000); // the orchestrator's own view of the round catches up
    // The old stream goes on, and a new one starts: its GetOrchestrator reply carries ticket params created
    // in the new round, which our cached round (an hour old) does not know yet.
    const fresh = 'roundchangenew';
    for (let seq = 1; seq <= 3; seq++) {
      await push(mid, seq);
      await push(fresh, seq - 1);
    }

    for (const m of [mid, fresh]) {
      const runner = node.gateway.stream(m)!;
      assert.ok(
        runner.outcomes.every((o) => o.transcoded && o.orchestrator === orch.uri && !o.attemptErrors),
        `${m}: ${JSON.stringify(runner.outcomes)}`,
      );
      const st = runner.opts.pool.status().find((s) => s.uri === orch.uri);
      assert.equal(st?.state, 'usable', JSON.stringify(st));
    }
    assert.ok(orch.stats.ticketsReceived > 0);
  });

  it('AI jobs across a round change: a new model and a known one are both paid to the orchestrator', async () => {
    const orch = await startOrchestrator(devnetOrchestratorOptions(net, 1, { ai: { models: DEFAULT_AI_MODELS } }));
    started.push(orch);
    const node = await startDevnetNode(net, { orchAddr: orch.uri, blockPollingInterval: '3600' });
    started.push(node);
    const job = async (model: string, i: number) => {
      const r = await post(node.gateway.httpUrl, 'text-to-image', {
        body: JSON.stringify({ prompt: `round ${i}`, model_id: model, width: 64, height: 64 }),
        headers: { 'Content-Type': 'application/json' },
      });
      assert.equal(r.status, 200, `${model} job ${i}: ${JSON.stringify(r.json)}`);
    };
    const [known, later] = ['SG161222/RealVisXL_V4.0_Lightning', 'stabilityai/sdxl-turbo'];
    await job(known!, 0);

    const pub = devnetPublicClient(net.devnet.rpcUrl);
    const lastInit = () => pub.readContract({ address: net.devnet.contracts.roundsManager, abi: roundsManagerAbi, functionName: 'lastInitializedRound' });
    const startRound = await lastInit();
    await waitUntil(async () => ((await lastInit()) > startRound ? true : undefined), 90_000, 'a round change on the devnet');
    await sleep(3000);
    // a model never asked for: its first GetOrchestrator reply carries params of the new round
    await job(later!, 1);
    await job(known!, 2);
    assert.ok((orch.ai?.stats.ticketsReceived ?? 0) > 0);
  });
});
