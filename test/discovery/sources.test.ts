import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { staticSource, webhookSource } from '../../src/discovery/sources.ts';

describe('candidate sources', () => {
  let server: Server;
  let url: string;
  let body = '[]';
  let status = 200;
  let hits = 0;
  before(async () => {
    server = createServer((_req, res) => {
      hits++;
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orchs`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('-orchAddr entries are trusted and normalised', async () => {
    assert.deepEqual(await staticSource('a:1,b').candidates(), [
      { uri: 'https://a:1', score: 1 },
      { uri: 'https://b:8935', score: 1 },
    ]);
  });

  it('webhook: parses the list, caches it, keeps the last good list on errors', async () => {
    let clock = 0;
    const errors: string[] = [];
    const src = webhookSource({ url, now: () => clock, onError: (e) => errors.push(e.message) });
    body = JSON.stringify([{ address: 'https://o1:8935', score: 1 }, { address: 'o2' }, { address: 42 }, { nope: 1 }]);
    assert.deepEqual(await src.candidates(), [
      { uri: 'https://o1:8935', score: 1 },
      { uri: 'https://o2:8935', score: 0 },
    ]);
    const before = hits;
    clock += 30_000;
    await src.candidates();
    assert.equal(hits, before, 'cached for a minute');
    clock += 31_000;
    status = 500;
    assert.equal((await src.candidates()).length, 2, 'a failing webhook keeps the last list');
    status = 200;
    body = 'not json';
    clock += 61_000;
    assert.equal((await src.candidates()).length, 2);
    assert.equal(errors.length, 2);
    assert.match(errors[0]!, /answered 500/);
  });
});
