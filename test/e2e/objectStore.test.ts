// -objectStore and -recordStore end to end: a real gateway (off-chain, a devnet orchestrator) fed by HTTP
// push, writing to a real S3-protocol server (s3rver) read back with the official client. The store's
// playlists list only objects it has, with the bytes the local HLS serves; when the store dies the stream
// goes on locally, the failures are counted and stopping does not hang; the store's credentials appear in
// no log line and not in /status.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_AI_MODELS } from '../../scripts/devnet/orchestrator/ai/config.ts';
import { startOrchestrator, type RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { buildNodeConfig } from '../../src/cli/nodeConfig.ts';
import { createLogger } from '../../src/node/logger.ts';
import { startNode, type RunningNode } from '../../src/node/run.ts';
import { startLocalS3, S3_ACCESS_KEY, type LocalS3 } from '../helpers/s3.ts';
import { makeTestClip } from '../media/testMedia.ts';
import { getBytes, getText, waitUntil } from './helpers.ts';

const SECRET = 'e2eStoreSecret/4f9a+Q7';
const PROFILE = 'P144p30fps16x9';
const uris = (playlist: string): string[] => playlist.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

describe('object store end to end (-objectStore, -recordStore)', () => {
  let s3: LocalS3;
  let orch: RunningOrchestrator;
  let node: RunningNode | undefined;
  let dir: string;
  let clip: Buffer;
  let logs = '';
  let controlUrl = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lpobj-'));
    makeTestClip(join(dir, 'seg.ts'), { seconds: 1, fps: 15, gopSeconds: 1 });
    clip = await readFile(join(dir, 'seg.ts'));
    s3 = await startLocalS3();
    orch = await startOrchestrator({ logLevel: 'silent', ai: { models: DEFAULT_AI_MODELS } });
    const config = buildNodeConfig(
      new Map(
        Object.entries({
          network: 'offchain',
          orchAddr: orch.uri,
          transcodingOptions: PROFILE,
          objectStore: s3.url(SECRET, 'hls'),
          recordStore: s3.url(SECRET, 'rec'),
          rtmpAddr: '127.0.0.1:0',
          httpAddr: '127.0.0.1:0',
          cliAddr: '127.0.0.1:0',
          datadir: join(dir, 'data'),
        }),
      ),
    );
    config.objectStore!.timeoutMs = 4000;
    const sink = new Writable({
      write: (c, _e, cb) => {
        logs += c;
        cb();
      },
    });
    let printed = '';
    const out = new Writable({
      write: (c, _e, cb) => {
        printed += c;
        cb();
      },
    });
    node = await startNode(config, createLogger(6, sink, 'json'), out);
    controlUrl = /CLI server listening on (\S+)/.exec(printed)![1]!;
  });
  after(async () => {
    await node?.stop();
    await orch?.stop();
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const push = async (seq: number): Promise<number> => {
    const res = await fetch(`${node!.gateway.httpUrl}/live/cam/${seq}.ts`, { method: 'POST', body: clip, headers: { 'Content-Duration': '1000' } });
    await res.arrayBuffer();
    return res.status;
  };
  const status = async (): Promise<string> => (await getText(`${controlUrl}/status`)).text;

  it('start-up refuses store URLs it cannot write to, without the secret', () => {
    const flags = (o: Record<string, string>) => new Map(Object.entries({ network: 'offchain', ...o }));
    assert.throws(() => buildNodeConfig(flags({ objectStore: 'gs://bucket/x' })), /-objectStore .*gs:\/\/ object store is not supported/);
    assert.throws(
      () => buildNodeConfig(flags({ recordStore: `ipfs://k:${encodeURIComponent(SECRET)}@pinata.cloud` })),
      (err: Error) => {
        assert.match(err.message, /-recordStore ipfs:\/\/pinata.cloud.*not supported/);
        assert.ok(!err.message.includes(encodeURIComponent(SECRET)));
        return true;
      },
    );
    assert.throws(() => buildNodeConfig(flags({ objectStorePublicUrl: 'https://cdn.example.com' })), /needs -objectStore/);
  });

  it('segments and playlists land in the store as they are made; then the store dies and the stream goes on', async () => {
    const base = `${s3.endpoint}/live/hls`;
    for (let seq = 0; seq < 4; seq++) assert.equal(await push(seq), 200);
    const local = node!.gateway.httpUrl;
    for (const r of ['source', PROFILE]) {
      const stored = await waitUntil(
        async () => {
          const p = (await s3.get(`hls/cam/${r}.m3u8`))?.data.toString();
          return p?.includes('/3.ts') ? p : undefined;
        },
        30_000,
        `${r} playlist in the store`,
      );
      const localPlaylist = (await getText(`${local}/stream/cam/${r}.m3u8`)).text;
      const seqs = (p: string) => uris(p).map((u) => /(\d+)\.ts$/.exec(u)![1]);
      assert.deepEqual(seqs(stored), seqs(localPlaylist), `${r}: the store lists what the local HLS lists`);
      for (const uri of uris(stored)) {
        assert.ok(uri.startsWith(`${base}/cam/${r}/`), uri);
        const seq = /(\d+)\.ts$/.exec(uri)![1];
        const object = await s3.get(`hls/cam/${r}/${seq}.ts`);
        assert.ok(object, `${uri} exists`);
        assert.deepEqual(object.data, await getBytes(`${local}/stream/cam/${r}/${seq}.ts`), `${r}/${seq}: the local HLS bytes`);
      }
    }
    const master = await waitUntil(
      async () => {
        const m = (await s3.get('hls/cam.m3u8'))?.data.toString();
        return m && uris(m).length === 2 ? m : undefined;
      },
      30_000,
      'master with both variants',
    );
    assert.deepEqual(uris(master), [`${base}/cam/source.m3u8`, `${base}/cam/${PROFILE}.m3u8`]);
    // the recording has every segment so far, under its start time
    const recorded = (await s3.keys()).filter((k) => k.startsWith('rec/cam/') && k.endsWith('/source.m3u8'));
    assert.equal(recorded.length, 1);
    assert.match((await s3.get(recorded[0]!))!.data.toString(), /#EXT-X-PLAYLIST-TYPE:EVENT/);

    // an AI job's output lands in the store, and the answer points there
    const ai = await fetch(`${local}/text-to-image`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ prompt: 'a mountain at dawn', model_id: 'SG161222/RealVisXL_V4.0_Lightning' }),
    });
    assert.equal(ai.status, 200);
    const url = ((await ai.json()) as { images: { url: string }[] }).images[0]!.url;
    assert.ok(url.startsWith(`${base}/`), url);
    const output = await s3.get(url.slice(`${s3.endpoint}/live/`.length));
    assert.equal(output?.contentType, 'image/png');
    assert.deepEqual(output.data.subarray(1, 4).toString(), 'PNG');
    assert.deepEqual(await getBytes(url), output.data, 'the answer URL serves the output');

    const healthy = JSON.parse(await status()).ObjectStores;
    assert.ok(healthy.objectStore.uploaded >= 8, JSON.stringify(healthy));
    assert.equal(healthy.objectStore.uploadFailed, 0);
    assert.equal(healthy.objectStore.store, `s3+http://127.0.0.1:${s3.port}/…`);
    assert.ok(healthy.recordStore.uploaded >= 8);

    // the store goes away: pushes still answer, the local HLS still grows, the failures are counted
    await s3.stop();
    for (let seq = 4; seq < 6; seq++) assert.equal(await push(seq), 200);
    assert.match((await getText(`${local}/stream/cam/source.m3u8`)).text, /\/stream\/cam\/source\/5\.ts/);
    const failing = await waitUntil(
      async () => {
        const s = JSON.parse(await status()).ObjectStores;
        return s.objectStore.uploadFailed >= 2 && s.recordStore.uploadFailed >= 2 ? s : undefined;
      },
      30_000,
      'failed uploads counted',
    );
    assert.match(failing.objectStore.lastError, /ECONNREFUSED|no answer/);
    assert.match(logs, /object store upload failed/);

    // nothing secret anywhere: not in the log lines, not in /status
    const shown = `${logs}\n${await status()}`;
    for (const secret of [SECRET, encodeURIComponent(SECRET), `${S3_ACCESS_KEY}:`]) assert.ok(!shown.includes(secret), `"${secret}" was shown`);

    // stopping with a dead store is bounded (the writes still queued are cut off)
    const started = Date.now();
    await node!.stop();
    node = undefined;
    assert.ok(Date.now() - started < 30_000, `stopped in ${Date.now() - started} ms`);
  });
});
