// Hostile orchestrator replies against the real gateway binary (dist/, off-chain): one process of
// ours plays K orchestrators (one TLS port each, HTTP/2 and HTTP/1.1) and answers every GetOrchestrator,
// /segment and rendition request with something hostile: mutated protobufs, truncated gRPC frames and
// bodies, wrong content types, slow bodies, resets, GOAWAYs, huge declared lengths, redirects, raw
// HTTP/1 garbage on an HTTP/2 port. Some replies are valid, so segments reach /segment and renditions.
// Streams are pushed over HTTP (a new stream discovers afresh, so suspensions do not end the attack).
// Prints `hostile: replies=N crashes=0 unhandled=0 rss_growth_mib=… seconds=…`.
//
//   npx tsx bench/hostileReplies.ts [replies (default 1500)]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { constants as h2, createSecureServer, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { generateSelfSignedCert } from '../scripts/devnet/orchestrator/cert.ts';
import { buildDist } from '../scripts/dist.mjs';
import { ALL_VIDEO_CAPABILITIES, capabilityBitstring } from '../src/net/capabilities.ts';
import { encodeMessage, type OrchestratorInfo, type TranscodeResult } from '../src/wire/lpRpc.ts';
import { makeTestClip } from '../test/media/testMedia.ts';
import { mutate, Rng } from '../test/hostile/protoMutator.ts';
import { root, sleep, treeStats } from './harness.ts';

const TARGET = Number(process.argv[2] ?? 1500);
const PORTS = 6; // orchestrators on HTTP/2 + TLS
const RAW_PORTS = 2; // "orchestrators" that answer raw HTTP/1 garbage or random bytes after the TLS handshake
const CONCURRENT_STREAMS = 4;
const SEED = Number(process.env.FUZZ_SEED ?? 1);
const rng = new Rng(SEED);

let replies = 0;
const kinds = new Map<string, number>();
const served = (kind: string): void => {
  replies++;
  kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
};

// A mistake in our own hostile server is reported, not mistaken for the gateway's crash.
let benchErrors = 0;
process.on('uncaughtException', (err) => {
  benchErrors++;
  console.error(`bench server error (not the gateway): ${err.message}`);
});

// ---- the hostile orchestrators ---------------------------------------------------------------------
const { cert, key } = await generateSelfSignedCert('127.0.0.1');

const validInfo = (uri: string): OrchestratorInfo => ({
  transcoder: uri,
  capabilities: { bitstring: capabilityBitstring(ALL_VIDEO_CAPABILITIES), mandatories: [], version: '0.9.1' },
  authToken: { token: new Uint8Array(16).fill(1), sessionId: `s${rng.int(1e9)}`, expiration: BigInt(Math.floor(Date.now() / 1000) + 600) },
  priceInfo: { pricePerUnit: 0n, pixelsPerUnit: 1n },
});
const validResult = (uri: string, seq: bigint): TranscodeResult => ({
  seq,
  data: { segments: [{ url: `${uri}/stream/r/${rng.int(1e9)}.ts`, pixels: 1000n }], sig: new Uint8Array(0) },
  info: validInfo(uri),
});

const grpcFrame = (msg: Uint8Array, declared = msg.length): Buffer => {
  const out = Buffer.alloc(5 + msg.length);
  out.writeUInt32BE(declared >>> 0, 1);
  out.set(msg, 5);
  return out;
};

/** Writes `body` a few bytes at a time, `everyMs` apart, then ends (a slowloris answer). */
function drip(res: Http2ServerResponse, body: Buffer, everyMs: number, chunks: number): void {
  const size = Math.max(1, Math.ceil(body.length / chunks));
  let at = 0;
  const tick = (): void => {
    if (!res.stream || res.stream.destroyed) return;
    if (at >= body.length) return void res.end();
    res.write(body.subarray(at, at + size));
    at += size;
    setTimeout(tick, everyMs).unref();
  };
  tick();
}

