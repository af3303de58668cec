// Idle chain load: the gateway binary on the devnet with no stream running, its Ethereum JSON-RPC going
// through a counting loopback proxy. Prints the requests sent during start-up and the idle rate in requests
// per hour, by method (a rate-limited provider counts every request, batched or not).
// Run: node scripts/build.mjs && npx tsx bench/idleRpc.ts [--minutes 10] [--settle-seconds 30]
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalNetwork } from '../scripts/devnet/network.ts';
import { exited, root, sleep } from './harness.ts';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    /** start-up reads (pool walk, first round poll, sender info) are counted apart for this long after the gateway is up */
    'settle-seconds': { type: 'string', default: '30' },
  },
});
const MINUTES = Number(args.minutes);
const SETTLE_S = Number(args['settle-seconds']);
if (!(MINUTES > 0) || !(SETTLE_S >= 0)) throw new Error('--minutes must be > 0 and --settle-seconds ≥ 0');

const MAX_BODY = 1 << 20;
function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy(new Error('request body over 1 MiB'));
      else chunks.push(c);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

const net = await startLocalNetwork({ orchestrators: [1000n, 1200n].map((pricePerUnit) => ({ pricePerUnit, ai: null })) });
const upstream = net.gatewayFlags.ethUrl!;
console.error(`devnet up in ${net.readyMs} ms`);

// ---- the counting proxy ----------------------------------------------------------------------------
type Phase = 'startup' | 'idle';
let phase: Phase = 'startup';
const counts: Record<Phase, Map<string, number>> = { startup: new Map(), idle: new Map() };
let httpRequests = 0;
const proxy = createServer((req, res) => {
  void (async () => {
    try {
      const body = await readAll(req);
      httpRequests++;
      let calls: unknown;
      try {
        calls = JSON.parse(body.toString('utf8'));
      } catch {
        calls = undefined;
      }
      for (const call of Array.isArray(calls) ? calls : [calls]) {
        const method = typeof (call as { method?: unknown })?.method === 'string' ? (call as { method: string }).method : '(unparsable)';
        counts[phase].set(method, (counts[phase].get(method) ?? 0) + 1);
      }
      const answer = await fetch(upstream, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(30_000) });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    } catch (err) {
      res.writeHead(502).end(String(err));
    }
  })();
});
await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;

// ---- the gateway, idle -----------------------------------------------------------------------------
const datadir = await mkdtemp(join(tmpdir(), 'lpbench-idle-'));
const flags = Object.entries({
  ...net.gatewayFlags,
  ethUrl: proxyUrl,
  ethKeystorePath: join(root, 'keystore'),
  ethPassword: 'devnet',
  datadir,
  rtmpAddr: '127.0.0.1:0',
  httpAddr: '127.0.0.1:0',
  cliAddr: '127.0.0.1:0',
  v: '0',
}).flatMap(([k, v]) => [`-${k}`, v]);
const gw = spawn(process.execPath, [join(root, 'scripts/livepeer-gateway.mjs'), '-gateway', ...flags], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
gw.stdout!.on('data', (c) => (out += c));
while (!/CLI server listening on/.test(out)) {
  if (gw.exitCode !== null) throw new Error(`gateway exited: ${out}`);
  await sleep(50);
}
console.error('gateway up; counting');
await sleep(SETTLE_S * 1000);
phase = 'idle';
const idleStart = performance.now();
await sleep(MINUTES * 60_000);
const idleHours = (performance.now() - idleStart) / 3_600_000;
gw.kill('SIGTERM');
await exited(gw);
proxy.close();
await net.stop();
await rm(datadir, { recursive: true, force: true });

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const byMethod = (m: Map<string, number>, scale: number) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${scale === 1 ? n : (n * scale).toFixed(0)}`)
    .join(', ') || 'none';
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; the gateway binary on the devnet (default -blockPollingInterval), no stream`,
);
console.log(`start-up (until ${SETTLE_S} s after the gateway was up): ${total(counts.startup)} JSON-RPC requests: ${byMethod(counts.startup, 1)}`);
console.log(
  `idle over ${MINUTES} min: ${total(counts.idle)} JSON-RPC requests (${httpRequests} HTTP requests in all), ` +
    `${(total(counts.idle) / idleHours).toFixed(0)} per hour: ${byMethod(counts.idle, 1 / idleHours)} (per hour)`,
);
console.log(`idle-rpc: requests_per_hour=${(total(counts.idle) / idleHours).toFixed(0)} minutes=${MINUTES}`);
process.exit(0);
