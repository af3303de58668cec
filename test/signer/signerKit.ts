// Test helpers for the remote signer: a signer node on the devnet (the devnet broadcaster's key from the
// repo's keystore) on free ports, and the two requests its clients make, byte for byte as they send them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { LocalNetwork } from '../../scripts/devnet/network.ts';
import { startOrchestrator, type RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { buildNodeConfig } from '../../src/cli/nodeConfig.ts';
import { startSignerNode, type RunningSignerNode } from '../../src/node/signerNode.ts';

export const KEYSTORE = new URL('../../keystore', import.meta.url).pathname;

export interface TestSigner {
  node: RunningSignerNode;
  url: string;
  controlUrl: string;
  printed(): string;
  stop(): Promise<void>;
}

/** A signer node (-remoteSigner) with the devnet broadcaster's key; `flags` are added to the devnet's. */
export async function startTestSigner(flags: Record<string, string>): Promise<TestSigner> {
  const datadir = await mkdtemp(join(tmpdir(), 'lpsigner-'));
  const config = buildNodeConfig(
    new Map(
      Object.entries({
        remoteSigner: 'true',
        httpAddr: '127.0.0.1:0',
        cliAddr: '127.0.0.1:0',
        datadir,
        ethKeystorePath: KEYSTORE,
        ethPassword: 'devnet',
        blockPollingInterval: '1',
        ...flags,
      }),
    ),
    (name) => name in flags || ['httpAddr', 'cliAddr'].includes(name),
  );
  let printed = '';
  const node = await startSignerNode(
    config,
    pino({ level: process.env.LP_TEST_LOG ?? 'silent' }),
    new Writable({
      write: (c, _e, cb) => {
        printed += c;
        cb();
      },
    }),
  );
  return {
    node,
    url: node.signerUrl,
    controlUrl: node.controlUrl,
    printed: () => printed,
    async stop() {
      await node.stop();
      await rm(datadir, { recursive: true, force: true });
    },
  };
}

/** What livepeer-python-gateway's urllib request carries (remote_signer.py, orchestrator.py). */
export const PYTHON_HEADERS = { Accept: 'application/json', 'User-Agent': 'livepeer-python-gateway/0.1', 'Content-Type': 'application/json' };

/** Python's json.dumps with its default separators (", " and ": "), for flat and one-level objects of strings. */
export function pythonJson(payload: Record<string, string | Record<string, string>>): string {
  const value = (v: string | Record<string, string>): string =>
    typeof v === 'string'
      ? JSON.stringify(v)
      : `{${Object.entries(v)
          .map(([k, x]) => `${JSON.stringify(k)}: ${JSON.stringify(x)}`)
          .join(', ')}}`;
  return `{${Object.entries(payload)
    .map(([k, v]) => `${JSON.stringify(k)}: ${value(v)}`)
    .join(', ')}}`;
}

export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
}

export async function postRaw(url: string, body: string | undefined, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const res = await fetch(url, { method: 'POST', ...(body !== undefined ? { body } : {}), headers });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Standard base64 with padding, as Go writes []byte. */
export const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The signer tests' ticket EV (wei): with the price below, nine tickets leave 428 567 040 wei of credit. */
export const SIGNER_TEST_TICKET_EV = 1_000_000_000n;

/** The one devnet orchestrator the signer tests pay: 5.167 wei per pixel, face value at most 20 gwei. */
export function startSignerTestOrchestrator(net: LocalNetwork): Promise<RunningOrchestrator> {
  return startOrchestrator({
    privateKey: net.devnet.orchestrators[0]!.privateKey,
    rpcUrl: net.devnet.rpcUrl,
    contracts: net.devnet.contracts,
    pricePerUnit: 5167n,
    pixelsPerUnit: 1000n,
    ticketEV: SIGNER_TEST_TICKET_EV,
    maxFaceValue: 20_000_000_000n,
    redeemGas: 1n,
    logLevel: 'silent',
  });
}
