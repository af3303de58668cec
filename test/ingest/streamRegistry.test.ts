// The stream registry on its own: admission (auth, duplicates, limits), push continuation and aliases,
// the idle watchdog on a hand-driven clock, end and close.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  PublishRefusedError,
  StreamRegistry,
  type IngestStream,
  type PublishDecision,
  type PublishRequest,
  type StreamAttachment,
  type StreamRegistryOptions,
} from '../../src/ingest/streamRegistry.ts';
import { silentLogger } from '../../src/lib/log.ts';

interface Ctx {
  tag: string;
}

const rtmp = (urlId: string, streamKey = 'key'): PublishRequest => ({
  ingest: 'rtmp',
  urlId,
  streamKey,
  url: `rtmp://h/live/${urlId}/${streamKey}`,
  remoteAddress: '127.0.0.1',
});
const push = (urlId: string): PublishRequest => ({
  ingest: 'push',
  urlId,
  streamKey: '',
  url: `http://h/live/${urlId}/0.ts`,
  remoteAddress: '127.0.0.1',
  format: 'mpegts',
});

function harness(opts: Partial<StreamRegistryOptions<Ctx>> = {}) {
  const log = { auths: [] as PublishRequest[], started: [] as string[], ended: [] as [string, string][], closed: [] as [string, string][] };
  let clock = 1_000_000;
  let decide: (req: PublishRequest) => Promise<PublishDecision<Ctx>> = async () => ({ accept: true, context: { tag: 't' } });
  const registry = new StreamRegistry<Ctx>({
    authorize: (req) => {
      log.auths.push(req);
      return decide(req);
    },
    onStarted: (s) => log.started.push(s.manifestId),
    onEnded: (s, reason) => log.ended.push([s.manifestId, reason]),
    idleTimeoutMs: 60_000,
    now: () => clock,
    log: silentLogger(),
    ...opts,
  });
  const attach =
    (name: string) =>
    ({ manifestId }: { manifestId: string }): StreamAttachment => ({ close: (reason) => log.closed.push([`${name}:${manifestId}`, reason]) });
  return {
    registry,
    log,
    attach,
    open: (req: PublishRequest, name = 'a') => registry.open(req, attach(name)),
    setDecision: (d: typeof decide) => {
      decide = d;
    },
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

async function refusal(p: Promise<unknown>): Promise<PublishRefusedError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof PublishRefusedError, `expected PublishRefusedError, got ${String(err)}`);
    return err;
  }
  assert.fail('the publish was accepted');
}

