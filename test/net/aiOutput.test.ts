import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { checkOutputOrigin, decodeDataUrl, fetchOutput } from '../../src/net/aiOutput.ts';
import { AiMediaStore, safeFileName } from '../../src/ai/mediaStore.ts';

describe('AI output URLs from orchestrators', () => {
  const origins = ['https://10.0.0.5:8935'];

  it("only the orchestrator's own origin is fetched", () => {
    assert.equal(checkOutputOrigin('https://10.0.0.5:8935/stream/a/b.png', origins).pathname, '/stream/a/b.png');
    assert.equal(checkOutputOrigin('/stream/a/b.png', origins).origin, 'https://10.0.0.5:8935');
    for (const bad of [
      'https://127.0.0.1:8935/stream/a/b.png',
      'https://10.0.0.5:9999/x',
      'http://10.0.0.5:8935/x',
      'https://169.254.169.254/latest/meta-data',
      'file:///etc/passwd',
      'https://user:pw@10.0.0.5:8935/x',
      'gopher://10.0.0.5:8935/x',
    ]) {
      assert.throws(() => checkOutputOrigin(bad, origins), /refused|scheme|credentials/, bad);
    }
  });

  it('data: URLs are decoded within the size cap, refused past it before decoding', () => {
    const png = Buffer.from('89504e470d0a1a0a', 'hex');
    const d = decodeDataUrl(`data:image/png;base64,${png.toString('base64')}`, 100);
    assert.deepEqual(d.data, png);
    assert.equal(d.contentType, 'image/png');
    assert.throws(() => decodeDataUrl(`data:image/png;base64,${'A'.repeat(10_000)}`, 100), /larger than 100/);
    assert.throws(() => decodeDataUrl('data:nonsense', 100), /malformed/);
    assert.throws(() => decodeDataUrl('data:image/png;base64,', 100), /empty/);
    assert.throws(() => decodeDataUrl('data:text/plain,%E0%A4%A', 100), /malformed/);
  });

  it('downloads: 200 only, bounded in size and time, no redirects followed', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/ok.png') return res.end(Buffer.alloc(10, 1));
      if (req.url === '/big') return res.end(Buffer.alloc(5000));
      if (req.url === '/redirect') {
        res.writeHead(302, { Location: 'http://127.0.0.1:1/elsewhere' });
        return res.end();
      }
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 3000);
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const o = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const ok = await fetchOutput(`${o}/ok.png`, { origins: [o], maxBytes: 100 });
      assert.equal(ok.data.length, 10);
      assert.equal(ok.fileName, 'ok.png');
      await assert.rejects(fetchOutput(`${o}/big`, { origins: [o], maxBytes: 100 }), /larger than 100/);
      await assert.rejects(fetchOutput(`${o}/redirect`, { origins: [o], maxBytes: 100 }), /answered 302/);
      await assert.rejects(fetchOutput(`${o}/missing`, { origins: [o], maxBytes: 100 }), /answered 404/);
      await assert.rejects(fetchOutput(`${o}/slow`, { origins: [o], maxBytes: 100, timeoutMs: 200 }), /timed out/);
      await assert.rejects(fetchOutput('', { origins: [o], maxBytes: 100 }), /empty output URL/);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('re-hosted media store', () => {
  it('keeps the newest files per request, stays within its byte budget and forgets old files', () => {
    let now = 0;
    const store = new AiMediaStore({ maxBytes: 1000, maxAgeMs: 60_000, perRequest: 2, now: () => now });
    store.put('aaaaaaaa', 'a.png', Buffer.alloc(100));
    store.put('aaaaaaaa', 'b.png', Buffer.alloc(100));
    store.put('aaaaaaaa', 'c.png', Buffer.alloc(100));
    assert.equal(store.get('aaaaaaaa', 'a.png'), undefined);
    assert.equal(store.get('aaaaaaaa', 'c.png')?.contentType, 'image/png');
    store.put('bbbbbbbb', 'x.wav', Buffer.alloc(900));
    assert.equal(store.get('aaaaaaaa', 'c.png'), undefined, 'the oldest request went to make room');
    assert.ok(store.size.bytes <= 1000);
    now += 61_000;
    assert.equal(store.get('bbbbbbbb', 'x.wav'), undefined);
    assert.throws(() => store.put('cccccccc', 'huge.mp4', Buffer.alloc(2000)));
  });

  it('file names from orchestrators are used only when plain', () => {
    assert.equal(safeFileName('abc123.png', 'png'), 'abc123.png');
    for (const bad of ['../etc/passwd', '.hidden', 'a b.png', 'x'.repeat(200), '%2e%2e']) assert.match(safeFileName(bad, 'png'), /^[0-9a-f]{8}\.png$/);
  });
});
