// The signer's auth webhook (-remoteSignerWebhookUrl) against a real HTTP server standing in for the
// operator's: what it is sent, and each outcome — its status and reason, expiry (not asked again until
// then), maxPrice (481; 502 when invalid), auth id (kept; a change is refused), and failures (500).
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startLocalNetwork, type LocalNetwork } from '../../scripts/devnet/network.ts';
import type { RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { hexToBytes } from '../../src/lib/bytes.ts';
import { getOrchestrator } from '../../src/net/grpc.ts';
import { encodeMessage } from '../../src/wire/lpRpc.ts';
import { postRaw, startTestSigner, type RawAnswer, type TestSigner, startSignerTestOrchestrator } from './signerKit.ts';

interface HookCall {
  headers: IncomingMessage['headers'];
  body: { headers: Record<string, string[]>; state: Record<string, unknown> };
}

describe('remote signer auth webhook', () => {
  let net: LocalNetwork;
  let orch: RunningOrchestrator;
  let signer: TestSigner;
  let hook: Server;
  let info = '';
  const calls: HookCall[] = [];
  /** what the webhook answers next: HTTP status and body text */
  let reply: { http: number; body: string } = { http: 200, body: '{"status":200}' };

  before(async () => {
    hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        calls.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) as HookCall['body'] });
        res.writeHead(reply.http, { 'Content-Type': 'application/json' });
        res.end(reply.body);
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    net = await startLocalNetwork({ orchestrators: [] });
    orch = await startSignerTestOrchestrator(net);
    signer = await startTestSigner({
      ...net.gatewayFlags,
      remoteSignerWebhookUrl: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/auth`,
      remoteSignerWebhookHeaders: 'X-Operator-Key:hook-secret',
      monitor: 'true',
    });
    const sig = (await (await fetch(`${signer.url}/sign-orchestrator-info`, { method: 'POST' })).json()) as {
      address: `0x${string}`;
      signature: `0x${string}`;
    };
    const oi = await getOrchestrator(orch.uri, { address: hexToBytes(sig.address), sig: hexToBytes(sig.signature), ignoreCapacityCheck: true });
    info = Buffer.from(encodeMessage('OrchestratorInfo', oi)).toString('base64');
  });
  after(async () => {
    await signer?.stop();
    await orch?.stop();
    await net?.stop();
    await new Promise((r) => hook?.close(r));
  });

  const pay = (extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<RawAnswer> =>
    postRaw(`${signer.url}/generate-live-payment`, JSON.stringify({ orchestrator: info, type: 'lv2v', ...extra }), {
      'Content-Type': 'application/json',
      Authorization: 'Bearer caller-token',
      ...headers,
    });
  const message = (r: RawAnswer): string => (JSON.parse(r.text) as { error: { message: string } }).error.message;
  const stateOf = (r: RawAnswer): { state: { State: string; Sig: string }; fields: Record<string, unknown> } => {
    const s = (JSON.parse(r.text) as { state: { State: string; Sig: string } }).state;
    return { state: s, fields: JSON.parse(Buffer.from(s.State, 'base64').toString()) as Record<string, unknown> };
  };

  it('is sent every header of the payment request and the new state, with the configured headers', async () => {
    reply = { http: 200, body: '{"status":200}' };
    const n = calls.length;
    const r = await pay({}, { 'X-Custom': 'one' });
    assert.equal(r.status, 200, r.text);
    assert.equal(calls.length, n + 1);
    const call = calls.at(-1)!;
    assert.equal(call.headers['x-operator-key'], 'hook-secret');
    assert.match(call.headers['content-type'] ?? '', /^application\/json/);
    assert.deepEqual(call.body.headers.Authorization, ['Bearer caller-token'], 'canonical names, every value');
    assert.deepEqual(call.body.headers['X-Custom'], ['one']);
    assert.equal(call.body.state.Type, 'lv2v');
    assert.equal(call.body.state.OrchestratorAddress, orch.address.toLowerCase());
    assert.equal(call.body.state.SenderNonce, stateOf(r).fields.SenderNonce, 'the state after this call');
  });

  it('a status other than 200 is the answer, with its reason; nothing is committed and the old state still pays', async () => {
    reply = { http: 200, body: '{"status":200}' };
    const first = await pay();
    reply = { http: 200, body: '{"status":403,"reason":"quota exhausted"}' };
    const refused = await pay({ ManifestID: 'm', state: stateOf(first).state });
    assert.equal(refused.status, 403);
    assert.equal(message(refused), 'quota exhausted');
    reply = { http: 200, body: '{"status":429}' };
    const limited = await pay({ ManifestID: 'm', state: stateOf(first).state });
    assert.equal(limited.status, 429);
    reply = { http: 200, body: '{"status":200}' };
    const later = await pay({ ManifestID: 'm', state: stateOf(first).state });
    assert.equal(later.status, 200, later.text);
    assert.equal(stateOf(later).fields.SequenceNumber, 1);
  });

  it('a webhook that fails (HTTP error, bad JSON, no status) → 500 Internal Server Error', async () => {
    for (const bad of [
      { http: 503, body: '{"status":200}' },
      { http: 200, body: 'not json' },
      { http: 200, body: '{"reason":"no status"}' },
      { http: 200, body: '{"status":0}' },
      { http: 200, body: '{"status":"200"}' },
    ]) {
      reply = bad;
      const r = await pay();
      assert.equal(r.status, 500, JSON.stringify(bad));
      assert.equal(message(r), 'Internal Server Error');
    }
  });

  it('expiry: the webhook is not asked again until then, and the state carries it', async () => {
    const expiry = Math.floor(Date.now() / 1000) + 3600;
    reply = { http: 200, body: `{"status":200,"expiry":${expiry}}` };
    const first = await pay();
    assert.equal(first.status, 200, first.text);
    assert.equal(stateOf(first).fields.AuthExpiry, expiry);
    const n = calls.length;
    reply = { http: 200, body: '{"status":403,"reason":"would refuse"}' };
    const second = await pay({ ManifestID: 'm', state: stateOf(first).state, inPixels: 0 }, {});
    assert.ok(second.status === 200 || second.status === 482, second.text);
    assert.equal(calls.length, n, 'not asked before the expiry');
    // an expired one is asked again
    reply = { http: 200, body: `{"status":200,"expiry":${Math.floor(Date.now() / 1000) - 10}}` };
    const third = await pay();
    assert.equal(third.status, 200);
    reply = { http: 200, body: '{"status":403,"reason":"refused now"}' };
    const fourth = await pay({ ManifestID: 'm', state: stateOf(third).state });
    assert.equal(fourth.status, 403);
  });

  it('maxPrice: above the orchestrator price passes, below it → 481, invalid → 502', async () => {
    reply = { http: 200, body: '{"status":200,"maxPrice":{"price":6,"currency":"wei","unit":"720p-pixel-seconds"}}' };
    assert.equal((await pay()).status, 200);
    reply = { http: 200, body: '{"status":200,"maxPrice":{"price":5,"currency":"WEI","unit":"720P-pixel-seconds"}}' };
    const over = await pay();
    assert.equal(over.status, 481, over.text);
    assert.match(message(over), /auth webhook maxPrice/);
    for (const invalid of [
      '{"price":5,"currency":"wei","unit":"seconds"}',
      '{"price":0,"currency":"wei","unit":"720p-pixel-seconds"}',
      '{"price":6,"currency":"usd","unit":"720p-pixel-seconds"}',
    ]) {
      reply = { http: 200, body: `{"status":200,"maxPrice":${invalid}}` };
      const r = await pay();
      assert.equal(r.status, 502, `${invalid}: ${r.text}`);
    }
  });

  it('auth id: the webhook’s is bound into the state; a different one later → 500; without one, Signer-Auth-Id is used', async () => {
    reply = { http: 200, body: '{"status":200,"auth_id":"acct-1"}' };
    const first = await pay();
    assert.equal(stateOf(first).fields.AuthID, 'acct-1');
    reply = { http: 200, body: '{"status":200,"auth_id":"acct-2"}' };
    const changed = await pay({ ManifestID: 'm', state: stateOf(first).state });
    assert.equal(changed.status, 500);
    reply = { http: 200, body: '{"status":200,"auth_id":"acct-1"}' };
    const same = await pay({ ManifestID: 'm', state: stateOf(first).state });
    assert.equal(same.status, 200, same.text);
    reply = { http: 200, body: '{"status":200}' };
    const viaHeader = await pay({}, { 'Signer-Auth-Id': 'proxy-user-7' });
    assert.equal(stateOf(viaHeader).fields.AuthID, 'proxy-user-7');
    const status = (await (await fetch(`${signer.controlUrl}/status`)).json()) as {
      Signer: { Accounts: { AuthID: string; Tickets: number }[]; Refusals: Record<string, number> };
    };
    assert.ok(status.Signer.Accounts.some((acc) => acc.AuthID === 'acct-1' && acc.Tickets > 0));
    assert.ok(status.Signer.Accounts.some((acc) => acc.AuthID === 'proxy-user-7'));
    assert.ok((status.Signer.Refusals['auth-id-changed'] ?? 0) >= 1);
    assert.ok((status.Signer.Refusals['webhook-refused'] ?? 0) >= 1);
    // the same as Prometheus metrics (-monitor)
    const metrics = await (await fetch(`${signer.controlUrl}/metrics`)).text();
    assert.match(metrics, /livepeer_remote_signer_tickets_signed_total\{[^}]*app=""[^}]*\} [1-9]/);
    assert.match(metrics, /livepeer_remote_signer_refusals_total\{[^}]*reason="auth-id-changed"[^}]*\} [1-9]/);
    assert.match(metrics, /livepeer_remote_signer_sessions_total\{[^}]*\} [1-9]/);
    assert.ok(!metrics.includes('hook-secret'), 'no secret in the metrics');
  });
});
