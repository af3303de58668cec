import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { startRtmpServer, type RtmpServer } from '../../src/ingest/rtmp.ts';
import { rtmpPublishUrl } from '../../src/ingest/streamPath.ts';
import { StreamRegistry, type IngestStream, type PublishDecision, type PublishRequest } from '../../src/ingest/streamRegistry.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { ffmpegPath, ffprobePath, mediaToolEnv } from '../../src/media/ffmpegBinaries.ts';
import { probeBuffer } from '../../src/media/probe.ts';
import { runningSegmenters, startSegmenter, type Segmenter, type SourceSegment } from '../../src/media/segmenter.ts';
import { childProcesses, killPublishers, publishTestStream, waitFor } from '../media/testMedia.ts';

interface Ctx {
  tag: string;
}

type Authorize = (info: PublishRequest) => Promise<PublishDecision<Ctx>>;

/** One RTMP server for the file; each test sets the hook and watches the events. */
describe('RTMP ingest + segmenter (real ffmpeg publish)', () => {
  let server: RtmpServer;
  let registry: StreamRegistry<Ctx>;
  let authorize: Authorize = async () => ({ accept: true, context: { tag: 'default' } });
  const started: IngestStream<Ctx>[] = [];
  const ended: Array<{ stream: IngestStream<Ctx>; reason: string }> = [];
  const segmenters = new Map<string, { seg: Segmenter; segments: SourceSegment[]; finished: Promise<void> }>();

  before(async () => {
    registry = new StreamRegistry<Ctx>({
      log: silentLogger(),
      authorize: (info) => authorize(info),
      onStarted(stream) {
        started.push(stream);
        if (stream.manifestId.startsWith('late')) return; // no RTMP player of our own: the test's players are the first
        const seg = startSegmenter({ inputUrl: stream.rtmp!.playbackUrl });
        const segments: SourceSegment[] = [];
        const finished = (async () => {
          for await (const s of seg.segments) segments.push(s);
        })();
        finished.catch(() => {});
        segmenters.set(stream.manifestId, { seg, segments, finished });
      },
      onEnded(stream, reason) {
        ended.push({ stream, reason });
      },
    });
    server = await startRtmpServer<Ctx>({ port: 0, registry, log: silentLogger() });
  });

  afterEach(async () => {
    killPublishers();
    for (const s of segmenters.values()) await s.seg.stop();
    segmenters.clear();
    started.length = 0;
    ended.length = 0;
    authorize = async () => ({ accept: true, context: { tag: 'default' } });
  });

  after(async () => {
    await server.close();
  });

  const mid = () => `m${randomBytes(3).toString('hex')}`;

  it('publishes 6 s and gets ~2 s segments from seq 0 that ffprobe reads; no ffmpeg left behind', async () => {
    const name = mid();
    const seen: PublishRequest[] = [];
    authorize = async (info) => {
      seen.push(info);
      return { accept: true, context: { tag: 'ok' } };
    };
    const pub = publishTestStream(`${server.url}/live/${name}/secret?token=t1`, { seconds: 6, gopSeconds: 2 });
    assert.equal(await pub.exited, 0, pub.stderr());

    await waitFor(() => ended.length === 1, 10_000, 'stream end');
    const entry = segmenters.get(name)!;
    await entry.finished;
    await entry.seg.done;

    assert.deepEqual(
      seen.map((i) => [i.ingest, i.urlId, i.streamKey]),
      [['rtmp', name, 'secret']],
    );
    assert.equal(seen[0]!.url, `${server.url}/live/${name}/secret?token=t1`, 'publish URL keeps the query');
    const s = started[0]!;
    assert.equal(s.context.tag, 'ok');
    assert.equal(s.rtmp!.playbackUrl, `rtmp://127.0.0.1:${server.port}/stream/${name}/secret`);
    assert.deepEqual(s.rtmp!.metadata(), { width: 320, height: 180, fps: 15 });
    assert.equal(ended[0]!.reason.startsWith('publisher'), true);

    const segs = entry.segments;
    assert.ok(segs.length >= 2 && segs.length <= 4, `got ${segs.length} segments`);
    assert.deepEqual(
      segs.map((x) => x.seq),
      segs.map((_, i) => i),
    );
    // The last segment may be shorter (the publisher stops mid-GOP); the others are 2 s.
    for (const x of segs.slice(0, -1)) assert.ok(Math.abs(x.durationMs - 2000) <= 150, `seq ${x.seq}: ${x.durationMs} ms`);
    for (const x of segs) {
      const info = await probeBuffer(x.data);
      assert.equal(info.videoCodec, 'h264');
      assert.deepEqual([info.width, info.height], [320, 180]);
    }
    assert.equal(registry.get(name), undefined);
    assert.equal(runningSegmenters(), 0);
    await waitFor(() => !childProcesses().some((p) => /ffmpeg|ffprobe/.test(p)), 3000, 'no ffmpeg children');
  });

  it('refuses a publish when the hook says no: the publisher fails and no segmenter starts', async () => {
    authorize = async () => ({ accept: false, status: 403, reason: 'not on the list' });
    const t0 = Date.now();
    const pub = publishTestStream(`${server.url}/live/${mid()}`, { seconds: 10 });
    const code = await pub.exited;
    assert.notEqual(code, 0);
    assert.match(pub.stderr(), /Server error: not on the list/);
    assert.ok(Date.now() - t0 < 8000, 'refused at once, not after the clip');
    assert.equal(started.length, 0);
    assert.equal(segmenters.size, 0);
    assert.equal(registry.streams().length, 0);
  });

  it('lets the hook rename the stream, and a throwing hook counts as a refusal', async () => {
    authorize = async () => ({ accept: true, manifestId: 'renamed', streamKey: 'k', context: { tag: 'r' } });
    const pub = publishTestStream(`${server.url}/anything/else`, { seconds: 3 });
    await waitFor(() => started.length === 1, 8000, 'start');
    assert.equal(started[0]!.manifestId, 'renamed');
    assert.ok(registry.get('renamed'));
    pub.kill();
    await waitFor(() => ended.length === 1, 5000, 'end');

    authorize = async () => {
      throw new Error('webhook exploded');
    };
    const bad = publishTestStream(`${server.url}/live/${mid()}`, { seconds: 5 });
    assert.notEqual(await bad.exited, 0);
    assert.equal(started.length, 1);
  });

  it('refuses a second publish to a live manifest ID while the first keeps going', async () => {
    const name = mid();
    const first = publishTestStream(`${server.url}/live/${name}/a`, { seconds: 8 });
    await waitFor(() => started.length === 1, 8000, 'first stream start');
    const entry = segmenters.get(name)!;

    const second = publishTestStream(`${server.url}/live/${name}/b`, { seconds: 8 });
    assert.notEqual(await second.exited, 0, 'the newcomer is refused');
    assert.match(second.stderr(), /already live/);
    const countAtRefusal = entry.segments.length;
    assert.ok(registry.get(name), 'the first stream is still live');
    assert.equal(ended.length, 0);

    assert.equal(await first.exited, 0);
    await entry.finished;
    assert.ok(entry.segments.length > countAtRefusal, 'segments kept coming after the refusal');
    assert.equal(started.length, 1);
    await waitFor(() => ended.length === 1, 5000, 'first stream end');
  });

  it('ends the stream cleanly when the publisher is killed mid-stream', async () => {
    const name = mid();
    const pub = publishTestStream(`${server.url}/live/${name}`, { seconds: 30 });
    await waitFor(() => started.length === 1, 8000, 'start');
    const entry = segmenters.get(name)!;
    await waitFor(() => entry.segments.length >= 1, 8000, 'first segment');
    pub.kill();
    await waitFor(() => ended.length === 1, 5000, 'end after kill');
    assert.equal(ended[0]!.reason, 'publisher disconnected');
    await entry.finished; // the segmenter ends without an error
    await entry.seg.done;
    assert.ok(entry.segments.length >= 1);
    assert.equal(registry.get(name), undefined);
    assert.equal(runningSegmenters(), 0);
  });

  it('survives garbage bytes and cut connections, then still takes a publish', async () => {
    const junk = async (bytes: Buffer, cutAfterMs: number) => {
      const sock = connect(server.port, '127.0.0.1');
      sock.on('error', () => {});
      await new Promise<void>((r) => sock.once('connect', () => r()));
      sock.write(bytes);
      await new Promise((r) => setTimeout(r, cutAfterMs));
      sock.destroy();
    };
    await junk(randomBytes(64 * 1024), 100);
    // A valid-looking handshake start followed by random chunk data.
    await junk(Buffer.concat([Buffer.from([3]), randomBytes(1536 * 2), randomBytes(8192)]), 100);
    await junk(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 50);
    await junk(Buffer.from([3, 0, 0]), 0);

    const name = mid();
    const pub = publishTestStream(`${server.url}/live/${name}`, { seconds: 3 });
    await waitFor(() => started.length === 1, 8000, 'publish after garbage');
    assert.equal(await pub.exited, 0);
  });

  it("keeps two publishers apart while they and a peer sending garbage share the listener's read buffer", async () => {
    // every connection reads into one buffer: what one peer sends must never reach another's stream
    const garbage = connect(server.port, '127.0.0.1');
    garbage.on('error', () => {});
    await new Promise<void>((r) => garbage.once('connect', () => r()));
    const dropped = new Promise<void>((r) => garbage.once('close', () => r()));
    const spray = setInterval(() => garbage.writable && garbage.write(randomBytes(4096)), 5);
    try {
      const small = mid();
      const large = mid();
      const pubs = [
        publishTestStream(`${server.url}/live/${small}`, { seconds: 5 }),
        publishTestStream(`${server.url}/live/${large}`, { seconds: 5, size: '352x288', fps: 25 }),
      ];
      for (const p of pubs) assert.equal(await p.exited, 0, p.stderr());
      await waitFor(() => ended.length === 2, 10_000, 'both streams end');
      for (const [name, size] of [
        [small, [320, 180]],
        [large, [352, 288]],
      ] as const) {
        const entry = segmenters.get(name)!;
        await entry.finished;
        assert.ok(entry.segments.length >= 2, `${name}: ${entry.segments.length} segments`);
        assert.deepEqual(
          entry.segments.map((x) => x.seq),
          entry.segments.map((_, i) => i),
        );
        for (const x of entry.segments) {
          const info = await probeBuffer(x.data);
          assert.deepEqual([info.width, info.height], size, `${name} seq ${x.seq}`);
        }
      }
      await dropped; // the garbage peer was dropped, not left reading
    } finally {
      clearInterval(spray);
      garbage.destroy();
    }
  });

  it('gives RTMP players that join mid-GOP the GOP from its keyframe, also while nobody else plays', async () => {
    const name = `late${mid()}`;
    // one keyframe every 4 s, so the players below join well inside a GOP
    publishTestStream(`${server.url}/live/${name}/thekey`, { seconds: 12, gopSeconds: 4 });
    await waitFor(() => started.length === 1, 8000, 'start');
    // the first video packets a player gets, with their flags ("K_" for a keyframe)
    const firstVideoFlags = () =>
      new Promise<string[]>((resolve) => {
        const p = spawn(
          ffprobePath(),
          [
            ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=flags', '-read_intervals', '%+#3', '-of', 'csv=p=0'],
            `${server.url}/stream/${name}/thekey`,
          ],
          { env: mediaToolEnv('ffprobe'), stdio: ['ignore', 'pipe', 'ignore'] },
        );
        let out = '';
        p.stdout!.on('data', (c) => (out += c));
        const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
        p.once('exit', () => {
          clearTimeout(timer);
          resolve(out.split('\n').filter((l) => l.trim() !== ''));
        });
      });
    await new Promise((r) => setTimeout(r, 2500)); // mid-GOP, nobody playing
    const alone = await firstVideoFlags();
    const [a, b] = await Promise.all([firstVideoFlags(), new Promise((r) => setTimeout(r, 300)).then(firstVideoFlags)]);
    for (const flags of [alone, a, b]) {
      assert.equal(flags.length, 3, 'three video packets read');
      assert.match(flags[0]!, /K/, 'the first packet a late player gets is a keyframe');
    }
  });

  it('refuses RTMP play without the right stream key', async () => {
    const name = mid();
    publishTestStream(`${server.url}/live/${name}/thekey`, { seconds: 6 });
    await waitFor(() => started.length === 1, 8000, 'start');
    const play = (path: string) =>
      new Promise<number | null>((resolve) => {
        const p = spawn(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', `${server.url}${path}`, '-t', '0.5', '-f', 'null', '-'], {
          env: mediaToolEnv('ffmpeg'),
          stdio: 'ignore',
        });
        const timer = setTimeout(() => p.kill('SIGKILL'), 8000);
        p.once('exit', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
    assert.notEqual(await play(`/stream/${name}/wrongkey`), 0);
    assert.notEqual(await play(`/stream/${name}`), 0);
    assert.equal(await play(`/stream/${name}/thekey`), 0);
  });
});

describe('RTMP publish URL', () => {
  it('is reported as go-livepeer does: tcUrl origin, app and name without empty elements, then the query', () => {
    assert.equal(rtmpPublishUrl('rtmp://example.com:1935/live', 'live', 'movie/key?token=1'), 'rtmp://example.com:1935/live/movie/key?token=1');
    assert.equal(rtmpPublishUrl('rtmp://h/', '', '//movie//key'), 'rtmp://h/movie/key');
    assert.equal(rtmpPublishUrl('not a url', 'app', 'name'), 'rtmp://localhost/app/name', 'a tcUrl without scheme and host');
  });
});

describe('RTMP listener address', () => {
  const refuseAll = () => new StreamRegistry({ log: silentLogger(), authorize: async () => ({ accept: false, status: 403, reason: 'x' }) });

  it('binds the host it is given and plays back over it', async () => {
    const srv = await startRtmpServer({ host: '127.0.0.2', port: 0, registry: refuseAll(), log: silentLogger() });
    try {
      assert.equal(srv.host, '127.0.0.2');
      assert.equal(srv.url, `rtmp://127.0.0.2:${srv.port}`);
      const refused = await new Promise<boolean>((resolve) => {
        const s = connect(srv.port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve(false);
        });
        s.once('error', () => resolve(true));
      });
      assert.ok(refused, 'not reachable on another address');
    } finally {
      await srv.close();
    }
  });

  it('fails with a clear message when the port is taken', async () => {
    const a = await startRtmpServer({ port: 0, registry: refuseAll(), log: silentLogger() });
    try {
      await assert.rejects(startRtmpServer({ port: a.port, registry: refuseAll(), log: silentLogger() }), /cannot listen on 127\.0\.0\.1:\d+.*EADDRINUSE/);
    } finally {
      await a.close();
    }
  });
});
