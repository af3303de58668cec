// Signer mode's start-up rules, as the flags decide them: on-chain only, go-livepeer's signer ports, and
// fail closed — a signer reachable from outside the machine with no auth webhook does not start.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildNodeConfig, parseRemoteSignerUrl } from '../../src/cli/nodeConfig.ts';
import { parseHeaderList } from '../../src/signer/authWebhook.ts';
import { runCli } from '../helpers/cli.ts';

const ONCHAIN = { network: 'arbitrum-one-mainnet', ethUrl: 'https://rpc.example' };
const signerCfg = (o: Record<string, string>, given: string[] = []) =>
  buildNodeConfig(new Map(Object.entries({ ...ONCHAIN, remoteSigner: 'true', ...o })), (n) => given.includes(n) || n in o);

describe('remote signer start-up rules', () => {
  it('on-chain only, with go-livepeer’s message', () => {
    assert.throws(() => buildNodeConfig(new Map([['remoteSigner', 'true']]), () => false), /Remote signer mode requires on-chain network/);
  });

  it('listens on 127.0.0.1:8935 and the control API on 127.0.0.1:3935 unless told otherwise', () => {
    const c = signerCfg({});
    assert.deepEqual(c.httpAddr, { host: '127.0.0.1', port: 8935 });
    assert.deepEqual(c.cliAddr, { host: '127.0.0.1', port: 3935 });
    assert.ok(c.remoteSigner);
    assert.equal(c.remoteSigner.webhookUrl, undefined);
  });

  it('fails closed: a public -httpAddr without a webhook refuses to start', () => {
    for (const httpAddr of ['0.0.0.0:8935', '192.0.2.10:8935', '[::]:8935']) {
      assert.throws(
        () => signerCfg({ httpAddr }),
        /Refusing to start: remote signer on public -httpAddr .* -remoteSignerWebhookUrl .* -remoteSignerAllowNoAuth/,
        httpAddr,
      );
    }
  });

  it('the command line: the node exits non-zero with the reason before it binds or reads the chain', async () => {
    // -ethUrl points at a port nothing listens on: reaching the chain would fail differently (and later)
    const r = await runCli([
      '-remoteSigner',
      '-network',
      'arbitrum-one-mainnet',
      '-ethUrl',
      'http://127.0.0.1:9/',
      '-httpAddr',
      '0.0.0.0:0',
      '-cliAddr',
      '127.0.0.1:0',
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /Refusing to start: remote signer on public -httpAddr 0\.0\.0\.0:0 with no -remoteSignerWebhookUrl/);
    assert.doesNotMatch(r.out + r.err, /listening|ECONNREFUSED/i);
  });

  it('a public -httpAddr starts with a webhook, or with -remoteSignerAllowNoAuth', () => {
    const hooked = signerCfg({ httpAddr: '0.0.0.0:8935', remoteSignerWebhookUrl: 'https://auth.example/check' });
    assert.equal(hooked.remoteSigner?.webhookUrl, 'https://auth.example/check');
    const open = signerCfg({ httpAddr: '0.0.0.0:8935', remoteSignerAllowNoAuth: 'true' });
    assert.equal(open.remoteSigner?.allowNoAuth, true);
  });

  it('loopback addresses (127.x, ::1, localhost, a bare :port) need no webhook', () => {
    for (const httpAddr of ['127.0.0.1:8935', '127.3.4.5:1', 'localhost:8935', '[::1]:8935', ':8935']) {
      assert.doesNotThrow(() => signerCfg({ httpAddr }), httpAddr);
    }
  });

  it('a webhook URL must be http(s)', () => {
    assert.throws(() => signerCfg({ remoteSignerWebhookUrl: 'ftp://auth.example' }));
  });

  it('headers "k:v,k2:v2": split at commas, then at the first colon', () => {
    assert.deepEqual(parseHeaderList('Authorization: Bearer a:b, X-Id:7,broken,:empty'), { Authorization: 'Bearer a:b', 'X-Id': '7' });
    const c = signerCfg({ remoteSignerWebhookUrl: 'http://127.0.0.1:1/x', remoteSignerWebhookHeaders: 'X-Key:s3cret' });
    assert.deepEqual(c.remoteSigner?.webhookHeaders, { 'X-Key': 's3cret' });
  });

  it('a keyless gateway: -remoteSignerUrl off-chain; a bare host:port gets https://, paths and credentials are refused or dropped', () => {
    const c = buildNodeConfig(
      new Map([
        ['remoteSignerUrl', 'signer.internal:8935'],
        ['remoteSignerHeaders', 'Authorization:Bearer t'],
      ]),
      () => false,
    );
    assert.deepEqual(c.remoteSignerClient, { url: 'https://signer.internal:8935', headers: { Authorization: 'Bearer t' } });
    assert.equal(parseRemoteSignerUrl('http://10.0.0.2:8935/some/path?q=1'), 'http://10.0.0.2:8935');
    assert.throws(() => parseRemoteSignerUrl('http://user:pw@10.0.0.2:8935'), /credentials/);
    assert.throws(() => parseRemoteSignerUrl('ws://10.0.0.2'), /http/);
    assert.throws(() => buildNodeConfig(new Map(Object.entries({ ...ONCHAIN, remoteSignerUrl: 'http://127.0.0.1:8935' })), () => false), /-network offchain/);
  });
});
