// SIGTERM while segments are at an orchestrator that does not answer: the binary's graceful shutdown
// finishes (segments still out after the drain bound are cut off) and it exits 0, never 13 (the event
// loop emptying while shutdown still waits on something). A signal during the start-up still ends it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { startOrchestrator, type RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { freePort } from '../e2e/helpers.ts';
import { testClip } from '../hostile/helpers.ts';
import { killPublishers, publishTestStream, waitFor } from '../media/testMedia.ts';

const BIN = fileURLToPath(new URL('../../scripts/livepeer-gateway.mjs', import.meta.url));
const THROW_ONCE_RUNNING = fileURLToPath(new URL('./throwOnceRunning.mjs', import.meta.url));

describe('gateway shutdown with segments in flight', () => {
  let orch: RunningOrchestrator | undefined;
  const dirs: string[] = [];
  after(async () => {
    killPublishers();
    await orch?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('SIGTERM while an orchestrator holds segments: every stream ends and the binary exits 0', { timeout: 240_000 }, async () => {
    // takes every segment and never answers
    orch = await startOrchestrator({ logLevel: 'silent', faults: { stallMs: 600_000 } });
    const datadir = await mkdtemp(join(tmpdir(), 'lpshutdown-'));
    dirs.push(datadir);
    const [rtmpPort, httpPort, cliPort] = [await freePort(), await freePort(), await freePort()];
    const args = ['-gateway', '-network', 'offchain', '-orchAddr', orch.uri, '-datadir', datadir];
    args.push('-rtmpAddr', `127.0.0.1:${rtmpPort}`, '-httpAddr', `127.0.0.1:${httpPort}`, '-cliAddr', `127.0.0.1:${cliPort}`);
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (c) => (out += c));
    child.stderr!.on('data', (c) => (err += c));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
    try {
      // generous: loading the node under tsx takes many seconds on a busy 2-core machine
      await waitFor(() => out.includes('CLI server listening on') || child.exitCode !== null, 90_000, 'the gateway to start');
      assert.equal(child.exitCode, null, `the gateway did not start: ${err}`);
      // An HTTP-pushed segment declared 40 s long: its own budget waits 20 s for the orchestrator's
      // answer, past the shutdown's drain bound, so shutdown has to cut it off.
      const pushed = fetch(`http://127.0.0.1:${httpPort}/live/vod/0.ts`, { method: 'POST', body: testClip(), headers: { 'Content-Duration': '40000' } })
        .then((res) => res.arrayBuffer())
        .catch(() => undefined);
      await waitFor(() => orch!.stats.segmentsReceived >= 1, 60_000, 'the pushed segment at the orchestrator');
      // and a live RTMP stream whose segment is out too
      publishTestStream(`rtmp://127.0.0.1:${rtmpPort}/live/rtmp`, { seconds: 60 });
      await waitFor(() => orch!.stats.segmentsReceived >= 2, 90_000, 'an RTMP segment at the orchestrator');
      child.kill('SIGTERM');
      const { code, signal } = await exited;
      await pushed;
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, `a clean exit after SIGTERM; stderr:\n${err.slice(-4000)}`);
      assert.match(err, /segments still at orchestrators after 8 s are cut off/);
      assert.match(err, /"msg":"stopped"/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('an uncaught exception in a callback ends the process with code 1 and says why in a fatal log line', { timeout: 120_000 }, async () => {
    const datadir = await mkdtemp(join(tmpdir(), 'lpcrash-'));
    dirs.push(datadir);
    const args = ['-gateway', '-network', 'offchain', '-datadir', datadir, '-rtmpAddr', '127.0.0.1:0', '-httpAddr', '127.0.0.1:0', '-cliAddr', '127.0.0.1:0'];
    const child = spawn(process.execPath, ['--import', THROW_ONCE_RUNNING, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stdout!.resume();
    child.stderr!.on('data', (c) => (err += c));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    assert.equal(code, 1, err);
    const fatal = err.split('\n').find((l) => l.includes('"level":60'));
    assert.ok(fatal, `a fatal log line; stderr:\n${err}`);
    assert.match(fatal, /uncaught exception; the process ends/);
    assert.match(fatal, /injected failure in a timer callback/);
  });

  it('SIGINT during a start-up held by a silent chain RPC ends the process at once, as without a handler', { timeout: 120_000 }, async () => {
    // accepts the connection and never answers: the start-up waits on its first chain read
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const rpc = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const datadir = await mkdtemp(join(tmpdir(), 'lpinterrupt-'));
    dirs.push(datadir);
    const args = ['-gateway', '-network', 'arbitrum-one-mainnet', '-ethUrl', rpc, '-ethPassword', 'unused', '-datadir', datadir];
    args.push('-rtmpAddr', '127.0.0.1:0', '-httpAddr', '127.0.0.1:0', '-cliAddr', '127.0.0.1:0');
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stdout!.resume();
    child.stderr!.on('data', (c) => (err += c));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
    try {
      await waitFor(() => err.includes('state store open') || child.exitCode !== null, 90_000, 'the start-up to reach the chain');
      assert.equal(child.exitCode, null, `still starting: ${err}`);
      child.kill('SIGINT');
      const outcome = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running 10 s after SIGINT'), 10_000))]);
      assert.deepEqual(outcome, { code: null, signal: 'SIGINT' }, err);
      assert.match(err, /interrupted during start-up/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      silent.close();
    }
  });
});
