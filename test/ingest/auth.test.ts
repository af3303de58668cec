import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { authorizeStream, callAuthWebhook, parseAuthResponse, resolveStreamProfiles } from '../../src/ingest/auth.ts';
import { PRESETS } from '../../src/media/profiles.ts';

type Reply = (req: IncomingMessage, body: string, res: ServerResponse) => void;

describe('auth webhook against a real HTTP server', () => {
  let server: Server;
  let base = '';
  const replies = new Map<string, Reply>();
  const seen: Array<{ path: string; contentType: string | undefined; body: unknown }> = [];

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ path: req.url!, contentType: req.headers['content-type'], body: JSON.parse(body) });
        const reply = replies.get(req.url!);
        if (reply) reply(req, body, res);
        else res.writeHead(404).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    replies.set('/empty', (_q, _b, res) => res.writeHead(200).end());
    replies.set('/json', (_q, _b, res) =>
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(
        JSON.stringify({
          manifestID: 'internal',
          streamKey: 'k3y',
          streamID: 'ext-1',
          presets: ['P144p30fps16x9', 'bogus'],
          profiles: [{ name: 'custom', width: 320, height: 180, bitrate: 250000, gop: '1' }],
          verificationFreq: 3,
        }),
      ),
    );
    replies.set('/deny', (_q, _b, res) => res.writeHead(403).end('nope'));
    replies.set('/nomid', (_q, _b, res) => res.writeHead(200).end(JSON.stringify({ streamKey: 'x' })));
    replies.set('/badjson', (_q, _b, res) => res.writeHead(200).end('{"manifestID":'));
    replies.set('/badprofile', (_q, _b, res) => res.writeHead(200).end(JSON.stringify({ manifestID: 'm', profiles: [{ width: 1, height: 1, gop: 2 }] })));
    replies.set('/sourceonly', (_q, _b, res) => res.writeHead(200).end(JSON.stringify({ manifestID: 'm', profiles: [] })));
    replies.set('/slow', () => {
      // never answers
    });
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const defaults = [PRESETS.P240p30fps16x9!, PRESETS.P360p30fps16x9!];

  it('accepts on 200 with an empty body and takes the IDs from the URL', async () => {
    const url = 'rtmp://127.0.0.1:1935/live/movie/secret?token=abc';
    const r = await authorizeStream({ webhookUrl: `${base}/empty`, incomingUrl: url, defaultProfiles: defaults });
    assert.equal(r.accepted, true);
    assert.ok(r.accepted);
    assert.equal(r.manifestId, 'movie');
    assert.equal(r.streamKey, 'secret');
    assert.deepEqual(
      r.profiles.map((p) => p.name),
      ['P240p30fps16x9', 'P360p30fps16x9'],
    );
    assert.equal(r.response, null);
    const req = seen.at(-1)!;
    assert.equal(req.contentType, 'application/json');
    assert.deepEqual(req.body, { url }, 'the URL goes out as sent, query included');
  });

  it('accepts JSON with manifestID and profiles, which replace the URL IDs and defaults', async () => {
    const r = await authorizeStream({ webhookUrl: `${base}/json`, incomingUrl: 'rtmp://h/movie', defaultProfiles: defaults });
    assert.ok(r.accepted);
    assert.equal(r.manifestId, 'internal');
    assert.equal(r.streamKey, 'k3y');
    assert.equal(r.externalStreamId, 'ext-1');
    assert.equal(r.verificationFreq, 3);
    assert.deepEqual(
      r.profiles.map((p) => [p.name, p.gopMs]),
      [
        ['P144p30fps16x9', 0],
        ['custom', 1000],
      ],
      'presets first (unknown dropped), then custom profiles',
    );
  });

  it('refuses on a non-200 status with the status in the reason', async () => {
    const r = await authorizeStream({ webhookUrl: `${base}/deny`, incomingUrl: 'rtmp://h/movie', defaultProfiles: defaults });
    assert.equal(r.accepted, false);
    assert.ok(!r.accepted);
    assert.equal(r.status, 403);
    assert.match(r.reason, /status=403/);
  });

  it('refuses JSON without manifestID, and malformed JSON', async () => {
    const a = await callAuthWebhook(`${base}/nomid`, 'rtmp://h/movie');
    assert.equal(a.accepted, false);
    assert.ok(!a.accepted);
    assert.match(a.reason, /empty manifestID/);
    const b = await callAuthWebhook(`${base}/badjson`, 'rtmp://h/movie');
    assert.ok(!b.accepted);
    assert.match(b.reason, /not valid JSON/);
  });

  it('refuses (500) an answer with unusable profiles, and honours an explicit empty list', async () => {
    const bad = await authorizeStream({ webhookUrl: `${base}/badprofile`, incomingUrl: 'rtmp://h/m', defaultProfiles: defaults });
    assert.ok(!bad.accepted);
    assert.equal(bad.status, 500);
    assert.match(bad.reason, /gop/);
    const none = await authorizeStream({ webhookUrl: `${base}/sourceonly`, incomingUrl: 'rtmp://h/m', defaultProfiles: defaults });
    assert.ok(none.accepted);
    assert.deepEqual(none.profiles, [], 'profiles: [] means source only');
  });

  it('gives up after the timeout (go-livepeer waits forever) and when nobody listens', async () => {
    const t0 = Date.now();
    const r = await callAuthWebhook(`${base}/slow`, 'rtmp://h/m', { timeoutMs: 300 });
    assert.ok(!r.accepted);
    assert.match(r.reason, /no answer within 300 ms/);
    assert.ok(Date.now() - t0 < 3000);
    const down = await callAuthWebhook('http://127.0.0.1:1/', 'rtmp://h/m');
    assert.ok(!down.accepted);
    assert.match(down.reason, /unreachable/);
  });

  it('lets the push header override the webhook, and refuses when their profiles differ', async () => {
    const header = parseAuthResponse(JSON.stringify({ manifestID: 'fromheader', presets: ['P720p30fps16x9'] }));
    const ok = await authorizeStream({
      webhookUrl: `${base}/empty`,
      incomingUrl: 'http://h/live/a/0.ts',
      transcodeConfiguration: header,
      defaultProfiles: defaults,
      format: 'mp4',
    });
    assert.ok(ok.accepted);
    assert.equal(ok.manifestId, 'fromheader');
    assert.deepEqual(
      ok.profiles.map((p) => [p.name, p.format]),
      [['P720p30fps16x9', 'mp4']],
    );
    const clash = await authorizeStream({
      webhookUrl: `${base}/json`,
      incomingUrl: 'http://h/live/a/0.ts',
      transcodeConfiguration: parseAuthResponse(JSON.stringify({ profiles: [{ name: 'x', width: 2, height: 2 }] })),
      defaultProfiles: defaults,
    });
    assert.ok(!clash.accepted);
    assert.equal(clash.status, 500);
  });

  it('works without a webhook: URL IDs and default profiles', async () => {
    const r = await authorizeStream({ incomingUrl: 'http://h/live/abc/7.ts', defaultProfiles: defaults });
    assert.ok(r.accepted);
    assert.equal(r.manifestId, 'abc');
    assert.equal(r.profiles.length, 2);
  });

  it('decodes answers strictly', () => {
    assert.throws(() => parseAuthResponse('[]'), /JSON object/);
    assert.throws(() => parseAuthResponse('{"presets":"P240p30fps16x9"}'), /presets/);
    assert.throws(() => parseAuthResponse('{"profiles":{}}'), /profiles/);
    assert.equal(parseAuthResponse('{"manifestID":"m","profiles":null}').profiles, null);
    assert.deepEqual(
      resolveStreamProfiles(parseAuthResponse('{"manifestID":"m"}'), defaults).map((p) => p.name),
      ['P240p30fps16x9', 'P360p30fps16x9'],
      'neither presets nor profiles: defaults',
    );
  });
});
