// RTMP under -apiKeys required: OBS publishes to rtmp://host/live/<stream key>, the stream plays under the
// key's public playback ID (never under the stream key), an unknown stream key is refused, a key's
// concurrent-stream limit holds, and a revoked key's stream key stops working.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { resolveLimits } from '../../src/tenancy/limits.ts';
import { getText, killAllPublishers, publish720p, startTestNode, type TestNode, waitUntil } from '../e2e/helpers.ts';

describe('RTMP stream keys bound to API keys', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode({ apiKeys: 'required' });
  });
  after(async () => {
    killAllPublishers();
    await node?.stop();
  });

  it('plays under the playback ID, never under the stream key; unknown and revoked stream keys are refused', async () => {
    const t = node.gateway.tenancy!;
    const { key } = await t.tenancy.keys.create({ name: 'obs', tier: 'unlimited', limits: resolveLimits('unlimited', { concurrentStreams: '1' }) });
    const { streamKey, playbackId } = await t.streamKeys.create(key.id);
    const http = node.gateway.httpUrl;

    const unknown = publish720p(`${node.gateway.rtmpUrl}/live/sk${'x'.repeat(40)}`, 6);
    assert.notEqual(await unknown.exited, 0, 'an unknown stream key is refused');

    publish720p(`${node.gateway.rtmpUrl}/live/${streamKey}`, 120);
    // live under its playback ID (transcoding is not needed for that: a loaded machine may be slow at it)
    await waitUntil(async () => ((await node.gateway.status()).Manifests.includes(playbackId) ? true : undefined), 90_000, 'the stream under its playback ID');
    assert.equal((await getText(`${http}/stream/${streamKey}.m3u8`)).status, 404, 'the stream key is no playback ID');
    const status = await node.gateway.status();
    assert.ok(!JSON.stringify(status).includes(streamKey), 'the stream key appears nowhere in /status');

    // a second stream of the same key: over its limit of one
    const second = await t.streamKeys.create(key.id);
    const refused = publish720p(`${node.gateway.rtmpUrl}/live/${second.streamKey}`, 6);
    assert.notEqual(await refused.exited, 0, 'the concurrent-stream limit refuses the second publish');
    killAllPublishers();

    // another key, no stream running: refused only because it is revoked
    const other = await t.tenancy.keys.create({ name: 'gone', tier: 'unlimited', limits: {} });
    const otherStream = await t.streamKeys.create(other.key.id);
    await t.tenancy.keys.revoke(other.key.id);
    const revoked = publish720p(`${node.gateway.rtmpUrl}/live/${otherStream.streamKey}`, 6);
    assert.notEqual(await revoked.exited, 0, 'a revoked key cannot publish');
  });
});
