import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MediaPlaylist, PLAYLIST_WINDOW, isRenditionStale, renderMasterPlaylist, segmentUri, variantUri } from '../../src/media/playlist.ts';

function seg(seq: number, durationMs = 2000, discontinuity = false) {
  return { seq, durationMs, uri: segmentUri('mid', 'source', seq), discontinuity };
}

describe('media playlist', () => {
  it('lists segments with absolute URIs and no ENDLIST', () => {
    const pl = new MediaPlaylist();
    pl.add(seg(0, 2000));
    pl.add(seg(1, 1960));
    assert.equal(
      pl.render(),
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-MEDIA-SEQUENCE:0',
        '#EXT-X-TARGETDURATION:2',
        '#EXTINF:2.000,',
        '/stream/mid/source/0.ts',
        '#EXTINF:1.960,',
        '/stream/mid/source/1.ts',
        '',
      ].join('\n'),
    );
    assert.doesNotMatch(pl.render(), /ENDLIST/);
  });

  it('keeps a window of 6 and advances the media sequence', () => {
    const pl = new MediaPlaylist();
    assert.equal(PLAYLIST_WINDOW, 6);
    for (let i = 0; i < 10; i++) pl.add(seg(i));
    assert.deepEqual(
      pl.entries.map((e) => e.seq),
      [4, 5, 6, 7, 8, 9],
    );
    assert.equal(pl.mediaSequence, 4);
    assert.match(pl.render(), /#EXT-X-MEDIA-SEQUENCE:4\n/);
    assert.equal(pl.render().match(/#EXTINF/g)!.length, 6);
  });

  it('counts media sequence by segments, so gaps in seq do not skip numbers', () => {
    const pl = new MediaPlaylist(2);
    for (const s of [0, 3, 4, 9]) pl.add(seg(s));
    assert.equal(pl.mediaSequence, 2);
    assert.deepEqual(
      pl.entries.map((e) => e.seq),
      [4, 9],
    );
  });

  it('target duration is the ceiling of the longest segment and never decreases', () => {
    const pl = new MediaPlaylist(2);
    pl.add(seg(0, 2000));
    assert.equal(pl.targetDurationS, 2);
    pl.add(seg(1, 2001));
    assert.equal(pl.targetDurationS, 3, 'ceil, not round');
    pl.add(seg(2, 4500));
    pl.add(seg(3, 1000));
    pl.add(seg(4, 1000));
    pl.add(seg(5, 1000));
    assert.equal(pl.targetDurationS, 5, 'stays at 5 after the long segment slid out');
    assert.match(pl.render(), /#EXT-X-TARGETDURATION:5\n/);
  });

  it('marks discontinuities and counts them as they slide out', () => {
    const pl = new MediaPlaylist(3);
    pl.add(seg(0));
    pl.add(seg(1, 2000, true));
    pl.add(seg(2));
    assert.match(pl.render(), /#EXT-X-DISCONTINUITY\n#EXTINF:2.000,\n\/stream\/mid\/source\/1.ts/);
    assert.doesNotMatch(pl.render(), /DISCONTINUITY-SEQUENCE/);
    pl.add(seg(3));
    assert.equal(pl.discontinuitySequence, 0, 'seq 0 had no discontinuity');
    pl.add(seg(4, 2000, true));
    assert.equal(pl.discontinuitySequence, 1, 'seq 1 slid out with its discontinuity');
    const text = pl.render();
    assert.match(text, /#EXT-X-DISCONTINUITY-SEQUENCE:1\n/);
    assert.equal(text.match(/#EXT-X-DISCONTINUITY\n/g)!.length, 1);
  });

  it('ignores segments that are not newer than the live edge', () => {
    const pl = new MediaPlaylist();
    assert.ok(pl.add(seg(5)));
    assert.equal(pl.add(seg(5)), false);
    assert.equal(pl.add(seg(3)), false);
    assert.deepEqual(
      pl.entries.map((e) => e.seq),
      [5],
    );
  });
});

describe('master playlist', () => {
  it('writes variants in the given order with relative URIs', () => {
    const text = renderMasterPlaylist('mid', [
      { rendition: 'source', bandwidth: 4_000_000, width: 1280, height: 720 },
      { rendition: 'P240p30fps16x9', bandwidth: 600_000, width: 426, height: 240 },
    ]);
    assert.equal(
      text,
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-STREAM-INF:BANDWIDTH=4000000,RESOLUTION=1280x720',
        'mid/source.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=600000,RESOLUTION=426x240',
        'mid/P240p30fps16x9.m3u8',
        '',
      ].join('\n'),
    );
    assert.equal(variantUri('a', 'b'), 'a/b.m3u8');
  });

  it('leaves out RESOLUTION when the size is unknown', () => {
    assert.match(renderMasterPlaylist('m', [{ rendition: 'source', bandwidth: 1, width: 0, height: 0 }]), /BANDWIDTH=1\n/);
  });
});

describe('stale rendition rule', () => {
  const base = { targetDurationS: 2 };
  it('is stale after 3 × target duration without a segment while the source advanced', () => {
    assert.equal(isRenditionStale({ ...base, renditionLastAddedMs: 1000, sourceLastAddedMs: 5000, nowMs: 7000 }), false);
    assert.equal(isRenditionStale({ ...base, renditionLastAddedMs: 1000, sourceLastAddedMs: 5000, nowMs: 7001 }), true);
  });
  it('is not stale when the source stopped too (publisher paused)', () => {
    assert.equal(isRenditionStale({ ...base, renditionLastAddedMs: 5000, sourceLastAddedMs: 4000, nowMs: 60_000 }), false);
  });
  it('is not stale in the steady state where renditions trail the source by a second', () => {
    assert.equal(isRenditionStale({ ...base, renditionLastAddedMs: 9000, sourceLastAddedMs: 10_000, nowMs: 10_500 }), false);
  });
});
