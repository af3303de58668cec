import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanStreamPrefix, randomManifestId, randomStreamKey, splitStreamPath, streamIdsFromPath, urlPath } from '../../src/ingest/streamPath.ts';

const HEX8 = /^[0-9a-f]{8}$/;
const HEX12 = /^[0-9a-f]{12}$/;

// The publish URLs of docs/node.md §3.1 as the RTMP server reports them.
const table: Array<[url: string, manifestId: string | RegExp, streamKey: string | RegExp]> = [
  ['rtmp://h:1935/movie', 'movie', HEX12],
  ['rtmp://h:1935/movie/Secret/Key', 'movie', 'Secret/Key'],
  ['rtmp://h:1935/stream/movie', 'movie', HEX12],
  ['rtmp://h:1935/stream/movie/key', 'movie', 'key'],
  ['rtmp://h:1935/live/movie', 'movie', HEX12],
  ['rtmp://h:1935/live/movie/key', 'movie', 'key'],
  ['rtmp://h:1935/', HEX8, HEX12],
  ['rtmp://h:1935/stream', HEX8, HEX12],
  ['rtmp://h:1935/app/name', 'app', 'name'],
  ['rtmp://h:1935/movie/key?token=abc', 'movie', 'key'],
];

describe('manifest ID and stream key from the ingest URL (docs/node.md §3.1)', () => {
  for (const [url, mid, key] of table) {
    it(url, () => {
      const ids = streamIdsFromPath(urlPath(url));
      if (typeof mid === 'string') assert.equal(ids.manifestId, mid);
      else assert.match(ids.manifestId, mid);
      if (typeof key === 'string') assert.equal(ids.streamKey, key);
      else assert.match(ids.streamKey, key);
    });
  }

  it('gives different random IDs each time', () => {
    assert.notEqual(streamIdsFromPath('/').manifestId, streamIdsFromPath('/').manifestId);
    assert.match(randomManifestId(), HEX8);
    assert.match(randomStreamKey(), HEX12);
  });

  it('applies the go-livepeer prefix pattern, extension trim and push paths', () => {
    assert.equal(cleanStreamPrefix('  //stream/live/movie'), 'movie');
    assert.deepEqual(splitStreamPath('/live/movie/12.ts'), { manifestId: 'movie', streamKey: '12' });
    assert.deepEqual(splitStreamPath('/stream/.m3u8'), { manifestId: '', streamKey: '' });
    assert.deepEqual(splitStreamPath(''), { manifestId: '', streamKey: '' });
  });

  it('decodes the path and drops query and fragment', () => {
    assert.equal(urlPath('rtmp://h:1935/live/mo%20vie?x=1#f'), '/live/mo vie');
    assert.equal(urlPath('/live/a/0.ts?x'), '/live/a/0.ts');
    assert.equal(urlPath('/bad%zz'), '/bad%zz');
  });
});
