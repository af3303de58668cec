// Live HLS copied to a real S3-protocol server (s3rver) as it is produced: segments before the playlists
// that list them, the window's old segments deleted, #EXT-X-ENDLIST at the end; a store that is down or
// hangs costs the local HLS nothing, and is counted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/lib/log.ts';
import { PLAYLIST_WINDOW } from '../../src/media/playlist.ts';
import { parseTranscodingOptions } from '../../src/media/profiles.ts';
import { HlsMirror } from '../../src/node/hlsMirror.ts';
import { HlsStore, SEGMENTS_KEPT } from '../../src/server/hls.ts';
import { ObjectStore, type ObjectStoreOptions } from '../../src/store/objectStore.ts';
import { parseObjectStoreUrl } from '../../src/store/objectStoreUrl.ts';
import { startLocalS3, startSilentServer, type LocalS3 } from '../helpers/s3.ts';

const SECRET = 'mirror-secret-0123456789';

/** The real store, remembering the order in which objects landed. */
class RecordingStore extends ObjectStore {
  readonly landed: { key: string; body: string }[] = [];
  override async put(key: string, body: Buffer | string, contentType: string, cacheControl?: string): Promise<boolean> {
    const ok = await super.put(key, body, contentType, cacheControl);
    if (ok) this.landed.push({ key, body: body.toString() });
    return ok;
  }
}

const segment = (rendition: string, seq: number): Buffer => Buffer.from(`${rendition}-${seq}-`.repeat(50));
const uris = (playlist: string): string[] => playlist.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

function setUp(url: string, opts: ObjectStoreOptions = {}, mirrorOpts: { record?: boolean; now?: () => number } = {}) {
  const hls = new HlsStore();
  const store = new RecordingStore(parseObjectStoreUrl(url), silentLogger(), opts);
  const mirror = new HlsMirror(hls, store, silentLogger(), mirrorOpts);
  hls.observe(mirror);
  return { hls, store, mirror };
}