describe('stream registry', () => {
  it('admits a publish, starts it, and ends it once: publisher let go first, then the end hook', async () => {
    const h = harness();
    const s = await h.open(rtmp('movie', 'Secret/Key'));
    assert.deepEqual([s.manifestId, s.ingest, s.urlId, s.streamKey, s.context.tag], ['movie', 'rtmp', 'movie', 'Secret/Key', 't']);
    assert.deepEqual(h.log.started, ['movie']);
    assert.equal(h.registry.get('movie'), s);
    assert.equal(h.registry.size, 1);
    assert.equal(h.registry.end(s, 'publisher disconnected'), true);
    assert.equal(h.registry.end(s, 'again'), false, 'a stream ends once');
    assert.deepEqual(h.log.closed, [['a:movie', 'publisher disconnected']]);
    assert.deepEqual(h.log.ended, [['movie', 'publisher disconnected']]);
    assert.equal(h.registry.get('movie'), undefined);
  });

  it('lets the authorize hook rename the stream and pick its key', async () => {
    const h = harness();
    h.setDecision(async () => ({ accept: true, manifestId: 'renamed', streamKey: 'k2', context: { tag: 'r' } }));
    const s = await h.open(rtmp('anything'));
    assert.deepEqual([s.manifestId, s.urlId, s.streamKey], ['renamed', 'anything', 'k2']);
  });

  it('refuses a second publish of a live name, before and after authorization, and leaves the live one alone', async () => {
    const h = harness();
    const first = await h.open(rtmp('live1'));
    const before = await refusal(h.open(rtmp('live1', 'other'), 'b'));
    assert.equal(before.code, 'STREAM_ALREADY_LIVE');
    assert.equal(before.status, 403);
    assert.equal(h.log.auths.length, 1, 'refused before the webhook is asked');
    // renamed by the hook onto the live name
    h.setDecision(async () => ({ accept: true, manifestId: 'live1', context: { tag: 'x' } }));
    const after = await refusal(h.open(rtmp('elsewhere'), 'b'));
    assert.equal(after.code, 'STREAM_ALREADY_LIVE');
    // a push cannot take an RTMP stream's name either
    assert.equal((await refusal(h.open(push('live1'), 'b'))).code, 'STREAM_ALREADY_LIVE');
    assert.equal(h.registry.get('live1'), first);
    assert.deepEqual(h.log.ended, []);
    assert.deepEqual(h.log.closed, []);
  });

  it('an RTMP publish with the live stream’s key takes it over; another key, or a push, is refused', async () => {
    const takeovers: [IngestStream<Ctx>, IngestStream<Ctx>][] = [];
    const h = harness({ onTakenOver: (prev, next) => takeovers.push([prev, next]), maxStreams: 1 });
    const first = await h.open(rtmp('cam', 'Secret'));
    // a stranger without the key: refused before the webhook, the stream untouched
    assert.equal((await refusal(h.open(rtmp('cam', 'guess'), 'x'))).code, 'STREAM_ALREADY_LIVE');
    assert.equal((await refusal(h.open(rtmp('cam', 'Secre'), 'x'))).code, 'STREAM_ALREADY_LIVE');
    assert.equal((await refusal(h.open(push('cam'), 'x'))).code, 'STREAM_ALREADY_LIVE');
    assert.equal(h.registry.get('cam'), first);
    // the encoder reconnects with its key: the same stream goes on (even at -maxSessions), nothing ends
    const second = await h.open(rtmp('cam', 'Secret'), 'b');
    assert.notEqual(second, first);
    assert.deepEqual([second.manifestId, second.streamKey, second.context.tag, second.startedAt], ['cam', 'Secret', 't', first.startedAt]);
    assert.equal(h.registry.get('cam'), second);
    assert.deepEqual(takeovers, [[first, second]]);
    assert.deepEqual(h.log.closed, [['a:cam', 'taken over by a new publish with the same key']]);
    assert.deepEqual(h.log.started, ['cam'], 'no second start');
    assert.deepEqual(h.log.ended, [], 'no end');
    assert.equal(h.log.auths.length, 2, 'the newcomer was authorized too');
    // the old publisher's late disconnect does not end the new one
    assert.equal(h.registry.end(first, 'publisher disconnected'), false);
    assert.equal(h.registry.get('cam'), second);
    // a webhook refusal still refuses the reconnect
    h.setDecision(async () => ({ accept: false, status: 403, reason: 'no' }));
    assert.equal((await refusal(h.open(rtmp('cam', 'Secret'), 'c'))).code, 'PUBLISH_REFUSED');
    assert.equal(h.registry.get('cam'), second);
  });

  it('without a take-over hook, the same key is refused like any duplicate', async () => {
    const h = harness();
    await h.open(rtmp('cam', 'Secret'));
    assert.equal((await refusal(h.open(rtmp('cam', 'Secret'), 'b'))).code, 'STREAM_ALREADY_LIVE');
  });

  it('continues a push stream by its URL ID, through the alias when the webhook renamed it', async () => {
    const h = harness();
    h.setDecision(async () => ({ accept: true, manifestId: 'internal', context: { tag: 'p' } }));
    const s = await h.open(push('ext-a'));
    assert.equal(s.manifestId, 'internal');
    assert.equal(await h.open(push('ext-a')), s);
    assert.equal(h.log.auths.length, 1, 'authorized once');
    assert.equal(h.registry.pushStream('ext-a'), s);
    // another URL ID mapped onto the same manifest: refused, the first stream goes on
    const other = await refusal(h.open(push('ext-b'), 'b'));
    assert.equal(other.code, 'STREAM_ALREADY_LIVE');
    assert.equal(h.registry.pushStream('ext-a'), s);
    h.registry.end(s, 'done');
    assert.equal(h.registry.pushStream('ext-a'), undefined, 'the alias goes with the stream');
  });

  it('shares one authorization between concurrent first pushes; concurrent RTMP publishes of one name get one stream', async () => {
    const h = harness();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    h.setDecision(async () => {
      await gate;
      return { accept: true, context: { tag: 'c' } };
    });
    const pushes = [h.open(push('conc')), h.open(push('conc')), h.open(push('conc'))];
    const publishes = [h.open(rtmp('same'), 'p1'), h.open(rtmp('same'), 'p2')].map((p) =>
      p.then(
        (s) => s,
        (e: unknown) => e,
      ),
    );
    release();
    const [a, b, c] = await Promise.all(pushes);
    assert.ok(a === b && b === c);
    const [r1, r2] = await Promise.all(publishes);
    const accepted = [r1, r2].filter((r) => !(r instanceof Error));
    assert.equal(accepted.length, 1);
    assert.equal(([r1, r2].find((r) => r instanceof Error) as PublishRefusedError).code, 'STREAM_ALREADY_LIVE');
    assert.equal(h.log.auths.filter((r) => r.ingest === 'push').length, 1);
  });

  it('applies the stream limit after authorization, across RTMP and push', async () => {
    const h = harness({ maxStreams: 2 });
    const a = await h.open(rtmp('a'));
    await h.open(push('b'));
    const full = await refusal(h.open(push('c')));
    assert.deepEqual([full.status, full.code], [503, 'TOO_MANY_STREAMS']);
    assert.match(full.message, /-maxSessions 2/);
    h.registry.end(a, 'gone');
    assert.equal((await h.open(push('c'))).manifestId, 'c');
  });

  it('refuses with the hook status, and with 500 when the hook throws', async () => {
    const h = harness();
    h.setDecision(async () => ({ accept: false, status: 403, reason: 'webhook said no' }));
    const no = await refusal(h.open(push('x')));
    assert.deepEqual([no.status, no.code, no.message], [403, 'PUBLISH_REFUSED', 'webhook said no']);
    h.setDecision(async () => {
      throw new Error('webhook exploded');
    });
    const boom = await refusal(h.open(rtmp('y')));
    assert.deepEqual([boom.status, boom.code], [500, 'AUTHORIZATION_FAILED']);
    assert.match(boom.message, /webhook exploded/);
    assert.equal(h.registry.size, 0);
    assert.deepEqual(h.log.started, []);
  });

  it('registers nothing when the publisher cannot be attached (it left during authorization)', async () => {
    const h = harness();
    await assert.rejects(
      h.registry.open(rtmp('gone'), () => {
        throw new Error('publisher left');
      }),
      /publisher left/,
    );
    assert.equal(h.registry.size, 0);
    assert.deepEqual(h.log.started, []);
    assert.equal((await h.open(rtmp('gone'))).manifestId, 'gone', 'the name is free');
  });

  it('ends an idle push stream, never one with a request running, never an RTMP stream', async () => {
    const h = harness();
    const p = await h.open(push('idle'));
    const r = await h.open(rtmp('rtmp'));
    h.advance(59_000);
    h.registry.sweep();
    assert.deepEqual(h.log.ended, []);
    const release = h.registry.hold(p);
    h.advance(120_000);
    h.registry.sweep();
    assert.deepEqual(h.log.ended, [], 'held: a long transcode keeps it alive');
    release();
    h.advance(30_000);
    h.registry.sweep();
    assert.deepEqual(h.log.ended, [], 'the idle time counts from the end of the last request');
    await h.open(push('idle')); // a new request touches it
    h.advance(59_000);
    h.registry.sweep();
    assert.deepEqual(h.log.ended, []);
    h.advance(2000);
    h.registry.sweep();
    assert.deepEqual(h.log.ended, [['idle', 'idle']]);
    assert.equal(h.registry.get('rtmp'), r);
  });

  it('ends only the stream it was given, not a later one under the same name', async () => {
    const h = harness();
    const old = await h.open(rtmp('n'), 'old');
    h.registry.end(old, 'publisher disconnected');
    const fresh = await h.open(rtmp('n'), 'new');
    assert.equal(h.registry.end(old, 'late end of the old one'), false);
    assert.equal(h.registry.get('n'), fresh);
  });

  it('close ends every stream and refuses what comes after', async () => {
    const h = harness();
    await h.open(rtmp('r'));
    await h.open(push('p'));
    h.registry.close('gateway shutting down');
    assert.deepEqual(
      h.log.ended.map(([, reason]) => reason),
      ['gateway shutting down', 'gateway shutting down'],
    );
    const late = await refusal(h.open(push('late')));
    assert.deepEqual([late.status, late.code], [503, 'SHUTTING_DOWN']);
  });

  it('ends a stream whose start hook throws (say, profiles no orchestrator can be asked for), and refuses the publish', async () => {
    const ended: [string, string][] = [];
    const h = harness({
      onStarted: () => {
        throw new Error('profile x: unknown output codec');
      },
      onEnded: (s, reason) => ended.push([s.manifestId, reason]),
    });
    const err = await refusal(h.open(rtmp('broken')));
    assert.deepEqual([err.status, err.code], [500, 'START_FAILED']);
    assert.match(err.message, /unknown output codec/);
    assert.equal(h.registry.get('broken'), undefined);
    assert.deepEqual(h.log.closed, [['a:broken', 'stream could not start: profile x: unknown output codec']], 'the publisher is let go');
    assert.equal(ended.length, 1);
  });

  it('keeps a stream when the end hook throws, and ends it all the same', async () => {
    const h = harness({
      onEnded: () => {
        throw new Error('hook bug');
      },
    });
    const s: IngestStream<Ctx> = await h.open(rtmp('robust'));
    assert.equal(h.registry.end(s, 'done'), true);
    assert.equal(h.registry.get('robust'), undefined);
  });
});
