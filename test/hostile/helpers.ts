// Shared by the hostile-orchestrator tests. A stream of small HTTP-pushed segments (cheap to transcode
// on a loaded machine) whose first attempt must go to the hostile orchestrator: the honest one sits
// behind a gate that opens only once the hostile one has been sent a segment. Then the checks that the
// attack failed and no segment was lost.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OrchestratorFaults, OrchestratorOptions, RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { startOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import type { SegmentOutcome, StreamRunner } from '../../src/node/stream.ts';
import type { LocalNetwork } from '../../scripts/devnet/network.ts';
import { freePort, sleep, startTestNode, type TestNode } from '../e2e/helpers.ts';
import { makeTestClip } from '../media/testMedia.ts';

const clips = new Map<string, Buffer>();

/** A 1 s MPEG-TS clip of the test pattern at `size` (15 fps, one keyframe), made once per process. */
export function testClip(size = '320x180'): Buffer {
  let clip = clips.get(size);
  if (!clip) {
    const dir = mkdtempSync(join(tmpdir(), 'lphostile-'));
    try {
      const file = join(dir, 'clip.ts');
      makeTestClip(file, { seconds: 1, fps: 15, gopSeconds: 1, size });
      clip = readFileSync(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    clips.set(size, clip);
  }
  return clip;
}

/**
 * POSTs one segment as HTTP push and waits for the reply (it comes once the renditions are in HLS).
 * `durationMs` (Content-Duration) sets the upload budgets: max(2 s, duration / 2) until the orchestrator's
 * headers; tests that are not about timing declare more than the clip's 1 s so a loaded machine keeps up.
 */
export async function pushSegment(httpUrl: string, mid: string, seq: number, clip: Buffer, durationMs = 1000): Promise<number> {
  const res = await fetch(`${httpUrl}/live/${mid}/${seq}.ts`, { method: 'POST', body: clip, headers: { 'Content-Duration': String(durationMs) } });
  await res.arrayBuffer();
  return res.status;
}

/** A TCP gate in front of an orchestrator: connections are dropped until open() is called. */
export interface Gate {
  uri: string;
  orchestrator: RunningOrchestrator;
  open(): void;
  stop(): Promise<void>;
}

export async function gatedOrchestrator(options: Partial<OrchestratorOptions> = {}): Promise<Gate> {
  const orchestrator = await startOrchestrator({ logLevel: 'silent', ...options });
  const target = Number(new URL(orchestrator.uri).port);
  let open = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    if (!open) return void client.destroy();
    const upstream = createConnection(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    uri: `https://127.0.0.1:${port}`,
    orchestrator,
    open: () => {
      open = true;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await orchestrator.stop();
    },
  };
}

export interface RoutedAround {
  hostile: RunningOrchestrator;
  good: Gate;
  runner: StreamRunner;
  outcomes: SegmentOutcome[];
}

/**
 * Pushes `segments` segments to `mid`: the first goes to the hostile orchestrator (the gate to the
 * honest one opens as soon as the hostile one has it), and each reply is awaited before the next push.
 */
export async function streamPastHostile(opts: {
  hostile: RunningOrchestrator;
  good: Gate;
  gateway: { httpUrl: string; stream(mid: string): StreamRunner | undefined };
  mid: string;
  segments?: number;
  clip?: Buffer;
}): Promise<RoutedAround> {
  const { gateway, mid, hostile, good } = opts;
  const clip = opts.clip ?? testClip();
  const before = hostile.stats.segmentsReceived;
  const first = pushSegment(gateway.httpUrl, mid, 0, clip);
  // Polled tightly: the gate must open before the hostile orchestrator's answer sends the gateway looking.
  const deadline = Date.now() + 60_000;
  while (hostile.stats.segmentsReceived === before) {
    if (Date.now() > deadline) throw new Error('the hostile orchestrator never got segment 0');
    await sleep(5);
  }
  good.open();
  assert.equal(await first, 200);
  for (let seq = 1; seq < (opts.segments ?? 3); seq++) assert.equal(await pushSegment(gateway.httpUrl, mid, seq, clip), 200);
  const runner = gateway.stream(mid);
  assert.ok(runner, 'the stream is still known');
  return { hostile, good, runner, outcomes: [...runner.outcomes] };
}

/** The hostile orchestrator was tried first, caught and suspended; the honest one did every segment. */
export function assertRoutedAround(r: RoutedAround, reason: RegExp): void {
  const first = r.outcomes.find((o) => o.seq === 0);
  assert.ok(first, 'segment 0 has an outcome');
  assert.equal(first.transcoded, true, JSON.stringify(first));
  assert.equal(first.orchestrator, r.good.uri);
  const err = first.attemptErrors?.find((e) => e.orchestrator === r.hostile.uri)?.error ?? '';
  assert.match(err, reason);
  const st = r.runner.opts.pool.status().find((s) => s.uri === r.hostile.uri);
  assert.equal(st?.state, 'suspended', JSON.stringify(st));
  assert.ok(
    r.outcomes.every((o) => o.transcoded && o.orchestrator === r.good.uri),
    `every segment was transcoded, none by the hostile orchestrator: ${JSON.stringify(r.outcomes)}`,
  );
}

export { freePort, sleep, startOrchestrator, type OrchestratorFaults };

/** Options for an orchestrator on the devnet with account `index` (0–2), at the devnet's prices. */
export function devnetOrchestratorOptions(net: LocalNetwork, index: number, extra: Partial<OrchestratorOptions> = {}): Partial<OrchestratorOptions> {
  const c = net.devnet;
  return {
    privateKey: c.orchestrators[index]!.privateKey,
    rpcUrl: c.rpcUrl,
    contracts: c.contracts,
    pricePerUnit: 1000n,
    ticketEV: 10_000_000_000n,
    maxFaceValue: 20_000_000_000n,
    redeemGas: 1n,
    logLevel: 'silent',
    ...extra,
  };
}

const KEYSTORE = new URL('../../keystore', import.meta.url).pathname;

/** The whole node on the devnet, paying with the devnet broadcaster's keystore. */
export function startDevnetNode(net: LocalNetwork, flags: Record<string, string>): Promise<TestNode> {
  return startTestNode({ ...net.gatewayFlags, ethKeystorePath: KEYSTORE, ethPassword: 'devnet', blockPollingInterval: '1', ...flags });
}