describe('HLS mirror to the object store (s3rver)', () => {
  let s3: LocalS3;
  const profiles = parseTranscodingOptions('P144p30fps16x9');
  const rendition = profiles[0]!.name;
  before(async () => {
    s3 = await startLocalS3();
  });
  after(async () => {
    await s3?.close();
  });

  it('writes segments, media and master playlists under <prefix>/<mid>/, playlists listing only what the store has', async () => {
    const { hls, store, mirror } = setUp(s3.url(SECRET, 'hls'));
    const base = `${s3.endpoint}/live/hls`;
    hls.openStream('cam', profiles);
    const total = SEGMENTS_KEPT + 3;
    for (let seq = 0; seq < total; seq++) {
      hls.addSourceSegment('cam', seq, segment('source', seq), 2000, { width: 320, height: 180 });
      hls.addRendition('cam', rendition, seq, segment(rendition, seq), 2000);
      // live pace: the next segment comes after this one is written (a burst beyond MIRROR_MAX_PENDING is skipped)
      await mirror.idle();
    }
    await mirror.idle();
    const keys = await s3.keys();
    for (const r of ['source', rendition]) {
      // the store keeps what the local HLS keeps: the last SEGMENTS_KEPT; older ones were deleted
      const kept = keys.filter((k) => k.startsWith(`hls/cam/${r}/`));
      assert.deepEqual(kept.sort(), Array.from({ length: SEGMENTS_KEPT }, (_, i) => `hls/cam/${r}/${total - SEGMENTS_KEPT + i}.ts`).sort());
      const playlist = (await s3.get(`hls/cam/${r}.m3u8`))!;
      assert.equal(playlist.contentType, 'application/vnd.apple.mpegurl');
      assert.equal(playlist.cacheControl, 'max-age=1');
      const listed = uris(playlist.data.toString());
      assert.equal(listed.length, PLAYLIST_WINDOW);
      for (const uri of listed) {
        assert.ok(uri.startsWith(`${base}/cam/${r}/`), uri);
        const seq = Number(/(\d+)\.ts$/.exec(uri)![1]);
        const key = uri.slice(`${s3.endpoint}/live/`.length);
        assert.deepEqual((await s3.get(key))?.data, hls.segment('cam', r, seq), `${key}: the bytes of the local HLS`);
        assert.equal((await s3.get(key))?.contentType, 'video/mp2t');
      }
      assert.match(playlist.data.toString(), new RegExp(`#EXT-X-MEDIA-SEQUENCE:${total - PLAYLIST_WINDOW}`));
    }
    const master = (await s3.get('hls/cam.m3u8'))!.data.toString();
    assert.deepEqual(uris(master), [`${base}/cam/source.m3u8`, `${base}/cam/${rendition}.m3u8`]);
    assert.match(master, /RESOLUTION=320x180/);
    // every playlist that landed lists only segments (or playlists) that had landed before it
    const seen = new Set<string>();
    for (const { key, body } of store.landed) {
      if (key.endsWith('.m3u8')) {
        for (const uri of uris(body)) assert.ok(seen.has(uri.slice(`${base}/`.length)), `${key} lists ${uri} before it landed`);
      }
      seen.add(key);
    }
    assert.equal(store.stats().uploadFailed, 0);
    assert.equal(store.stats().deleted, 2 * (total - SEGMENTS_KEPT));

    // the stream ends: its playlists say so; a new stream of the same ID starts its own playlist after that
    hls.endStream('cam');
    hls.openStream('cam', profiles);
    hls.addSourceSegment('cam', 0, segment('again', 0), 2000);
    await mirror.idle();
    const ended = store.landed.filter((l) => l.key === 'cam/source.m3u8');
    assert.match(ended.at(-2)!.body, /#EXT-X-ENDLIST\n$/);
    const restarted = (await s3.get('hls/cam/source.m3u8'))!.data.toString();
    assert.deepEqual(uris(restarted), [`${base}/cam/source/0.ts`]);
    assert.equal((await s3.get('hls/cam/source/0.ts'))?.data.toString(), segment('again', 0).toString());
    store.close();
  });

  it('-recordStore: every segment kept under the run start time, an EVENT playlist, VOD once the stream ends', async () => {
    let now = Date.parse('2026-11-30T05:50:00.000Z');
    const { hls, store, mirror } = setUp(s3.url(SECRET, 'rec'), {}, { record: true, now: () => now });
    const total = SEGMENTS_KEPT + 3;
    hls.openStream('show', []);
    for (let seq = 0; seq < total; seq++) {
      hls.addSourceSegment('show', seq, segment('rec', seq), 2000);
      await mirror.idle();
    }
    const root = 'rec/show/20261130T055000000Z';
    const keys = (await s3.keys()).filter((k) => k.startsWith(`${root}/source/`));
    assert.equal(keys.length, total, 'nothing deleted');
    const live = (await s3.get(`${root}/source.m3u8`))!.data.toString();
    assert.match(live, /#EXT-X-PLAYLIST-TYPE:EVENT/);
    assert.equal(uris(live).length, total);
    assert.ok(!live.includes('#EXT-X-ENDLIST'));
    assert.deepEqual(uris((await s3.get(`${root}.m3u8`))!.data.toString()), [`${s3.endpoint}/live/${root}/source.m3u8`]);
    hls.endStream('show');
    await mirror.idle();
    const vod = (await s3.get(`${root}/source.m3u8`))!.data.toString();
    assert.match(vod, /#EXT-X-PLAYLIST-TYPE:VOD/);
    assert.match(vod, /#EXT-X-ENDLIST\n$/);
    assert.equal(uris(vod).length, total);
    // the next run of the stream is another recording
    now += 60_000;
    hls.addSourceSegment('show', 0, segment('rec2', 0), 2000);
    await mirror.idle();
    assert.equal((await s3.get('rec/show/20261130T055100000Z/source/0.ts'))?.data.toString(), segment('rec2', 0).toString());
    assert.equal((await s3.get(`${root}/source/0.ts`))?.data.toString(), segment('rec', 0).toString(), 'the first recording is untouched');
    assert.equal(store.stats().deleted, 0);
    store.close();
  });

  it('a store that goes down: local HLS goes on, failures are counted, the store playlist resumes with a discontinuity', async () => {
    const own = await startLocalS3();
    const { hls, store, mirror } = setUp(own.url(SECRET), { timeoutMs: 5000 });
    try {
      hls.addSourceSegment('down', 0, segment('s', 0), 2000);
      await mirror.idle();
      await own.stop();
      for (let seq = 1; seq <= 3; seq++) hls.addSourceSegment('down', seq, segment('s', seq), 2000);
      assert.deepEqual(
        uris(hls.mediaPlaylist('down', 'source')!),
        [0, 1, 2, 3].map((s) => `/stream/down/source/${s}.ts`),
        'local HLS has every segment',
      );
      await mirror.idle();
      const stats = store.stats();
      assert.ok(stats.uploadFailed >= 3, `failed uploads counted: ${JSON.stringify(stats)}`);
      assert.ok(!JSON.stringify(stats).includes(SECRET));
      await own.start();
      hls.addSourceSegment('down', 4, segment('s', 4), 2000);
      await mirror.idle();
      const text = (await own.get('down/source.m3u8'))!.data.toString();
      assert.deepEqual(
        uris(text).map((u) => u.split('/').pop()),
        ['0.ts', '4.ts'],
      );
      assert.match(text, /#EXT-X-DISCONTINUITY\n#EXTINF:2.000,\n\S+\/4\.ts/);
    } finally {
      store.close();
      await own.close();
    }
  });

  it('a store that hangs: each rendition holds a few segments at most, the rest are skipped and counted; stopping cuts it off', async () => {
    const silent = await startSilentServer();
    const { hls, store, mirror } = setUp(`s3+http://S3RVER:${SECRET}@127.0.0.1:${silent.port}/live`, { timeoutMs: 60_000 });
    try {
      for (let seq = 0; seq < 10; seq++) hls.addSourceSegment('slow', seq, segment('s', seq), 2000);
      assert.equal(hls.mediaPlaylist('slow', 'source')?.includes('/stream/slow/source/9.ts'), true, 'the local HLS does not wait');
      // one in flight and MIRROR_MAX_PENDING - 1 queued behind it; the others never held
      assert.equal(store.stats().skipped, 6);
      const started = Date.now();
      store.close();
      await mirror.idle();
      assert.ok(Date.now() - started < 30_000, 'closing did not wait for the 60 s timeout');
      assert.equal(store.stats().uploaded, 0);
    } finally {
      store.close();
      await silent.close();
    }
  });
});