function grpcReply(res: Http2ServerResponse, uri: string): void {
  const info = encodeMessage('OrchestratorInfo', validInfo(uri));
  const ok = { ':status': 200, 'content-type': 'application/grpc' };
  const mode = rng.int(12);
  const stream = res.stream;
  // through the compatibility API, which sends the trailers itself
  const grpcOk = (): void => {
    res.writeHead(200, { 'content-type': 'application/grpc' });
    res.addTrailers({ 'grpc-status': '0' });
  };
  switch (mode) {
    case 0:
    case 1:
    case 2:
    case 3: // valid: lets segments through to /segment
      served('grpc-valid');
      grpcOk();
      return void res.end(grpcFrame(info));
    case 4: {
      served('grpc-mutated');
      grpcOk();
      return void res.end(grpcFrame(mutate(info, rng)));
    }
    case 5:
      served('grpc-truncated-frame');
      stream.respond(ok);
      return void stream.end(grpcFrame(info).subarray(0, 5 + rng.int(info.length)));
    case 6:
      served('grpc-huge-declared-length');
      stream.respond(ok);
      return void stream.end(grpcFrame(info, 0xffffffff));
    case 7:
      served('grpc-wrong-content-type');
      stream.respond({ ':status': 200, 'content-type': 'text/html' });
      return void stream.end('<html>nope</html>');
    case 8:
      served('grpc-slow-body');
      grpcOk();
      return drip(res, grpcFrame(info), 400, 8);
    case 9:
      served('grpc-reset');
      return void stream.close(h2.NGHTTP2_INTERNAL_ERROR);
    case 10:
      served('grpc-status-garbage');
      return void stream.respond({ ...ok, 'grpc-status': String(rng.int(100)), 'grpc-message': '%ff%fe\u0001' }, { endStream: true });
    default:
      served('grpc-goaway');
      return void stream.session?.goaway(h2.NGHTTP2_PROTOCOL_ERROR);
  }
}

function segmentReply(res: Http2ServerResponse, uri: string): void {
  const body = Buffer.from(encodeMessage('TranscodeResult', validResult(uri, 0n)));
  const stream = res.stream;
  const mode = rng.int(13);
  switch (mode) {
    case 0:
    case 1:
      served('segment-valid');
      res.writeHead(200, { 'content-type': 'application/vnd+livepeer.uri' });
      return void res.end(body);
    case 2:
      served('segment-mutated');
      res.writeHead(200);
      return void res.end(Buffer.from(mutate(body, rng)));
    case 3:
      served('segment-truncated');
      res.writeHead(200, { 'content-length': String(body.length) });
      res.write(body.subarray(0, rng.int(body.length)));
      return void setTimeout(() => res.stream?.close(h2.NGHTTP2_CANCEL), 50).unref();
    case 4:
      served('segment-wrong-content-type');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return void res.end('<html><body>502 Bad Gateway</body></html>');
    case 5:
      served('segment-huge-declared-length');
      res.writeHead(200, { 'content-length': '999999999999' });
      return void res.end(body);
    case 6:
      served('segment-slow-body');
      res.writeHead(200);
      return drip(res, body, 500, 6); // ~3 s: inside the 8 s budget
    case 7:
      served('segment-reset');
      return void stream.close(h2.NGHTTP2_REFUSED_STREAM);
    case 8:
      served('segment-redirect');
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
      return void res.end();
    case 9:
      served('segment-empty-200');
      res.writeHead(200);
      return void res.end();
    case 10:
      served('segment-oversized');
      res.writeHead(200);
      return void res.end(Buffer.alloc(16 * 1024 * 1024 + 1, 0x0a));
    case 11:
      served('segment-500-garbage');
      res.writeHead(500, { 'content-type': 'application/octet-stream' });
      return void res.end(Buffer.from(rng.bytes(2048)));
    default:
      served('segment-goaway');
      return void stream.session?.goaway(h2.NGHTTP2_ENHANCE_YOUR_CALM);
  }
}

