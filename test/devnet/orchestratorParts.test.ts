// Parts of the devnet orchestrator that other job kinds build on: the capabilities it advertises and
// the per-session transcoding queue.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/lib/log.ts';
import { ALL_VIDEO_CAPABILITIES, capabilitiesCompatible, capabilityIds, streamCapabilities } from '../../src/net/capabilities.ts';
import { CapabilityProvider } from '../../scripts/devnet/orchestrator/capabilities.ts';
import { SESSION_QUEUE, TranscodeSessions } from '../../scripts/devnet/orchestrator/sessions.ts';
import { TranscodeError } from '../../scripts/devnet/orchestrator/transcode.ts';
import { P144p30fps16x9 } from '../net/fixtures.ts';

describe('devnet orchestrator capabilities', () => {
  it('advertises every software video capability with -maxSessions capacity', () => {
    const caps = new CapabilityProvider('0.9.1', 7).current();
    assert.deepEqual(capabilityIds(caps.bitstring), [...ALL_VIDEO_CAPABILITIES]);
    assert.deepEqual(
      Object.values(caps.capacities ?? {}),
      ALL_VIDEO_CAPABILITIES.map(() => 7),
    );
    assert.deepEqual(caps.constraints, {});
    assert.equal(caps.version, '0.9.1');
    assert.ok(capabilitiesCompatible(streamCapabilities({ profiles: [P144p30fps16x9] }), caps));
  });

  it('adds what another source serves, asked afresh on every read', () => {
    const provider = new CapabilityProvider('0.9.1', 10);
    let capacity = 1;
    provider.add(() => ({ ids: [27], capacities: { 27: capacity }, perCapability: { 27: { models: { 'some/model': { warm: true } } } } }));
    const first = provider.current();
    assert.deepEqual(capabilityIds(first.bitstring), [...ALL_VIDEO_CAPABILITIES, 27]);
    assert.equal(first.capacities?.[27], 1);
    assert.equal(first.capacities?.[0], 10);
    assert.deepEqual(first.constraints, { PerCapability: { 27: { models: { 'some/model': { warm: true } } } } });
    capacity = 3;
    assert.equal(provider.current().capacities?.[27], 3);
  });
});

describe('devnet orchestrator transcoding sessions', () => {
  it('caps new sessions at -maxSessions and drops what an ended session left', () => {
    const dropped: string[] = [];
    const sessions = new TranscodeSessions(1, silentLogger(), (id) => dropped.push(id));
    assert.equal(sessions.full(), false);
    sessions.touch('a');
    assert.equal(sessions.full(), true);
    assert.equal(sessions.full('a'), false, 'an existing session may continue');
    assert.equal(sessions.full('b'), true);
    sessions.endAll('test');
    assert.deepEqual(dropped, ['a']);
    assert.equal(sessions.full('b'), false);
  });

  it('runs a session’s jobs one at a time and refuses beyond the queue with OrchestratorBusy', async () => {
    const sessions = new TranscodeSessions(1, silentLogger(), () => {});
    const session = sessions.touch('a');
    const order: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const jobs = Array.from({ length: SESSION_QUEUE }, (_, i) =>
      sessions.run(session, async () => {
        if (i === 0) await gate;
        order.push(i);
        return i;
      }),
    );
    await assert.rejects(
      sessions.run(session, async () => 99),
      (err: unknown) => err instanceof TranscodeError && err.message === 'OrchestratorBusy',
    );
    release();
    assert.deepEqual(await Promise.all(jobs), [0, 1, 2, 3]);
    assert.deepEqual(order, [0, 1, 2, 3]);
    sessions.endAll('test');
  });
});
