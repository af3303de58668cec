// The orchestrator's command line bundled into one file (what the load benches start) runs as main.ts
// does: each bundled module still finds the files beside its source (the wire format's .proto, the
// addons, ffmpeg), so it answers GetOrchestrator and transcodes a segment in its load mode.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { bundleOrchestrator } from '../../scripts/devnet/orchestrator/bundle.ts';
import { streamCapabilities } from '../../src/net/capabilities.ts';
import { getOrchestrator } from '../../src/net/grpc.ts';
import { buildSegData } from '../../src/net/segData.ts';
import { closeSegmentConnections, submitSegment } from '../../src/net/segment.ts';
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
    const child = spawn(process.execPath, [bundle, '--load-mode', '--log-level', 'info', '--max-sessions', '2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ORCH_PRIVATE_KEY: '' },
    });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    try {
      const lines = createInterface({ input: child.stdout! });
      const ready = await new Promise<{ uri: string; maxSessions: number }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no ready line within 15 s')), 15_000);
        lines.on('line', (line) => {
          const entry = JSON.parse(line) as { event?: string; uri: string; maxSessions: number };
          if (entry.event === 'ready') {
            clearTimeout(timer);
            resolve(entry);
          }
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
      });
      assert.equal(ready.maxSessions, 2);
      const info = await getOrchestrator(ready.uri, { address: new Uint8Array(20), capabilities });
      assert.equal(info.transcoder, ready.uri);
      const segData = buildSegData({ manifestId: 'bundle', seq: 0n, segment: clip, profiles, durationMs: 2000, authToken: info.authToken!, capabilities });
      const result = await submitSegment({ transcoderUri: ready.uri, segData, payment: undefined, body: clip, durationMs: 2000 });
      assert.equal(result.renditions.length, 1);
      assert.ok((result.renditions[0]!.data?.byteLength ?? 0) > 0);
      assert.ok(result.pixels > 0n);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
