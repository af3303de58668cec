// The object store's URL forms (go-livepeer's), and writes to a real S3-protocol server (s3rver) with the
// official client: what lands, what a dead or hanging store costs (bounded, counted, never thrown).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AiMediaStore } from '../../src/ai/mediaStore.ts';
import { ObjectStore } from '../../src/store/objectStore.ts';
import { ObjectStoreConfigError, parseObjectStoreUrl, parsePublicBaseUrl } from '../../src/store/objectStoreUrl.ts';
import { captureLog } from '../helpers/logCapture.ts';
import { startLocalS3, startSilentServer, type LocalS3 } from '../helpers/s3.ts';

const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYzz9secret';
const ENCODED = encodeURIComponent(SECRET);

describe('object store URL (-objectStore, -recordStore)', () => {
  it("reads go-livepeer's S3 forms", () => {
    const aws = parseObjectStoreUrl(`s3://AKIAEXAMPLE:${encodeURIComponent(SECRET)}@eu-west-1/my-bucket/live/hls`);
    assert.equal(aws.endpoint, undefined);
    assert.equal(aws.region, 'eu-west-1');
    assert.equal(aws.bucket, 'my-bucket');
    assert.equal(aws.keyPrefix, 'live/hls');
    assert.equal(aws.accessKeyId, 'AKIAEXAMPLE');
    assert.equal(aws.secretAccessKey, SECRET, 'percent-encoded / and + in the secret are decoded');
    assert.equal(aws.storeUrl, 'https://my-bucket.s3.eu-west-1.amazonaws.com');
    assert.equal(aws.label, 's3://eu-west-1/…');

    const custom = parseObjectStoreUrl('s3+https://key:secret@s3.fr-par.scw.cloud:8443/media');
    assert.equal(custom.endpoint, 'https://s3.fr-par.scw.cloud:8443');
    assert.equal(custom.region, 'fr-par', 'the region named in the host, as go-livepeer derives it');
    assert.equal(custom.keyPrefix, '');
    assert.equal(custom.storeUrl, 'https://s3.fr-par.scw.cloud:8443/media');

    const local = parseObjectStoreUrl('s3+http://minio:minio123@127.0.0.1:9000/live/');
    assert.equal(local.endpoint, 'http://127.0.0.1:9000');
    assert.equal(local.region, 'us-east-1');
    assert.equal(local.storeUrl, 'http://127.0.0.1:9000/live');
  });

  it('refuses the forms it cannot write to, naming the flag and never the secret', () => {
    const refused: [string, RegExp][] = [
      ['gs://bucket/path', /gs:\/\/ object store is not supported/],
      ['ipfs://key:secret@pinata.cloud', /ipfs:\/\/ object store is not supported/],
      ['w3s://proof@pub/path', /w3s:\/\/ object store is not supported/],
      ['file:///var/lp', /file:\/\/ object store is not supported/],
      ['/var/lpdata/objects', /not a URL/],
      ['s3://us-east-1/bucket', /access key and secret are required/],
      [`s3://key:${SECRET}@us-east-1/bucket`, /not a URL.*percent-encoded/],
      [`s3://key:${ENCODED}@not-a-region/bucket`, /names an AWS region/],
      [`s3+http://key:${ENCODED}@127.0.0.1:9000`, /must start with a bucket name/],
      [`s3+http://key:${ENCODED}@127.0.0.1:9000/UPPER`, /must start with a bucket name/],
      [`s3+http://key:${ENCODED}@127.0.0.1:9000/b-1/a%2F..`, /key prefix/],
      [`s3+http://key:${ENCODED}@127.0.0.1:9000/bucket?region=x`, /query or fragment/],
    ];
    for (const [url, message] of refused) {
      assert.throws(
        () => parseObjectStoreUrl(url, 'recordStore'),
        (err: Error) => {
          assert.ok(err instanceof ObjectStoreConfigError, url);
          assert.match(err.message, message, url);
          assert.match(err.message, /-recordStore/);
          assert.ok(!err.message.includes(SECRET) && !err.message.includes(ENCODED) && !err.message.includes('secret@'), `no secret in: ${err.message}`);
          return true;
        },
      );
    }
  });

  it('takes a public base URL for playlists and answers, without credentials', () => {
    assert.equal(parsePublicBaseUrl('https://cdn.example.com/live/'), 'https://cdn.example.com/live');
    assert.throws(() => parsePublicBaseUrl('https://user:pw@cdn.example.com'), /may not hold credentials/);
    assert.throws(() => parsePublicBaseUrl('ftp://cdn.example.com'), /http/);
  });
});

