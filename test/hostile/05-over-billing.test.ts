// Attack 5: over-billing. An orchestrator answers a 144p request with 720p renditions and bills every
// pixel of them. Before the session balance is settled, billed pixels are held against what the
// profile gives for this source (go-livepeer's scaling: source aspect ratio kept, width and height
// swapped for portrait sources), with -localVerify on or off. Honest renditions of 16:9, 4:3 and
// portrait sources pass.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { startLocalNetwork, type LocalNetwork } from '../../scripts/devnet/network.ts';
import { expectedOutputSize, maxBilledPixels } from '../../src/media/expectedOutput.ts';
import { PRESETS } from '../../src/media/profiles.ts';
import { probeSize } from '../e2e/helpers.ts';
import {
  assertRoutedAround,
  devnetOrchestratorOptions,
  gatedOrchestrator,
  pushSegment,
  startDevnetNode,
  startOrchestrator,
  streamPastHostile,
  testClip,
} from './helpers.ts';

const P144 = PRESETS.P144p30fps16x9!;
const SOURCES: [string, string, { width: number; height: number }][] = [
  ['16:9', '320x180', { width: 256, height: 144 }],
  ['4:3', '320x240', { width: 256, height: 192 }],
  ['portrait', '180x320', { width: 144, height: 256 }],
];

describe('attack 5: over-billing', () => {
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

  it("the expected size is go-livepeer's: aspect ratio kept, portrait swapped, even sides", () => {
    for (const [, size, want] of SOURCES) {
      const [width, height] = size.split('x').map(Number) as [number, number];
      assert.deepEqual(expectedOutputSize(P144, { width, height }), want, size);
    }
    assert.deepEqual(expectedOutputSize(PRESETS.P240p30fps16x9!, { width: 1280, height: 720 }), { width: 426, height: 240 });
    // 1080p60 for a 240p30 request is far outside the bound
    const bound = maxBilledPixels(PRESETS.P240p30fps16x9!, { width: 1280, height: 720, fps: 30 }, 2000);
    assert.ok(1920n * 1080n * 120n > bound * 10n);
  });

  it('honest renditions of 16:9, 4:3 and portrait sources are accepted at their expected sizes (-localVerify)', async () => {
    const honest = await startOrchestrator(devnetOrchestratorOptions(net, 0));
    started.push(honest);
    const node = await startDevnetNode(net, { orchAddr: honest.uri, transcodingOptions: 'P144p30fps16x9', localVerify: 'true' });
    started.push(node);
    for (const [name, size, want] of SOURCES) {
      const mid = `honest${name.replace(/\W/g, '')}`;
      assert.equal(await pushSegment(node.gateway.httpUrl, mid, 0, testClip(size)), 200, name);
      const o = node.gateway.stream(mid)?.outcomes.find((x) => x.seq === 0);
      assert.equal(o?.transcoded, true, JSON.stringify(o));
      const res = await fetch(`${node.gateway.httpUrl}/stream/${mid}/P144p30fps16x9/0.ts`);
      assert.deepEqual(await probeSize(Buffer.from(await res.arrayBuffer())), want, name);
    }
  });

  for (const verify of ['false', 'true']) {
    it(`720p renditions billed for a 144p request are refused before settlement (-localVerify=${verify})`, async () => {
      const hostile = await startOrchestrator(devnetOrchestratorOptions(net, 1, { faults: { renditionSize: { width: 1280, height: 720 } } }));
      started.push(hostile);
      const good = await gatedOrchestrator(devnetOrchestratorOptions(net, 2));
      started.push(good);
      const node = await startDevnetNode(net, { orchAddr: `${hostile.uri},${good.uri}`, transcodingOptions: 'P144p30fps16x9', localVerify: verify });
      started.push(node);
      const r = await streamPastHostile({ hostile, good, gateway: node.gateway, mid: `overbill${verify}`, clip: testClip('320x240') });
      assertRoutedAround(r, /orchestrator billed \d+ pixels, the profile allows at most \d+/);
    });
  }
});
