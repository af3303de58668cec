// A fresh self-signed ECDSA P-256 certificate for every orchestrator start, as go-livepeer does
// (IsCA, one year, the service host as subject alternative name). Made with the openssl binary.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { errorMessage, GatewayError } from '../../../src/lib/errors.ts';

const run = promisify(execFile);

export interface SelfSignedCert {
  /** PEM certificate */
  cert: string;
  /** PEM private key (never logged) */
  key: string;
}

export async function generateSelfSignedCert(host: string): Promise<SelfSignedCert> {
  const dir = await mkdtemp(join(tmpdir(), 'lp-orch-cert-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  const san = isIP(host) ? `IP:${host}` : `DNS:${host}`;
  try {
    await run(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '365',
        '-subj',
        `/CN=${host}`,
        '-addext',
        `subjectAltName=${san}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=digitalSignature,keyCertSign',
        '-addext',
        'extendedKeyUsage=serverAuth',
      ],
      { timeout: 10_000 },
    );
    const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    return { cert, key };
  } catch (err) {
    throw new GatewayError(`could not generate the orchestrator TLS certificate with openssl (is it installed?): ${errorMessage(err)}`, { cause: err });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
