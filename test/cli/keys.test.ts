// `keys create|list|show|revoke` and `usage export --format csv|json` on a Level datadir.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rat } from '../../src/lib/rat.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { openStateStore } from '../../src/store/openStateStore.ts';
import { recordPaidJob } from '../../src/tenancy/usage.ts';
import { runCli } from '../helpers/cli.ts';

const cli = runCli;

describe('keys and usage commands', () => {
  let datadir: string;
  before(async () => {
    datadir = await mkdtemp(join(tmpdir(), 'lpgw-keys-cli-'));
  });
  after(() => rm(datadir, { recursive: true, force: true }));

  it('create prints the secret once; list, show and revoke manage the key', async () => {
    const created = await cli(['keys', 'create', '--name', 'acme', '--tier', 'standard', '--requestsPerMinute', '30', '-datadir', datadir]);
    assert.equal(created.code, 0, created.err);
    const token = created.out.trim();
    assert.match(token, /^lpgw_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    assert.match(created.err, /30 requests\/min, 5 concurrent streams/);
    assert.match(created.err, /rtmp:\/\/<host>\/live\/sk[0-9A-Za-z]{40} .*playback at \/stream\/[0-9a-f]{16}\.m3u8/);
    const id = token.split('_')[1]!;
    const list = await cli(['keys', 'list', '-datadir', datadir]);
    assert.match(list.out, new RegExp(`^${id} {2}"acme" {2}tier standard {2}active`));
    assert.ok(!list.out.includes(token.slice(22)), 'the secret is never printed again');
    assert.match((await cli(['keys', 'show', id, '-datadir', datadir])).out, /limits: 30 requests\/min/);
    assert.equal((await cli(['keys', 'revoke', id, '-datadir', datadir])).code, 0);
    assert.match((await cli(['keys', 'list', '-datadir', datadir])).out, /revoked/);
    assert.equal((await cli(['keys', 'show', 'ffffffffffffffff', '-datadir', datadir])).code, 2);
  });

  it('create takes spend caps in USD or wei and show prints them as given', async () => {
    const created = await cli(['keys', 'create', '--name', 'usd', '--spendPerDay', '5USD', '--spendPerMonth', '120000000000', '-datadir', datadir]);
    assert.equal(created.code, 0, created.err);
    assert.match(created.err, /spend cap 5USD\/day, 120000000000 wei\/month/);
    const id = created.out.trim().split('_')[1]!;
    assert.match((await cli(['keys', 'show', id, '-datadir', datadir])).out, /spend cap 5USD\/day, 120000000000 wei\/month/);
    const bad = await cli(['keys', 'create', '--name', 'x', '--spendPerDay', '5.1234567USD', '-datadir', datadir]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /not an amount of USD/);
  });

  it('refuses bad input before writing anything', async () => {
    assert.equal((await cli(['keys', 'create', '--name', 'x', '--tier', 'gold', '-datadir', datadir])).code, 2);
    assert.equal((await cli(['keys', 'create', '--name', 'x', '--spendPerDay', '-5', '-datadir', datadir])).code, 2);
    assert.equal((await cli(['keys', 'create', '--name', '<script>', '-datadir', datadir])).code, 2);
    assert.equal((await cli(['usage', 'export', '--from', 'yesterday', '-datadir', datadir])).code, 2);
  });

  it('usage export: every record as CSV or JSON, amounts exact', async () => {
    const store = await openStateStore({ datadir, log: silentLogger() });
    try {
      await recordPaidJob(store, {
        subject: '00000000000000aa',
        kind: 'ai',
        orchestrator: 'https://o1:8935',
        ev: rat(1n, 3n),
        faceValue: 1000n,
        tickets: 2,
        units: 512n,
        ok: true,
        pipeline: 'text-to-image',
        model: '=cmd|x',
      });
      await recordPaidJob(store, {
        subject: '00000000000000bb',
        kind: 'segment',
        orchestrator: 'https://o2:8935',
        ev: rat(7n),
        faceValue: 10n,
        tickets: 1,
        units: 0n,
        ok: true,
        stream: 'mystream',
      });
    } finally {
      await store.close();
    }
    const csv = await cli(['usage', 'export', '--format', 'csv', '-datadir', datadir]);
    assert.equal(csv.code, 0, csv.err);
    const lines = csv.out.trim().split('\r\n');
    assert.equal(lines[0], 'at,key,kind,orchestrator,pipeline,model,stream,tickets,units,ev_wei,face_value_wei,ok');
    assert.equal(lines.length, 3);
    assert.match(
      lines[1]!,
      /,00000000000000aa,ai,https:\/\/o1:8935,text-to-image,'=cmd\|x,,2,512,0\.333333333333333333,2000,true$/,
      'a formula-looking cell is defused',
    );
    const json = await cli(['usage', 'export', '--format', 'json', '--key', '00000000000000bb', '-datadir', datadir]);
    const rows = JSON.parse(json.out) as { key: string; stream: string; ev_wei: string }[];
    assert.deepEqual(
      rows.map((r) => [r.key, r.stream, r.ev_wei]),
      [['00000000000000bb', 'mystream', '7']],
    );
  });
});
