// One attempt end to end over real TLS HTTP/2: what a segment's clip and session re-initialisation put
// into its SegData, and how the stream's TimeoutMultiplier stretches the segment budgets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startOrchestrator, type RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import type { OrchSession } from '../../src/discovery/sessionPool.ts';
import { streamCapabilities } from '../../src/net/capabilities.ts';
import { getOrchestrator } from '../../src/net/grpc.ts';
import { closeSegmentConnections, SegmentError } from '../../src/net/segment.ts';
import { transcodeSegment, type AttemptDeps, type SegmentJob } from '../../src/node/transcodeSegment.ts';
import { decodeMessage, type OrchestratorInfo, type SegData } from '../../src/wire/lpRpc.ts';
import { makeTestClip, P144p30fps16x9, startTlsH2Server, type TlsH2Server } from '../net/fixtures.ts';
import { ZERO } from '../../src/lib/rat.ts';
import type { PreparedPayment, SegmentPayer } from '../../src/pm/segmentPayer.ts';
import { TicketParamsError } from '../../src/pm/validate.ts';
import { rejection } from '../helpers/rejection.ts';

const profiles = [P144p30fps16x9];
const capabilities = streamCapabilities({ profiles, segmentSlicing: true });

const offchainDeps: AttemptDeps = {
  refresh: () => Promise.reject(new Error('not expected')),
  adopt: () => {},
  drop: () => {},
};

const sessionOf = (info: OrchestratorInfo, uri: string): OrchSession => ({ uri, transcoder: info.transcoder!, info, stake: 0n, trusted: true, latencyMs: 1 });

const failure = (p: Promise<unknown>): Promise<SegmentError> => rejection(p, SegmentError);

describe('one transcode attempt', () => {
  let clip: Buffer;
  before(async () => {
    clip = await makeTestClip(1);
  });
  after(async () => {
    await closeSegmentConnections();
  });

  const job = (over: Partial<SegmentJob> = {}): SegmentJob => ({
    manifestId: 'attempt',
    seq: 4,
    data: clip,
    durationMs: 1000,
    profiles,
    capabilities,
    ...over,
  });

  describe('SegData on the wire', () => {
    let orch: TlsH2Server;
    let uri: string;
    const received: SegData[] = [];
    before(async () => {
      orch = await startTlsH2Server((req, res) => {
        received.push(decodeMessage('SegData', Buffer.from(String(req.headers['livepeer-segment']), 'base64')));
        req.resume();
        req.on('end', () => {
          res.writeHead(503);
          res.end('recorded');
        });
      });
      uri = orch.uri;
    });
    after(async () => {
      await closeSegmentConnections();
      await orch.close();
    });

    const info = (): OrchestratorInfo => ({ transcoder: uri, authToken: { token: new Uint8Array(32), sessionId: 'sess', expiration: 9_999_999_999n } });

    it('carries the clip as segment_parameters and the re-initialisation flag', async () => {
      const err = await failure(transcodeSegment(job({ clip: { fromMs: 250, toMs: 750 }, forceSessionReinit: true }), sessionOf(info(), uri), offchainDeps));
      assert.deepEqual([err.status, err.message], [503, 'recorded']);
      const seg = received.at(-1)!;
      assert.deepEqual(seg.segmentParameters, { from: 250n, to: 750n });
      assert.equal(seg.ForceSessionReinit, true);
      assert.equal(seg.seq, 4n);
    });

    it('ticket params gone stale between segments refresh the session once, instead of failing the attempt', async () => {
      // A session whose last segments failed got no fresh params from a result; its creation round lapses.
      const calls: string[] = [];
      let stale = true;
      const payer = {
        prepare: () => {
          calls.push('prepare');
          if (stale) throw new TicketParamsError('creation-round-expired', 'ticket creation round 2 is older than the ticket validity period');
          return { payment: {}, numTickets: 0, ev: ZERO, value: ZERO, faceValue: 0n, price: ZERO } as PreparedPayment;
        },
        settle: () => {},
        markSent: () => {},
        fail: () => {},
      } as unknown as SegmentPayer;
      const deps: AttemptDeps = {
        payer,
        refresh: async (s) => {
          calls.push('refresh');
          stale = false;
          return s.info;
        },
        adopt: () => calls.push('adopt'),
        drop: () => {},
      };
      const err = await failure(transcodeSegment(job(), sessionOf(info(), uri), deps));
      assert.equal(err.status, 503, 'the upload went out with the refreshed params');
      assert.deepEqual(calls, ['prepare', 'refresh', 'adopt', 'prepare']);

      // Params wrong for any other reason are the orchestrator's: no refresh, the attempt fails.
      calls.length = 0;
      const other = {
        ...payer,
        prepare: () => {
          calls.push('prepare');
          throw new TicketParamsError('face-value-too-low', 'ticket faceValue too low');
        },
      } as unknown as SegmentPayer;
      await assert.rejects(transcodeSegment(job(), sessionOf(info(), uri), { ...deps, payer: other }), TicketParamsError);
      assert.deepEqual(calls, ['prepare']);
    });

    it('leaves both out when the segment has neither, and keeps an open end as 0', async () => {
      await failure(transcodeSegment(job(), sessionOf(info(), uri), offchainDeps));
      const plain = received.at(-1)!;
      assert.equal(plain.segmentParameters, undefined);
      assert.ok(!plain.ForceSessionReinit);
      await failure(transcodeSegment(job({ clip: { fromMs: 500, toMs: 0 } }), sessionOf(info(), uri), offchainDeps));
      assert.deepEqual(received.at(-1)!.segmentParameters?.from, 500n);
      assert.ok(!received.at(-1)!.segmentParameters?.to, 'to = 0: to the end of the segment');
    });
  });

  describe('TimeoutMultiplier', () => {
    let orch: RunningOrchestrator;
    before(async () => {
      // Answers 3 s after the upload: past a 1 s segment's 2 s upload budget, inside three times it.
      orch = await startOrchestrator({ logLevel: 'silent', faults: { stallMs: 3000 } });
    });
    after(async () => {
      await orch.stop();
    });

    const session = async () => sessionOf(await getOrchestrator(orch.uri, { address: new Uint8Array(20), capabilities }), orch.uri);

    it('a live budget gives up on an orchestrator that answers after 3 s', async () => {
      const err = await failure(transcodeSegment(job(), await session(), offchainDeps));
      assert.equal(err.failure, 'timeout');
    });

    it('a multiplier of 3 (VOD push) waits for it', async () => {
      const r = await transcodeSegment(job({ timeoutMultiplier: 3 }), await session(), offchainDeps);
      assert.equal(r.renditions.length, 1);
      assert.ok(r.renditions[0]!.data!.length > 0);
    });
  });
});
