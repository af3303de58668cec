// Attack 1: an orchestrator lists rendition URLs that point at the gateway's own control API (or any
// other internal address). The gateway fetches renditions only from the orchestrator's own origin or
// the hosts the operator lists, checks the resolved address, and never GETs the control API.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { afterEach, describe, it } from 'node:test';
import { checkRenditionSource, isInternalAddress, RenditionSourceError } from '../../src/net/renditionSource.ts';
import { getText, startTestNode } from '../e2e/helpers.ts';
import { assertRoutedAround, gatedOrchestrator, startOrchestrator, streamPastHostile } from './helpers.ts';

describe('attack 1: rendition URL → control API', () => {
  let started: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const s of started.reverse()) await s.stop().catch(() => {});
    started = [];
  });

  it('a rendition URL at the control API is never fetched; the orchestrator is suspended and the segment redone', async () => {
    // Something else on loopback that counts every request it gets: it must get none.
    let canaryHits = 0;
    const canary = createServer((_req, res) => {
      canaryHits++;
      res.end('ok');
    });
    await new Promise<void>((r) => canary.listen(0, '127.0.0.1', r));
    started.push({ stop: () => new Promise<void>((r) => canary.close(() => r())) });
    const canaryUrl = `http://127.0.0.1:${(canary.address() as { port: number }).port}/latest/meta-data/`;

    // The node's control API port is known only once it runs: the hostile orchestrator is pointed at it then.
    const faults: { renditionUrl?: string } = {};
    const hostile = await startOrchestrator({ logLevel: 'silent', faults });
    started.push(hostile);
    const good = await gatedOrchestrator();
    started.push(good);
    const good2 = await gatedOrchestrator();
    started.push(good2);
    const node = await startTestNode({ network: 'offchain', orchAddr: `${hostile.uri},${good.uri}`, transcodingOptions: 'P144p30fps16x9' });
    started.push(node);
    faults.renditionUrl = `${node.controlUrl}/setBroadcastConfig?transcodingOptions=P720p30fps16x9`;
    const before = await getText(`${node.controlUrl}/getBroadcastConfig`);

    const r = await streamPastHostile({ hostile, good, gateway: node.gateway, mid: 'renditionurl' });
    assertRoutedAround(r, /neither the orchestrator's origin .* nor in -renditionHosts/);
    // The control API was not driven by the rendition URL: the broadcast config is unchanged.
    assert.deepEqual(await getText(`${node.controlUrl}/getBroadcastConfig`), before);
    assert.equal(node.gateway.broadcast.transcodingOptions, 'P144p30fps16x9');

    // Same attack at another loopback service (a cloud metadata look-alike), even when the operator
    // lists a host: a fresh node, and not one request reaches the canary.
    faults.renditionUrl = canaryUrl;
    const node2 = await startTestNode({
      network: 'offchain',
      orchAddr: `${hostile.uri},${good2.uri}`,
      transcodingOptions: 'P144p30fps16x9',
      renditionHosts: 'objects.example.com',
    });
    started.push(node2);
    const r2 = await streamPastHostile({ hostile, good: good2, gateway: node2.gateway, mid: 'renditionurl2' });
    assertRoutedAround(r2, /neither the orchestrator's origin/);
    assert.equal(canaryHits, 0);
  });

  it('a listed host is checked on its resolved address: a name that resolves to loopback is refused for a public orchestrator', async () => {
    const publicOrch = 'https://93.184.216.34:8935';
    await assert.rejects(checkRenditionSource('http://localhost:5935/unlock', publicOrch, ['localhost']), (err: unknown) => {
      assert.ok(err instanceof RenditionSourceError);
      assert.match(err.message, /resolves to internal address (127\.0\.0\.1|::1)/);
      return true;
    });
    await assert.rejects(checkRenditionSource('http://[::ffff:127.0.0.1]:5935/unlock', publicOrch, ['[::ffff:127.0.0.1]:5935']), /internal address/);
    await assert.rejects(checkRenditionSource('http://169.254.169.254/latest/meta-data/', publicOrch, ['169.254.169.254']), /internal address/);
    await assert.rejects(checkRenditionSource('http://user:pw@93.184.216.34:8935/x', publicOrch), /credentials/);
    await assert.rejects(checkRenditionSource('file:///etc/passwd', publicOrch), /not http/);
    // The orchestrator's own origin is always fine; a devnet orchestrator on loopback may use a listed loopback host.
    assert.ok(await checkRenditionSource(`${publicOrch}/stream/a/b/0.ts`, publicOrch));
    const local = await checkRenditionSource('http://localhost:9000/bucket/0.ts', 'https://127.0.0.1:8935', ['localhost:9000']);
    assert.ok(local.pinned && isInternalAddress(local.pinned.address));
    for (const a of ['127.0.0.1', '10.1.2.3', '192.168.0.1', '172.20.0.1', '169.254.1.1', '::1', 'fe80::1', 'fd00::1', '0.0.0.0', '::ffff:10.0.0.1']) {
      assert.equal(isInternalAddress(a), true, a);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1111']) assert.equal(isInternalAddress(a), false, a);
  });
});
