// Stopping a gateway (SIGTERM): /healthz turns 503, new jobs are refused with 503, a job already running
// finishes and gets its answer, then the gateway stops.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_AI_MODELS } from '../../scripts/devnet/orchestrator/ai/config.ts';
import { startOrchestrator, type RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { startTestGateway, type TestGateway, waitUntil } from '../e2e/helpers.ts';

const BODY = JSON.stringify({ prompt: 'a mountain at dawn', model_id: 'SG161222/RealVisXL_V4.0_Lightning', width: 64, height: 64 });

describe('drain on shutdown', () => {
  let orch: RunningOrchestrator;
  let gw: TestGateway;
  before(async () => {
    orch = await startOrchestrator({ logLevel: 'silent', ai: { models: DEFAULT_AI_MODELS } });
    gw = await startTestGateway({ orchAddr: orch.uri });
  });
  after(async () => {
    await gw?.stop();
    await orch?.stop();
  });

  it('refuses new work, finishes the running job, then stops', async () => {
    const base = gw.gateway.httpUrl;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    // a job whose body is still arriving when the stop begins: it is running
    const url = new URL(`${base}/text-to-image`);
    let finishBody = () => {};
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(BODY) },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.write(BODY.slice(0, 10));
      finishBody = () => req.end(BODY.slice(10));
    });
    await new Promise((r) => setTimeout(r, 200)); // the request reached the gateway
    const stopped = gw.gateway.stop();
    await waitUntil(async () => ((await fetch(`${base}/healthz`)).status === 503 ? true : undefined), 10_000, '/healthz 503 while draining');
    const refused = await fetch(`${base}/text-to-image`, { method: 'POST', body: BODY, headers: { 'Content-Type': 'application/json' } });
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'SHUTTING_DOWN');
    finishBody();
    const r = await answer;
    assert.equal(r.status, 200, r.body);
    assert.ok((JSON.parse(r.body) as { images: unknown[] }).images.length === 1);
    await stopped;
  });
});
