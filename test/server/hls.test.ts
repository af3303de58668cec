import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTestClip } from '../media/testMedia.ts';
import { PRESETS } from '../../src/media/profiles.ts';
import { HlsStore, SEGMENTS_KEPT, createHlsRoute } from '../../src/server/hls.ts';
import { startHttpListener, type HttpListener } from '../../src/server/http.ts';
import { silentLogger } from '../../src/lib/log.ts';

const P240 = PRESETS.P240p30fps16x9!;
const P360 = PRESETS.P360p30fps16x9!;

describe('HLS over HTTP', () => {
  let clock = 1_000_000;
  const store = new HlsStore({ now: () => clock });
  let http: HttpListener;

  before(async () => {
    http = await startHttpListener({ log: silentLogger(), port: 0, routes: [createHlsRoute(store, { currentManifest: true })] });
  });
  after(() => http.close());

  const get = (path: string, init?: RequestInit) => fetch(http.url + path, init);

  function assertCommonHeaders(res: Response): void {
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('access-control-expose-headers'), 'Content-Length');
  }

  it('answers /healthz with 200 and an empty body', async () => {
    const res = await get('/healthz');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '');
  });

  it('404s the master playlist of an unknown stream and until the first segment', async () => {
    assert.equal((await get('/stream/nope.m3u8')).status, 404);
    store.openStream('movie', [P240, P360]);
    const res = await get('/stream/movie.m3u8');
    assert.equal(res.status, 404);
    assertCommonHeaders(res);
  });

  it('serves master, media playlists and segments with the right headers', async () => {
    for (let seq = 0; seq < 3; seq++) {
      clock += 2000;
      store.addSourceSegment('movie', seq, Buffer.from(`src${seq}`), 2000, { width: 1280, height: 720 });
    }
    clock += 500;
    assert.ok(store.addRendition('movie', P360.name, 0, Buffer.from('r360-0'), 2000));

    let res = await get('/stream/movie.m3u8');
    assert.equal(res.status, 200);
    assertCommonHeaders(res);
    assert.equal(res.headers.get('cache-control'), 'max-age=5');
    assert.equal(res.headers.get('content-type'), 'application/x-mpegURL');
    assert.equal(
      await res.text(),
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-STREAM-INF:BANDWIDTH=4000000,RESOLUTION=1280x720',
        'movie/source.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=1200000,RESOLUTION=640x360',
        'movie/P360p30fps16x9.m3u8',
        '',
      ].join('\n'),
      'source first; P240 has no segment yet so it is left out',
    );

    clock += 100;
    store.addRendition('movie', P240.name, 1, Buffer.from('r240-1'), 2000);
    const master = await (await get('/stream/movie.m3u8')).text();
    assert.ok(master.indexOf('P240p30fps16x9.m3u8') < master.indexOf('P360p30fps16x9.m3u8'), 'profile order, not arrival order');
    assert.equal(await (await get('/stream/current.m3u8')).text(), master);

    res = await get('/stream/movie/source.m3u8');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/x-mpegURL');
    const media = await res.text();
    assert.match(media, /#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-TARGETDURATION:2\n/);
    assert.match(media, /\n\/stream\/movie\/source\/2\.ts\n$/);

    res = await get('/stream/movie/source/1.ts');
    assert.equal(res.status, 200);
    assertCommonHeaders(res);
    assert.equal(res.headers.get('content-type'), 'video/mp2t');
    assert.equal(res.headers.get('cache-control'), 'max-age=5');
    assert.equal(res.headers.get('content-length'), '4');
    assert.equal(await res.text(), 'src1');

    res = await get('/stream/movie/P360p30fps16x9/0.ts', { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), '6');
  });

  it('404s unknown renditions and segments (not 500 as go-livepeer)', async () => {
    for (const path of [
      '/stream/movie/P720p30fps16x9.m3u8',
      '/stream/movie/source/99.ts',
      '/stream/movie/P240p30fps16x9/0.ts',
      '/stream/other/source/0.ts',
      '/stream/movie/source/1.mp4',
      '/stream/movie/source/x.ts',
      '/stream/a/b/c/d.ts',
      '/stream/',
    ]) {
      const res = await get(path);
      assert.equal(res.status, 404, path);
      assertCommonHeaders(res);
    }
    assert.equal((await get('/stream/movie.m3u8', { method: 'DELETE' })).status, 405);
    assert.equal((await get('/elsewhere')).status, 404);
  });

  it('keeps the last 12 segments and lists the last 6', async () => {
    store.openStream('long', []);
    for (let seq = 0; seq < 20; seq++) store.addSourceSegment('long', seq, Buffer.from([seq]), 2000);
    assert.equal(SEGMENTS_KEPT, 12);
    assert.equal((await get('/stream/long/source/7.ts')).status, 404);
    assert.equal((await get('/stream/long/source/8.ts')).status, 200);
    const media = await (await get('/stream/long/source.m3u8')).text();
    assert.equal(media.match(/#EXTINF/g)!.length, 6);
    assert.match(media, /#EXT-X-MEDIA-SEQUENCE:14\n/);
  });

  it('drops a stale rendition from the master playlist and brings it back with its next segment', async () => {
    store.openStream('stale', [P240]);
    clock += 2000;
    store.addSourceSegment('stale', 0, Buffer.from('s'), 2000);
    store.addRendition('stale', P240.name, 0, Buffer.from('r'), 2000);
    for (let seq = 1; seq <= 4; seq++) {
      clock += 2000;
      store.addSourceSegment('stale', seq, Buffer.from('s'), 2000);
    }
    assert.doesNotMatch(await (await get('/stream/stale.m3u8')).text(), /P240/);
    assert.equal((await get('/stream/stale/P240p30fps16x9.m3u8')).status, 200, 'its media playlist still answers');
    store.addRendition('stale', P240.name, 4, Buffer.from('r'), 2000);
    assert.match(await (await get('/stream/stale.m3u8')).text(), /P240/);
  });

  it('returns 404 for everything once the stream ended', async () => {
    store.endStream('movie');
    for (const path of ['/stream/movie.m3u8', '/stream/movie/source.m3u8', '/stream/movie/source/1.ts']) {
      assert.equal((await get(path)).status, 404, path);
    }
    assert.equal(store.addRendition('movie', P240.name, 5, Buffer.from('late'), 2000), false, 'late renditions are dropped');
  });

  it('lists MP4 push segments without serving them', async () => {
    store.addSourceSegment('mp4', 0, Buffer.from('x'), 2000, undefined, { format: 'mp4' });
    assert.match(await (await get('/stream/mp4/source.m3u8')).text(), /\/stream\/mp4\/source\/0\.mp4\n/);
    assert.equal((await get('/stream/mp4/source/0.ts')).status, 404);
  });

  it("names the codecs of an MP4 push's segments in the master playlist", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hls-mp4-'));
    try {
      const clip = join(dir, 'clip.mp4');
      makeTestClip(clip, { seconds: 1 });
      store.openStream('mp4codecs', []);
      store.addSourceSegment('mp4codecs', 0, readFileSync(clip), 1000, { width: 320, height: 240 }, { format: 'mp4' });
      assert.match(await (await get('/stream/mp4codecs.m3u8')).text(), /CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('HLS bytes per stream are capped', () => {
  it('the oldest segments of a stream go first once its bytes pass the cap; other streams keep theirs', () => {
    const MiB = 1024 * 1024;
    const store = new HlsStore({ maxBytesPerStream: 10 * MiB });
    const p240 = P240;
    store.openStream('big', [p240]);
    store.openStream('small', [p240]);
    store.addSourceSegment('small', 0, Buffer.alloc(1000), 2000);
    for (let seq = 0; seq < 6; seq++) {
      store.addSourceSegment('big', seq, Buffer.alloc(3 * MiB), 2000);
      store.addRendition('big', p240.name, seq, Buffer.alloc(MiB), 2000);
    }
    const kept = (r: string) => [0, 1, 2, 3, 4, 5].filter((seq) => store.segment('big', r, seq) !== undefined);
    const bytes = kept('source').length * 3 * MiB + kept(p240.name).length * MiB;
    assert.ok(bytes <= 10 * MiB, `kept ${bytes} bytes`);
    assert.ok(kept('source').includes(5) && kept(p240.name).includes(5), 'the newest segments stay');
    assert.ok(!kept('source').includes(0), 'the oldest went first');
    assert.equal(store.segment('small', 'source', 0)?.length, 1000);
  });
});