describe('object store writes (s3rver, @aws-sdk/client-s3)', () => {
  let s3: LocalS3;
  before(async () => {
    s3 = await startLocalS3();
  });
  after(async () => {
    await s3?.close();
  });

  it('writes and deletes objects under the key prefix; URLs point at the store or the CDN', async () => {
    const { log } = captureLog();
    const store = new ObjectStore(parseObjectStoreUrl(s3.url(SECRET, 'pre/fix')), log);
    try {
      assert.equal(await store.put('a/1.ts', Buffer.from('segment'), 'video/mp2t', 'max-age=60'), true);
      const o = await s3.get('pre/fix/a/1.ts');
      assert.equal(o?.data.toString(), 'segment');
      assert.equal(o?.contentType, 'video/mp2t');
      assert.equal(o?.cacheControl, 'max-age=60');
      assert.equal(store.url('a/1.ts'), `${s3.endpoint}/live/pre/fix/a/1.ts`);
      assert.equal((await fetch(store.url('a/1.ts')).then((r) => r.text())) as string, 'segment', 'readable at its URL');
      assert.equal(await store.delete('a/1.ts'), true);
      assert.equal(await s3.get('pre/fix/a/1.ts'), undefined);
      assert.deepEqual(
        { ...store.stats(), lastError: undefined },
        {
          store: `s3+http://127.0.0.1:${s3.port}/…`,
          publicUrl: `${s3.endpoint}/live`,
          uploaded: 1,
          uploadFailed: 0,
          deleted: 1,
          deleteFailed: 0,
          skipped: 0,
          lastError: undefined,
        },
      );
    } finally {
      store.close();
    }
    const cdn = new ObjectStore(parseObjectStoreUrl(s3.url(SECRET, 'p')), log, { publicUrl: 'https://cdn.example.com/x' });
    assert.equal(cdn.url('m/source.m3u8'), 'https://cdn.example.com/x/p/m/source.m3u8');
    cdn.close();
  });

  it('AI outputs: written to the store and answered with its URL; the local path when the store fails', async () => {
    const { log } = captureLog();
    const store = new ObjectStore(parseObjectStoreUrl(s3.url(SECRET)), log, { timeoutMs: 5000 });
    const mirror = { publish: async (path: string, data: Buffer, type: string) => ((await store.put(path, data, type)) ? store.url(path) : undefined) };
    const media = new AiMediaStore({ mirror });
    const png = Buffer.from('89504e470d0a1a0a', 'hex');
    const url = await media.publish('0a1b2c3d', 'out.png', png, 'image/png');
    assert.equal(url, `${s3.endpoint}/live/0a1b2c3d/out.png`);
    assert.deepEqual((await s3.get('0a1b2c3d/out.png'))?.data, png);
    assert.equal((await s3.get('0a1b2c3d/out.png'))?.contentType, 'image/png');
    assert.deepEqual(media.get('0a1b2c3d', 'out.png')?.data, png, 'the local copy stays');
    store.close(); // a closed store writes nothing: the answer falls back to the gateway's own URL
    assert.equal(await media.publish('0a1b2c3d', 'two.png', png, 'image/png'), '/stream/0a1b2c3d/two.png');
  });

  it('a store that is down: the write answers false at once, counted and logged without the secret', async () => {
    const down = await startLocalS3();
    const url = down.url(SECRET);
    await down.close();
    const { log, text } = captureLog();
    const store = new ObjectStore(parseObjectStoreUrl(url), log, { timeoutMs: 10_000 });
    try {
      assert.equal(await store.put('m/source/0.ts', Buffer.from('x'), 'video/mp2t'), false);
      assert.equal(await store.delete('m/source/0.ts'), false);
      const stats = store.stats();
      assert.equal(stats.uploadFailed, 1);
      assert.equal(stats.deleteFailed, 1);
      assert.match(stats.lastError ?? '', /ECONNREFUSED/);
      assert.match(text(), /object store upload failed/);
      for (const shown of [text(), JSON.stringify(stats)]) {
        assert.ok(!shown.includes(SECRET) && !shown.includes(encodeURIComponent(SECRET)), 'no secret');
      }
    } finally {
      store.close();
    }
  });

  it('a store that never answers: every write ends at its timeout, and the queue behind it is bounded', async () => {
    const silent = await startSilentServer();
    const { log } = captureLog();
    const store = new ObjectStore(parseObjectStoreUrl(`s3+http://${'S3RVER'}:${encodeURIComponent(SECRET)}@127.0.0.1:${silent.port}/live`), log, {
      timeoutMs: 1500,
      maxConcurrent: 2,
      maxWaiting: 2,
    });
    try {
      // 2 in flight, 2 waiting, the other 4 refused at once
      const writes = Array.from({ length: 8 }, (_, i) => store.put(`k/${i}.ts`, Buffer.from('x'), 'video/mp2t'));
      assert.deepEqual(await Promise.all(writes), Array(8).fill(false));
      const stats = store.stats();
      assert.equal(stats.skipped, 4);
      assert.equal(stats.uploadFailed, 4);
      assert.match(stats.lastError ?? '', /no answer within 1.5 s/);
      // close cuts off what is running: nothing waits for the timeout
      const hanging = store.put('k/late.ts', Buffer.from('x'), 'video/mp2t');
      store.close();
      assert.equal(await hanging, false);
    } finally {
      store.close();
      await silent.close();
    }
  });
});
