// The README's managed-provider commands, as written: `livepeer-gateway keys create`, `npm start` with
// -apiKeys required on the devnet, the seed's curl request with the key — paid with real tickets, billed
// to the key to the wei of the ledger — and SIGTERM stopping it cleanly.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { freePort, waitUntil } from '../e2e/helpers.ts';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;
const MODEL = 'SG161222/RealVisXL_V4.0_Lightning';
/** The heap-prefault thread needs the addon built and MADV_POPULATE_WRITE (Linux 5.14). */
const [major = 0, minor = 0] = release().split('.').map(Number);
const PREFAULT = existsSync(join(ROOT, 'build/malloc-tuning.node')) && (major > 5 || (major === 5 && minor >= 14));

describe('managed provider: keys create, npm start -apiKeys required, the seed request', () => {
  let datadir: string;
  let child: ChildProcess | undefined;
  let printed = '';
  let token = '';
  let http = '';
  let control = '';

  before(async () => {
    datadir = await mkdtemp(join(tmpdir(), 'lpgw-managed-start-'));
    // livepeer-gateway keys create --name demo -datadir <dir>: the key on stdout, the rest on stderr
    const created = await run(
      process.execPath,
      ['scripts/livepeer-gateway.mjs', 'keys', 'create', '--name', 'demo', '--tier', 'standard', '-datadir', datadir],
      {
        cwd: ROOT,
        timeout: 120_000,
      },
    );
    token = created.stdout.trim();
    assert.match(token, /^lpgw_[0-9a-f]{16}_/);
    assert.match(created.stderr, /shown only now/);
    const [h, r, c] = [await freePort(), await freePort(), await freePort()];
    // npm start -- -apiKeys required -datadir <dir> (on free ports: other gateways may run here)
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/start.ts',
        '-apiKeys',
        'required',
        '-datadir',
        datadir,
        '-httpAddr',
        `127.0.0.1:${h}`,
        '-rtmpAddr',
        `127.0.0.1:${r}`,
        '-cliAddr',
        `127.0.0.1:${c}`,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (d: Buffer) => {
      printed += d.toString('utf8');
    });
    child.stderr!.on('data', (d: Buffer) => {
      printed += d.toString('utf8');
    });
    await waitUntil(async () => (/Local devnet ready/.test(printed) ? true : undefined), 240_000, `npm start to be ready:\n${printed}`);
    http = /HTTP Server listening on (http:\/\/[^\s"]+)/.exec(printed)![1]!;
    control = /CLI server listening on (http:\/\/[^\s"]+)/.exec(printed)![1]!;
  });
  after(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await rm(datadir, { recursive: true, force: true });
  });

  it('prints the request with the Authorization header', () => {
    assert.match(printed, /curl -X POST \S+\/text-to-image -H "Authorization: Bearer \$LIVEPEER_API_KEY"/);
  });

  it("the seed's request: 401 without the key; with it an image, paid with tickets and billed to the key to the wei", async () => {
    const body = JSON.stringify({ prompt: 'a mountain at dawn', model_id: MODEL });
    const anonymous = await fetch(`${http}/text-to-image`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    assert.equal(anonymous.status, 401);
    // curl -X POST http://127.0.0.1:<httpPort>/text-to-image -H "Authorization: Bearer $LIVEPEER_API_KEY" -H "Content-Type: application/json" -d '{…}'
    const r = await fetch(`${http}/text-to-image`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body });
    const answer = (await r.json()) as { images?: { url: string }[] };
    assert.equal(r.status, 200, JSON.stringify(answer));
    assert.equal(answer.images?.length, 1);

    const keyId = token.split('_')[1]!;
    let seen = '';
    const { ledger, usage } = await waitUntil(
      async () => {
        seen = await (async () =>
          `${control} ${await (await fetch(`${control}/usage?key=${keyId}&groupBy=model`)).text()} ${await (await fetch(`${control}/status`)).text()}`)().catch(
          (e: Error) => `${control}: ${e.message} ${String(e.cause)}`,
        );
        const status = (await (await fetch(`${control}/status`)).json()) as {
          Ledger: { ai: Record<string, { jobs: number; tickets: number; evPaidWei: string; faceValueSent: string; units: string }> };
        };
        const u = (await (await fetch(`${control}/usage?key=${keyId}&groupBy=model`)).json()) as {
          rows: { group: string; jobs: string; tickets: string; evWei: string; faceValueWei: string; units: string }[];
        };
        const e = status.Ledger.ai[`text-to-image/${MODEL}`];
        return e && u.rows[0]?.jobs === '1' ? { ledger: e, usage: u.rows[0] } : undefined;
      },
      30_000,
      'the job in the ledger and in the usage',
    ).catch((err: Error) => assert.fail(`${err.message}: ${seen}`));
    assert.ok(ledger.tickets > 0, 'paid with tickets');
    assert.equal(usage.group, MODEL);
    assert.equal(usage.tickets, String(ledger.tickets));
    assert.equal(usage.evWei, ledger.evPaidWei, 'EV billed = EV in the ledger, to the wei');
    assert.notEqual(usage.evWei, '0');
    assert.equal(usage.faceValueWei, ledger.faceValueSent);
    assert.equal(usage.units, ledger.units);
  });

  it("runs under the binary's heap rule: its heap-prefault thread is there", { skip: PREFAULT ? false : 'no addon or Linux before 5.14' }, () => {
    const threads = readdirSync(`/proc/${child!.pid}/task`).map((t) => readFileSync(`/proc/${child!.pid}/task/${t}/comm`, 'utf8').trim());
    assert.ok(threads.includes('heap-prefault'), `threads: ${threads.join(', ')}`);
  });

  it('SIGTERM: the gateway drains and exits', async () => {
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child!.kill('SIGTERM');
    const code = await exited;
    assert.ok(code === 0 || code === null, `exit code ${code}\n${printed.slice(-2000)}`);
    assert.match(printed, /shutting down/);
  });
});
