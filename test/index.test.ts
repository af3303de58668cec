// The package as another program uses it: installed as a dependency, imported by its name under plain
// node (no TypeScript loader), so what runs is the compiled dist/ that package.json exports.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildDist, ROOT } from '../scripts/dist.mjs';
import { freePort } from './e2e/helpers.ts';
import { makeTestClip } from './media/testMedia.ts';

/** A node process running a consumer's script, with its stdout lines collected. */
class Consumer {
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly waiters = new Set<() => void>();

  constructor(readonly proc: ChildProcess) {
    let pending = '';
    proc.stdout!.on('data', (c: Buffer) => {
      pending += c;
      const parts = pending.split('\n');
      pending = parts.pop()!;
      this.lines.push(...parts);
      for (const w of this.waiters) w();
    });
    proc.stderr!.on('data', (c: Buffer) => {
      this.stderr += c;
    });
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  }

  /** The first stdout line that matches, waiting up to `timeoutMs`. */
  waitFor(test: (line: string) => boolean, what: string, timeoutMs = 60_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = this.lines.find(test);
        if (line === undefined) return;
        done();
        resolve(line);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} within ${timeoutMs} ms; stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  async exitCode(timeoutMs = 60_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`process still running after ${timeoutMs} ms; stderr:\n${this.stderr}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

describe('the package as a library', () => {
  let app: string;
  const consumers: Consumer[] = [];

  /** Runs `code` as `<app>/<name>.mjs` with plain node. */
  async function run(name: string, code: string, env: Record<string, string> = {}): Promise<Consumer> {
    const file = join(app, `${name}.mjs`);
    await writeFile(file, code);
    const c = new Consumer(spawn(process.execPath, [file], { cwd: app, env: { ...process.env, HOME: app, ...env }, stdio: ['pipe', 'pipe', 'pipe'] }));
    consumers.push(c);
    return c;
  }

  before(async () => {
    buildDist();
    // an application directory that has the package installed as a dependency
    app = await mkdtemp(join(tmpdir(), 'lpapp-'));
    await mkdir(join(app, 'node_modules'));
    await symlink(ROOT, join(app, 'node_modules', 'livepeer-gateway'), 'dir');
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  });

  after(async () => {
    for (const c of consumers) c.kill();
    await rm(app, { recursive: true, force: true });
  });

  it("runs the README's example: it listens where it was told, answers, and stops on SIGINT", async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Using it as a library'));
    const example = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(example, 'README has a ```js example under "Using it as a library"');
    // the documented default ports may be taken on a shared machine: the same example on free ones
    const ports = { rtmp: await freePort(), http: await freePort(), cli: await freePort() };
    let code = example;
    for (const [documented, port] of [
      ['1935', ports.rtmp],
      ['9935', ports.http],
      ['5935', ports.cli],
    ] as const) {
      assert.ok(code.includes(`127.0.0.1:${documented}`), `the example sets 127.0.0.1:${documented}`);
      code = code.replace(`127.0.0.1:${documented}`, `127.0.0.1:${port}`);
    }
    const c = await run('readme', code);
    const line = await c.waitFor((l) => l.startsWith('publish to '), 'start-up line');
    assert.equal(line, `publish to rtmp://127.0.0.1:${ports.rtmp}/live/<name>`);
    assert.equal((await fetch(`http://127.0.0.1:${ports.http}/healthz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${ports.http}/stream/nothing.m3u8`)).status, 404);
    const status = await fetch(`http://127.0.0.1:${ports.cli}/status`);
    assert.equal(status.status, 200);
    assert.deepEqual(((await status.json()) as { Manifests: string[] }).Manifests, []);
    c.proc.kill('SIGINT');
    assert.equal(await c.exitCode(), 0, 'after stop() nothing keeps the process alive');
  });

  it('reports a stream on the event feed from start to end, and refuses a bad configuration', async () => {
    const segment = join(app, 'seg.ts');
    makeTestClip(segment, { seconds: 2, gopSeconds: 2 });
    const c = await run(
      'events',
      `
import { ConfigError, silentLogger, startGateway } from 'livepeer-gateway';

const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const refused = await startGateway({ maxSessions: 0 }).then(
  () => 'started',
  (err) => (err instanceof ConfigError ? err.message : String(err)),
);
const gateway = await startGateway(
  { rtmpAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', cliAddr: '127.0.0.1:0', datadir: process.env.DATADIR },
  { log: silentLogger() },
);
gateway.events.onAny((event, payload) => say({ event, payload }));
say({ ready: { refused, httpUrl: gateway.httpUrl, controlUrl: gateway.controlUrl, network: gateway.config.network.name } });
process.stdin.once('data', async () => {
  await gateway.stop();
  await gateway.stop();
  say({ stopped: true });
  process.stdin.destroy();
});
`,
      { DATADIR: join(app, 'data') },
    );
    const ready = JSON.parse(await c.waitFor((l) => l.includes('"ready"'), 'ready line')).ready;
    assert.match(ready.refused, /-maxSessions must be ≥ 1/);
    assert.equal(ready.network, 'offchain');
    assert.equal((await fetch(`${ready.httpUrl}/healthz`)).status, 200);

    // one pushed segment opens a stream; with no orchestrator configured it stays untranscoded
    const res = await fetch(`${ready.httpUrl}/live/libstream/0.ts`, { method: 'PUT', body: await readFile(segment) });
    assert.equal(res.status, 503);
    assert.match(await res.text(), /No sessions available/);
    const started = JSON.parse(await c.waitFor((l) => l.includes('"stream.started"'), 'stream.started event'));
    assert.equal(started.payload.manifestId, 'libstream');
    assert.equal(started.payload.ingest, 'push');
    assert.deepEqual(started.payload.profiles, ['P240p30fps16x9', 'P360p30fps16x9']);
    assert.equal((await fetch(`${ready.httpUrl}/stream/libstream.m3u8`)).status, 200, 'the source is served as HLS');
    const nodeStatus = (await (await fetch(`${ready.controlUrl}/status`)).json()) as { Manifests: string[] };
    assert.ok(nodeStatus.Manifests.includes('libstream'));

    c.proc.stdin!.write('stop\n');
    const ended = JSON.parse(await c.waitFor((l) => l.includes('"stream.ended"'), 'stream.ended event'));
    assert.equal(ended.payload.manifestId, 'libstream');
    assert.match(ended.payload.reason, /closing|shutting down/);
    await c.waitFor((l) => l.includes('"stopped"'), 'stopped line');
    assert.equal(await c.exitCode(), 0);
    const events = c.lines.filter((l) => l.includes('"event"')).map((l) => JSON.parse(l).event as string);
    assert.deepEqual(
      events,
      ['stream.started', 'segment.failed', 'stream.ended'],
      `one start, the segment no orchestrator took, one end: ${c.lines.join('\n')}`,
    );
  });
});
