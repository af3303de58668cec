// Orchestrators from -orchWebhookUrl (it takes precedence over -orchAddr), and the gateway ending its
// orchestrator sessions with EndTranscodingSession when the stream ends.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startOrchestrator, type RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { getText, killAllPublishers, mediaSeqs, publish720p, startTestGateway, waitUntil, type TestGateway } from './helpers.ts';

describe('discovery webhook and session teardown', () => {
  let listed: RunningOrchestrator;
  let ignored: RunningOrchestrator;
  let hook: Server;
  let hookHits = 0;
  let gw: TestGateway;
  before(async () => {
    listed = await startOrchestrator({ logLevel: 'silent' });
    ignored = await startOrchestrator({ logLevel: 'silent' });
    hook = createServer((_req, res) => {
      hookHits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([{ address: listed.uri, score: 1 }]));
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    gw = await startTestGateway({
      network: 'offchain',
      orchWebhookUrl: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/orchestrators`,
      orchAddr: ignored.uri,
      transcodingOptions: 'P144p30fps16x9',
    });
  });
  after(async () => {
    killAllPublishers();
    await gw?.stop();
    await listed?.stop();
    await ignored?.stop();
    await new Promise((r) => hook?.close(r));
  });

  it('uses the webhook list over -orchAddr and ends the session at stream end', async () => {
    const mid = 'hooked';
    // Live until the checks are done (a short stream can end before a slow machine shows its renditions).
    const pub = publish720p(`${gw.gateway.rtmpUrl}/live/${mid}`, 60);
    await waitUntil(
      async () => {
        const r = await getText(`${gw.gateway.httpUrl}/stream/${mid}/P144p30fps16x9.m3u8`);
        return r.status === 200 && mediaSeqs(r.text).length >= 1 ? true : undefined;
      },
      60_000,
      'renditions',
    );
    assert.ok(hookHits >= 1);
    assert.ok(listed.stats.segments >= 1);
    assert.equal(ignored.stats.segments, 0, '-orchAddr is not used when a webhook is set');
    pub.kill();
    await pub.exited;
    await waitUntil(async () => (listed.stats.sessionsEndedByBroadcaster >= 1 ? true : undefined), 30_000, 'EndTranscodingSession');
  });
});
