// The orchestrator's command line bundled into one file (what the load benches start) runs as main.ts
// does: each bundled module still finds the files beside its source (the wire format's .proto, the
// addons, ffmpeg), so it answers GetOrchestrator and transcodes a segment in its load mode.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { bundleOrchestrator } from '../../scripts/devnet/orchestrator/bundle.ts';
import { streamCapabilities } from '../../src/net/capabilities.ts';
import { getOrchestrator } from '../../src/net/grpc.ts';
import { buildSegData } from '../../src/net/segData.ts';
import { closeSegmentConnections, submitSegment } from '../../src/net/segment.ts';
import { startOrchestratorCommand } from '../helpers/orchestratorCommand.ts';
import { makeTestClip, P144p30fps16x9 } from '../net/fixtures.ts';

const profiles = [P144p30fps16x9];
const capabilities = streamCapabilities({ profiles });

describe('the bundled devnet orchestrator', () => {
  let bundle: string;
  let clip: Buffer;
  before(async () => {
    [bundle, clip] = await Promise.all([bundleOrchestrator(), makeTestClip()]);
  });
  after(async () => {
    await closeSegmentConnections();
  });

  it('is one file that imports nothing but node itself', async () => {
    const text = await readFile(bundle, 'utf8');
    const imports = [...text.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    assert.ok(imports.length > 0);
    assert.deepEqual(
      imports.filter((from) => !from!.startsWith('node:')),
      [],
    );
  });

  it('starts, serves GetOrchestrator, transcodes a segment in load mode, and exits on SIGTERM', async () => {
    const o = await startOrchestratorCommand([bundle], ['--load-mode', '--log-level', 'info', '--max-sessions', '2']);
    try {
      assert.equal(o.ready.maxSessions, 2);
      const info = await getOrchestrator(o.ready.uri, { address: new Uint8Array(20), capabilities });
      assert.equal(info.transcoder, o.ready.uri);
      const segData = buildSegData({ manifestId: 'bundle', seq: 0n, segment: clip, profiles, durationMs: 2000, authToken: info.authToken!, capabilities });
      const result = await submitSegment({ transcoderUri: o.ready.uri, segData, payment: undefined, body: clip, durationMs: 2000 });
      assert.equal(result.renditions.length, 1);
      assert.ok((result.renditions[0]!.data?.byteLength ?? 0) > 0);
      assert.ok(result.pixels > 0n);
      assert.equal(await o.stop(), 0);
    } finally {
      if (o.child.exitCode === null) o.child.kill('SIGKILL');
    }
  });
});
