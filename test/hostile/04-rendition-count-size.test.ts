// Attack 4: a reply that lists a million rendition URLs, and renditions far larger than their profile's
// bitrate allows. The count is checked against the profiles before anything is downloaded; each
// rendition is capped at a size derived from its profile.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { countListedRenditions } from '../../src/net/renditionCount.ts';
import { encodeMessage } from '../../src/wire/lpRpc.ts';
import { renditionByteCap } from '../../src/media/expectedOutput.ts';
import { PRESETS } from '../../src/media/profiles.ts';
import { startTestGateway } from '../e2e/helpers.ts';
import { assertRoutedAround, gatedOrchestrator, startOrchestrator, streamPastHostile } from './helpers.ts';

describe('attack 4: rendition count and size', () => {
  let started: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const s of started.reverse()) await s.stop().catch(() => {});
    started = [];
  });

  it('the renditions are counted on the framing of the reply, before it is decoded', () => {
    const segs = Array.from({ length: 3 }, (_, i) => ({ url: `https://o/${i}`, pixels: 1n }));
    const one = encodeMessage('TranscodeResult', { seq: 1n, data: { segments: segs, sig: new Uint8Array(65) }, info: {} });
    assert.equal(countListedRenditions(one), 3);
    // a second data field merges by the protobuf rules (Go's decoder): its segments count too
    const two = Buffer.concat([one, encodeMessage('TranscodeResult', { data: { segments: segs } })]);
    assert.equal(countListedRenditions(two), 6);
    assert.equal(countListedRenditions(encodeMessage('TranscodeResult', { error: 'x' })), 0);
    assert.equal(countListedRenditions(one.subarray(0, one.length - 1)), undefined);
  });

  it('a million rendition URLs: refused on the count, not one of them fetched', async () => {
    const hostile = await startOrchestrator({ logLevel: 'silent', faults: { extraRenditions: 999_999 } });
    started.push(hostile);
    const good = await gatedOrchestrator();
    started.push(good);
    const gw = await startTestGateway({ network: 'offchain', orchAddr: `${hostile.uri},${good.uri}`, transcodingOptions: 'P144p30fps16x9' });
    started.push(gw);
    const rss = process.memoryUsage().rss;
    const r = await streamPastHostile({ hostile, good, gateway: gw.gateway, mid: 'millionurls' });
    assertRoutedAround(r, /returned 1000000 renditions for 1 profiles/);
    assert.ok(process.memoryUsage().rss - rss < 256 * 1024 * 1024, 'the reply did not blow up memory');
  });

  it('a rendition 40 MB above its profile: refused at the profile-derived cap while downloading', async () => {
    const cap = renditionByteCap(PRESETS.P144p30fps16x9!, 1000);
    assert.ok(cap < 4 * 1024 * 1024, `a 1 s 144p rendition is capped at ${cap} bytes`);
    const hostile = await startOrchestrator({ logLevel: 'silent', faults: { renditionPadBytes: 40 * 1024 * 1024 } });
    started.push(hostile);
    const good = await gatedOrchestrator();
    started.push(good);
    const gw = await startTestGateway({ network: 'offchain', orchAddr: `${hostile.uri},${good.uri}`, transcodingOptions: 'P144p30fps16x9' });
    started.push(gw);
    const r = await streamPastHostile({ hostile, good, gateway: gw.gateway, mid: 'hugerendition' });
    assertRoutedAround(r, new RegExp(`larger than ${cap} bytes`));
  });
});
