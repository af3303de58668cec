import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Command } from 'commander';
import { FlagError, normalizeGoArgs, parseConfigFile, parseGoBool, parseGoDuration } from '../../src/cli/flags.ts';
import { addNodeFlags, flagValues } from '../../src/cli/program.ts';

function parse(argv: string[], env: Record<string, string> = {}): Map<string, string> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const cmd = addNodeFlags(new Command().exitOverride().action(() => {}));
    cmd.parse(normalizeGoArgs(argv), { from: 'user' });
    return flagValues(cmd);
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

describe('Go-style flags', () => {
  it('accepts -flag value, -flag=value, --flag value, --flag=value', () => {
    for (const argv of [['-network', 'x'], ['-network=x'], ['--network', 'x'], ['--network=x']]) {
      assert.equal(parse(argv).get('network'), 'x', argv.join(' '));
    }
  });

  it('booleans: -flag is true, -flag=false turns off, value not consumed', () => {
    assert.equal(parse(['-gateway']).get('gateway'), 'true');
    assert.equal(parse(['-gateway=false']).get('gateway'), 'false');
    assert.equal(parse(['--monitor', '-network', 'offchain']).get('monitor'), 'true');
    assert.equal(parse(['-httpIngest=false']).get('httpIngest'), 'false');
    assert.throws(() => normalizeGoArgs(['-gateway=maybe']), /invalid boolean value "maybe"/);
  });

  it('the documented go-livepeer command line parses verbatim', () => {
    const v = parse([
      '-broadcaster',
      '-network',
      'arbitrum-one-mainnet',
      '-ethUrl',
      'https://arb1.example/rpc',
      '-ethKeystorePath',
      '/keys',
      '-maxPricePerUnit',
      '0',
      '-rtmpAddr',
      '127.0.0.1:1935',
      '-httpAddr',
      '127.0.0.1:8935',
    ]);
    assert.equal(v.get('broadcaster'), 'true');
    assert.equal(v.get('network'), 'arbitrum-one-mainnet');
    assert.equal(v.get('httpAddr'), '127.0.0.1:8935');
    assert.equal(v.get('cliAddr'), '127.0.0.1:5935');
  });

  it('defaults are the go-livepeer gateway defaults', () => {
    const v = parse([]);
    assert.equal(v.get('rtmpAddr'), '127.0.0.1:1935');
    assert.equal(v.get('httpAddr'), '127.0.0.1:9935');
    assert.equal(v.get('cliAddr'), '127.0.0.1:5935');
    assert.equal(v.get('transcodingOptions'), 'P240p30fps16x9,P360p30fps16x9');
    assert.equal(v.get('maxTicketEV'), '3000000000000');
    assert.equal(v.get('network'), 'offchain');
  });

  it('aliases map to the canonical flag (-dataDir → -datadir), negative values are values', () => {
    assert.equal(parse(['-dataDir', '/d']).get('datadir'), '/d');
    assert.equal(parse(['-selectPriceWeight', '-1']).get('selectPriceWeight'), '-1');
  });

  it('unknown flags and missing values are one clear error', () => {
    assert.throws(
      () => normalizeGoArgs(['-nope']),
      (e: Error) => e instanceof FlagError && e.message === 'flag provided but not defined: -nope',
    );
    assert.throws(() => normalizeGoArgs(['-ethUrl']), /flag needs an argument: -ethUrl/);
    assert.deepEqual(normalizeGoArgs(['-orchestrator']), ['--orchestrator=true'], 'orchestrator-only flags are accepted (then ignored)');
  });

  it('stops at -- and passes positional arguments through', () => {
    assert.deepEqual(normalizeGoArgs(['account', 'new', '-datadir', 'x']), ['account', 'new', '--datadir=x']);
    assert.deepEqual(normalizeGoArgs(['--', '-x']), ['--', '-x']);
  });
});

describe('LP_ environment variables and -config files', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('LP_<FLAG> sets a flag the command line did not', () => {
    assert.equal(parse([], { LP_ETHURL: 'http://env' }).get('ethUrl'), 'http://env');
    assert.equal(parse(['-ethUrl', 'http://cli'], { LP_ETHURL: 'http://env' }).get('ethUrl'), 'http://cli');
    assert.equal(parse([], { LP_GATEWAY: 'true' }).get('gateway'), 'true');
  });

  it('config file: name value per line, optional dashes, comments, bare booleans; lowest precedence', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lpcfg-'));
    dirs.push(dir);
    const file = join(dir, 'livepeer.conf');
    await writeFile(file, '# gateway\ngateway\n-network arbitrum-one-mainnet\nethUrl http://file # trailing comment\nmaxSessions 4\n\n--monitor=true\n');
    const v = parse(['-config', file, '-maxSessions', '7'], { LP_ETHURL: 'http://env' });
    assert.equal(v.get('gateway'), 'true');
    assert.equal(v.get('network'), 'arbitrum-one-mainnet');
    assert.equal(v.get('ethUrl'), 'http://env', 'env beats the file');
    assert.equal(v.get('maxSessions'), '7', 'command line beats the file');
    assert.equal(v.get('monitor'), 'true');
  });

  it('config file errors name the line', () => {
    assert.throws(() => parseConfigFile('network x\nbogusFlag 1\n', 'c.conf'), /c.conf:2: flag provided but not defined: -bogusFlag/);
  });
});

describe('value parsers', () => {
  it('durations like Go', () => {
    assert.equal(parseGoDuration('500ms'), 500);
    assert.equal(parseGoDuration('1m30s'), 90_000);
    assert.equal(parseGoDuration('2.5s'), 2500);
    assert.throws(() => parseGoDuration('5 minutes'), /invalid duration/);
  });
  it('booleans like Go', () => {
    assert.equal(parseGoBool('T'), true);
    assert.equal(parseGoBool('0'), false);
    assert.throws(() => parseGoBool('yes'), /invalid boolean/);
  });
});