function renditionReply(res: Http2ServerResponse): void {
  const mode = rng.int(6);
  switch (mode) {
    case 0:
      served('rendition-garbage');
      res.writeHead(200, { 'content-type': 'video/mp2t' });
      return void res.end(Buffer.from(rng.bytes(188 * 20)));
    case 1:
      served('rendition-truncated');
      res.writeHead(200, { 'content-length': '100000' });
      res.write(Buffer.alloc(1000, 0x47));
      return void setTimeout(() => res.stream?.close(h2.NGHTTP2_CANCEL), 50).unref();
    case 2:
      served('rendition-slow');
      res.writeHead(200);
      return drip(res, Buffer.alloc(188 * 10, 0x47), 500, 5);
    case 3:
      served('rendition-404');
      res.writeHead(404);
      return void res.end('not found');
    case 4:
      served('rendition-redirect');
      res.writeHead(301, { location: 'http://127.0.0.1:1/' });
      return void res.end();
    default:
      served('rendition-reset');
      return void res.stream.close(h2.NGHTTP2_INTERNAL_ERROR);
  }
}

interface Listening {
  uri: string;
  close(): Promise<void>;
}

async function hostileOrchestrator(): Promise<Listening> {
  let uri = '';
  const server = createSecureServer({ cert, key, allowHTTP1: true }, (req, res) => {
    req.on('error', () => {});
    res.on('error', () => {});
    req.resume(); // the segment upload is read and dropped
    const path = req.url ?? '/';
    try {
      if (String(req.headers['content-type'] ?? '').startsWith('application/grpc')) return grpcReply(res, uri);
      if (req.method === 'POST' && path.startsWith('/segment')) return segmentReply(res, uri);
      if (req.method === 'POST' && path.startsWith('/net.Orchestrator/')) return grpcReply(res, uri);
      return renditionReply(res);
    } catch {
      res.stream?.destroy();
    }
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  for (const ev of ['tlsClientError', 'sessionError', 'clientError']) server.on(ev, () => {});
  server.on('session', (s) => s.on('error', () => {}));
  server.on('stream', (s) => s.on('error', () => {}));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  uri = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    uri,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** A TLS port that speaks no HTTP/2: raw HTTP/1 garbage, or random bytes, or an immediate reset. */
async function rawGarbagePort(): Promise<Listening> {
  const server = createTlsServer({ cert, key, ALPNProtocols: ['http/1.1'] }, (socket) => {
    socket.on('error', () => {});
    const mode = rng.int(3);
    if (mode === 0) {
      served('raw-http1-garbage');
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 999999\r\nContent-Type: application/grpc\r\n\r\n\u0000\u0000\u0000');
    } else if (mode === 1) {
      served('raw-random-bytes');
      socket.end(Buffer.from(rng.bytes(512)));
    } else {
      served('raw-reset');
      socket.resetAndDestroy();
    }
  });
  server.on('tlsClientError', () => {});
  const sockets = new Set<Socket>();
  server.on('secureConnection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    uri: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

// ---- the gateway -----------------------------------------------------------------------------------
const orchestrators = [
  ...(await Promise.all(Array.from({ length: PORTS }, hostileOrchestrator))),
  ...(await Promise.all(Array.from({ length: RAW_PORTS }, rawGarbagePort))),
];

console.log(`building dist/: ${buildDist()}`);
const dir = mkdtempSync(join(tmpdir(), 'lpbench-hostile-'));
const clipFile = join(dir, 'clip.ts');
makeTestClip(clipFile, { seconds: 1, fps: 15, gopSeconds: 1, size: '320x180' });
const clip = readFileSync(clipFile);

const gw = spawn(
  process.execPath,
  [
    join(root, 'scripts/livepeer-gateway.mjs'),
    '-gateway',
    ...['-network', 'offchain', '-datadir', join(dir, 'gw'), '-rtmpAddr', '127.0.0.1:0', '-httpAddr', '127.0.0.1:0', '-cliAddr', '127.0.0.1:0'],
    ...['-orchAddr', orchestrators.map((o) => o.uri).join(','), '-transcodingOptions', 'P144p30fps16x9', '-maxSessions', '500', '-v', '0'],
  ],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
let out = '';
let unhandled = 0;
const watch = (c: Buffer): void => {
  const text = c.toString('utf8');
  out = (out + text).slice(-200_000);
  unhandled += (text.match(/unhandled|uncaught|FATAL ERROR|heap out of memory/gi) ?? []).length;
};
gw.stdout.on('data', watch);
gw.stderr.on('data', watch);
let crashed = 0;
let stopping = false;
gw.once('exit', (code, signal) => {
  if (!stopping) {
    crashed++;
    console.error(`gateway exited (code ${code}, signal ${signal}):\n${out.slice(-4000)}`);
  }
});
while (!/HTTP Server listening on (\S+)/.test(out)) {
  if (gw.exitCode !== null) throw new Error(`gateway did not start: ${out}`);
  await sleep(50);
}
const http = /HTTP Server listening on (\S+)/.exec(out)![1]!;
const httpUrl = http.startsWith('http') ? http : `http://${http}`;

const rssMib = (): number => treeStats([gw.pid!]).rssKb / 1024;
await sleep(2000);
const rssBefore = rssMib();
const started = Date.now();
const cpuBefore = treeStats([gw.pid!]).cpuS;

// ---- the attack ------------------------------------------------------------------------------------
const statuses = new Map<number, number>();
let streams = 0;
async function pushStream(id: number): Promise<void> {
  for (let seq = 0; seq < 3; seq++) {
    const status = await fetch(`${httpUrl}/live/hostile${id}/${seq}.ts`, { method: 'POST', body: clip, headers: { 'Content-Duration': '1000' } })
      .then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      })
      .catch(() => 0);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }
}
await Promise.all(
  Array.from({ length: CONCURRENT_STREAMS }, async () => {
    while (replies < TARGET && !crashed) {
      const id = streams++;
      await pushStream(id);
      if (id % 20 === 0) console.log(`  streams=${streams} replies=${replies} rss=${rssMib().toFixed(1)} MiB`);
    }
  }),
);
// Pushed streams end after a minute without segments: wait for them, so what is left is what leaked.
console.log('  waiting for the pushed streams to idle out (65 s)');
await sleep(65_000);
const rssAfter = rssMib();
const cpuS = treeStats([gw.pid!]).cpuS - cpuBefore;
const seconds = (Date.now() - started) / 1000;

stopping = true;
const alive = gw.exitCode === null && gw.signalCode === null;
gw.kill('SIGTERM');
await new Promise((r) => (gw.exitCode !== null ? r(undefined) : gw.once('exit', r)));
await Promise.all(orchestrators.map((o) => o.close()));
rmSync(dir, { recursive: true, force: true });

console.log(
  `machine: ${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(`reply kinds: ${JSON.stringify(Object.fromEntries([...kinds].sort()))}`);
console.log(`push answers (status: count): ${JSON.stringify(Object.fromEntries(statuses))}; streams ${streams}`);
console.log(`bench server errors: ${benchErrors}`);
console.log(`gateway: RSS ${rssBefore.toFixed(1)} → ${rssAfter.toFixed(1)} MiB, ${cpuS.toFixed(1)} CPU s, alive at the end: ${alive}`);
console.log(
  `hostile: replies=${replies} crashes=${crashed} unhandled=${unhandled} rss_growth_mib=${(rssAfter - rssBefore).toFixed(1)} seconds=${seconds.toFixed(0)}`,
);
process.exit(crashed || unhandled || !alive ? 1 : 0);
