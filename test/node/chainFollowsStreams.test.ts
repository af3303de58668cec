// The node's chain polling follows its streams: idle, it reads the chain rarely (a round change goes unseen
// for minutes, which costs nothing as nothing is paid); while a stream runs it reads at
// -blockPollingInterval, so a round change during the stream is seen within a poll or two; when the last
// stream ends it is idle again. Real devnet chain, the whole node, rounds moved by the test.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { initializeRound } from '../../scripts/devnet/deploy.ts';
import { startLocalNetwork, type LocalNetwork } from '../../scripts/devnet/network.ts';
import { sleep, waitUntil, type TestNode } from '../e2e/helpers.ts';
import { startDevnetNode } from '../hostile/helpers.ts';
import { killPublishers, publishTestStream } from '../media/testMedia.ts';

describe('chain polling follows streams', () => {
  let net: LocalNetwork;
  let node: TestNode;
  before(async () => {
    net = await startLocalNetwork({ orchestrators: [], keeperIntervalMs: 0 });
    node = await startDevnetNode(net, { blockPollingInterval: '1', transcodingOptions: 'P144p30fps16x9' });
  });
  after(async () => {
    killPublishers();
    await node?.stop();
    await net?.stop();
  });

  const seenRound = async (): Promise<bigint> => {
    const chain = (await node.gateway.status()).Chain as { LastInitializedRound?: bigint } | undefined;
    assert.ok(chain?.LastInitializedRound !== undefined, 'the node reports its round');
    return BigInt(chain.LastInitializedRound);
  };
  const sees = (round: bigint, what: string) => waitUntil(async () => ((await seenRound()) === round ? true : undefined), 30_000, what);

  it('idle: a new round is not read; during a stream it is read within -blockPollingInterval; idle again after', async () => {
    const start = await seenRound();
    const idleRound = await initializeRound(net.devnet.rpcUrl, net.devnet.contracts);
    assert.ok(idleRound > start);
    await sleep(3000); // three -blockPollingInterval periods: an active node would have read it
    assert.equal(await seenRound(), start, 'an idle node does not poll at -blockPollingInterval');

    // A stream starts (RTMP; no orchestrator is needed for the source to play): polling speeds up.
    const mid = 'roundfollow';
    const started = new Promise<void>((r) => node.gateway.events.on('stream.started', (e) => e.manifestId === mid && r()));
    const ended = new Promise<void>((r) => node.gateway.events.on('stream.ended', (e) => e.manifestId === mid && r()));
    const publisher = publishTestStream(`${node.gateway.rtmpUrl}/live/${mid}`, { seconds: 600 });
    await started;
    await sees(idleRound, 'the round changed while idle, read when the stream starts');

    // A round change while the stream runs is seen without anything else asking for it.
    const streamRound = await initializeRound(net.devnet.rpcUrl, net.devnet.contracts);
    await sees(streamRound, 'the round change during the stream');

    // The stream ends: idle again, a round change is no longer read.
    publisher.kill();
    await ended;
    await sleep(1500); // a poll already under way finishes
    const lastRound = await initializeRound(net.devnet.rpcUrl, net.devnet.contracts);
    await sleep(3000);
    assert.equal(await seenRound(), streamRound, `idle again after the stream: round ${lastRound} unread`);
  });
});
