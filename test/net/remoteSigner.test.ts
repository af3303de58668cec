// The keyless gateway's signer client against a hostile or broken signer (a real HTTP server): bad
// identities, answers without the fields a payment needs, oversized bodies, and each status it must
// tell apart (480 with its header, 481, bare and extended 482, errors with go-livepeer's JSON).
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { RemoteSignerClient, RemoteSignerError } from '../../src/net/remoteSigner.ts';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

describe('remote signer client against a hostile signer', () => {
  let server: Server;
  let handler: Handler = (_q, _b, res) => res.end();
  let client: RemoteSignerClient;
  const seen: { path: string; headers: IncomingMessage['headers']; body: string }[] = [];
  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        seen.push({ path: req.url ?? '', headers: req.headers, body });
        handler(req, body, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    client = new RemoteSignerClient({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      headers: { Authorization: 'Bearer t' },
      paymentTimeoutMs: 2000,
    });
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const reply =
    (status: number, body: string, headers: Record<string, string> = {}): Handler =>
    (_q, _b, res) => {
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(body);
    };
  const call = () => client.livePayment({ orchestrator: new Uint8Array([1, 2, 3]), type: '', inPixels: 12n, manifestId: '27_m', spendCredit: true });

  it('identity: anything but a 0x40-hex address and a 0x130-hex signature is refused, and not cached', async () => {
    for (const body of ['{}', '{"address":"0x12","signature":"0x00"}', 'nonsense', `{"address":"0x${'a'.repeat(40)}","signature":"0x${'b'.repeat(128)}"}`]) {
      handler = reply(200, body);
      await assert.rejects(client.orchestratorIdentity(), RemoteSignerError, body);
    }
    handler = reply(500, '{"error":{"message":"Internal Server Error"}}');
    await assert.rejects(client.orchestratorIdentity(), /500 Internal Server Error/);
    handler = reply(200, `{"address":"0x${'a'.repeat(40)}","signature":"0x${'b'.repeat(130)}"}`);
    const id = await client.orchestratorIdentity();
    assert.equal(id.address, `0x${'a'.repeat(40)}`);
    const n = seen.length;
    await client.orchestratorIdentity();
    assert.equal(seen.length, n, 'asked once, then cached');
    assert.equal(seen.at(-1)!.headers.authorization, 'Bearer t');
    assert.equal(seen.at(-1)!.body, '{}');
  });

  it('sends the request with Go field names, padded base64, a JSON integer for inPixels and our extension flag', async () => {
    handler = reply(200, '{"payment":"AA==","segCreds":"","state":{"State":"e30=","Sig":"AA=="}}');
    const r = await call();
    assert.equal(r.kind, 'paid');
    assert.deepEqual(JSON.parse(seen.at(-1)!.body), { orchestrator: 'AQID', type: '', inPixels: 12, ManifestID: '27_m', spendCredit: true });
  });

  it('a 200 without a non-empty payment, a string segCreds and a state object is refused', async () => {
    for (const body of [
      '{"payment":"","segCreds":"","state":{"State":"","Sig":""}}',
      '{"payment":"AA==","state":{"State":"","Sig":""}}',
      '{"payment":"AA==","segCreds":"","state":"e30="}',
      '{"payment":"not base64!","segCreds":"","state":{"State":"","Sig":""}}',
      '[]',
      'garbage',
    ]) {
      handler = reply(200, body);
      await assert.rejects(call(), (err: unknown) => err instanceof RemoteSignerError && err.status === 502, body);
    }
  });

  it('480 brings the orchestrator URL; 481 the message; a bare 482 means nothing to pay; an extended 482 carries credentials', async () => {
    handler = reply(480, '{"error":{"message":"refresh session for remote signer: ticket params expired"}}', {
      'Livepeer-Orchestrator-URL': 'https://o.example:8935',
    });
    assert.deepEqual(await call(), {
      kind: 'refresh',
      orchestratorUrl: 'https://o.example:8935',
      message: 'refresh session for remote signer: ticket params expired',
    });
    handler = reply(481, '{"error":{"message":"price too high"}}');
    assert.deepEqual(await call(), { kind: 'price', message: 'price too high' });
    handler = reply(482, '{"error":{"message":"no tickets"}}');
    assert.deepEqual(await call(), { kind: 'no-tickets' });
    handler = reply(482, '{"error":{"message":"no tickets"},"payment":"AA==","segCreds":"AQ==","state":{"State":"e30=","Sig":"AA=="}}');
    const ext = await call();
    assert.equal(ext.kind, 'paid');
    assert.equal(ext.kind === 'paid' && ext.tickets, false);
  });

  it('other statuses throw with the signer’s message; a huge or endless answer is cut off', async () => {
    handler = reply(403, '{"error":{"message":"quota exhausted"}}');
    await assert.rejects(call(), (err: unknown) => err instanceof RemoteSignerError && err.status === 403 && /quota exhausted/.test(err.message));
    handler = (_q, _b, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(`{"payment":"${'A'.repeat(2 * 1024 * 1024)}"}`);
    };
    await assert.rejects(call());
    handler = (_q, _b, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"payment":');
      // never ends: the client's timeout must
    };
    await assert.rejects(call());
  });
});
