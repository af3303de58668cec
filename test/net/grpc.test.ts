// The gRPC client against the devnet orchestrator (off-chain mode: no chain needed) over real TLS,
// plus hand-made servers for the failure modes a real orchestrator rarely shows on demand.
import assert from 'node:assert/strict';
import { createServer as createH2cServer, createSecureServer, type Http2Server, type Http2SecureServer } from 'node:http2';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startOrchestrator, type RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { generateSelfSignedCert } from '../../scripts/devnet/orchestrator/cert.ts';
import { serveUnary } from '../../scripts/devnet/orchestrator/grpcUnary.ts';
import { streamCapabilities } from '../../src/net/capabilities.ts';
import { endTranscodingSession, getOrchestrator, OrchestratorRpcError } from '../../src/net/grpc.ts';
import { encodeMessage } from '../../src/wire/lpRpc.ts';
import { P240p30fps16x9 } from './fixtures.ts';
import { rejection } from '../helpers/rejection.ts';

const silent = { logLevel: 'silent' } as const;
const request = { address: new Uint8Array(20), sig: new Uint8Array(0), capabilities: streamCapabilities({ profiles: [P240p30fps16x9] }) };

const rpcError = (p: Promise<unknown>): Promise<OrchestratorRpcError> => rejection(p, OrchestratorRpcError);

function listen(server: Server | Http2Server | Http2SecureServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function closeServer(server: Server | Http2Server | Http2SecureServer, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

function track(server: Server | Http2Server | Http2SecureServer): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

describe('GetOrchestrator / EndTranscodingSession over TLS', () => {
  let orch: RunningOrchestrator;
  let capped: RunningOrchestrator;
  before(async () => {
    orch = await startOrchestrator(silent);
    capped = await startOrchestrator({ ...silent, maxSessions: 0 });
  });
  after(async () => {
    await orch?.stop();
    await capped?.stop();
  });

  it('returns the orchestrator info through the self-signed certificate', async () => {
    const info = await getOrchestrator(orch.uri, request, { timeoutMs: 5000 });
    assert.equal(info.transcoder, orch.uri);
    assert.equal(info.authToken?.sessionId?.length, 8);
    assert.equal(info.authToken?.token?.length, 32);
    const expiresIn = Number(info.authToken!.expiration!) - Date.now() / 1000;
    assert.ok(expiresIn > 29 * 60 && expiresIn <= 30 * 60, `token expires in ${expiresIn} s`);
    assert.ok(info.capabilities?.bitstring?.length);
    assert.equal(info.ticketParams, undefined, 'an off-chain orchestrator sends no ticket params');
    assert.equal(info.priceInfo, undefined, 'an off-chain orchestrator sends no price');
  });

  it('every call opens a new session', async () => {
    const [a, b] = await Promise.all([getOrchestrator(orch.uri, request), getOrchestrator(orch.uri, request)]);
    assert.notEqual(a.authToken?.sessionId, b.authToken?.sessionId);
  });

  it('ignores the path of the URI, as go-livepeer dials host:port only', async () => {
    const info = await getOrchestrator(`${orch.uri}/some/path`, request);
    assert.equal(info.transcoder, orch.uri);
  });

  it('carries the orchestrator error text (OrchestratorCapped)', async () => {
    const err = await rpcError(getOrchestrator(capped.uri, request));
    assert.equal(err.failure, 'rejected');
    assert.equal(err.grpcCode, 2);
    assert.equal(err.orchestratorMessage, 'Invalid orchestrator request: OrchestratorCapped');
  });

  it('ends a session with its token and refuses a forged one', async () => {
    const info = await getOrchestrator(orch.uri, request);
    await endTranscodingSession(orch.uri, info.authToken!);
    const forged = { ...info.authToken!, token: new Uint8Array(32) };
    const err = await rpcError(endTranscodingSession(orch.uri, forged));
    assert.equal(err.orchestratorMessage, 'Invalid auth token');
  });
});

describe('gRPC failure modes', () => {
  it('a refused connection fails fast as "connect"', async () => {
    const tcp = createTcpServer();
    const port = await listen(tcp);
    await new Promise<void>((r) => tcp.close(() => r()));
    const t0 = Date.now();
    const err = await rpcError(getOrchestrator(`https://127.0.0.1:${port}`, request));
    assert.equal(err.failure, 'connect');
    assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
  });

  it('a server that never completes TLS hits the connect budget', async () => {
    const tcp = createTcpServer(() => {});
    const sockets = track(tcp);
    const port = await listen(tcp);
    try {
      const t0 = Date.now();
      const err = await rpcError(getOrchestrator(`https://127.0.0.1:${port}`, request, { connectTimeoutMs: 400 }));
      assert.equal(err.failure, 'timeout');
      const took = Date.now() - t0;
      assert.ok(took >= 350 && took < 2000, `took ${took} ms`);
    } finally {
      await closeServer(tcp, sockets);
    }
  });

  it('a stalled orchestrator hits the call deadline', async () => {
    const { cert, key } = await generateSelfSignedCert('127.0.0.1');
    const server = createSecureServer({ cert, key }, () => {
      // accepts the call and never answers
    });
    const sockets = track(server);
    const port = await listen(server);
    try {
      const t0 = Date.now();
      const err = await rpcError(getOrchestrator(`https://127.0.0.1:${port}`, request, { timeoutMs: 600 }));
      assert.equal(err.failure, 'timeout');
      const took = Date.now() - t0;
      assert.ok(took >= 550 && took < 2500, `took ${took} ms`);
    } finally {
      await closeServer(server, sockets);
    }
  });

  it('a reply that is not an OrchestratorInfo is "malformed", not a crash', async () => {
    const { cert, key } = await generateSelfSignedCert('127.0.0.1');
    const server = createSecureServer({ cert, key }, (req, res) => {
      void serveUnary(req, res, { '/net.Orchestrator/GetOrchestrator': async () => Uint8Array.from([0x0a, 0xff, 0xff, 0x01]) });
    });
    const sockets = track(server);
    const port = await listen(server);
    try {
      const err = await rpcError(getOrchestrator(`https://127.0.0.1:${port}`, request));
      assert.equal(err.failure, 'malformed');
    } finally {
      await closeServer(server, sockets);
    }
  });

  it('http:// URIs use plaintext HTTP/2', async () => {
    const server = createH2cServer((req, res) => {
      void serveUnary(req, res, {
        '/net.Orchestrator/GetOrchestrator': async () => encodeMessage('OrchestratorInfo', { transcoder: 'http://plain.example:8935' }),
      });
    });
    const sockets = track(server);
    const port = await listen(server);
    try {
      const info = await getOrchestrator(`http://127.0.0.1:${port}`, request);
      assert.equal(info.transcoder, 'http://plain.example:8935');
    } finally {
      await closeServer(server, sockets);
    }
  });

  it('refuses URIs it cannot dial', async () => {
    assert.equal((await rpcError(getOrchestrator('not a uri', request))).failure, 'bad-uri');
    assert.equal((await rpcError(getOrchestrator('ftp://127.0.0.1:1', request))).failure, 'bad-uri');
  });
});
