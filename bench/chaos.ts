// One paid devnet stream through the gateway binary while things break: devnet orchestrators (child
// processes, load mode) are SIGKILLed and started again every 10 s, the gateway's chain RPC (through a
// loopback proxy) hangs for a minute in the middle, and the gateway itself is restarted once on the same
// data directory (the publisher reconnects). Afterwards: source segments missing from HLS, rendition gaps,
// each with its cause; the ledger, tickets sent and tickets the orchestrators read; and whether a ticket
// nonce was ever used twice. Not run by `npm test`.
// Run: npm run bench:chaos -- [--seconds 180] [--orchestrators 2]
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { deactivateOrchestrator, setServiceURI } from '../scripts/devnet/deploy.ts';
import { DEVNET_MAX_FACE_VALUE, DEVNET_TICKET_EV, startLocalNetwork } from '../scripts/devnet/network.ts';
import { bundleOrchestrator } from '../scripts/devnet/orchestrator/bundle.ts';
import type { TicketLogLine } from '../scripts/devnet/orchestrator/ticketLog.ts';
import { counter, exited, freePort, preEncodedInput, publish, root, sleep, startGatewayProcess, type GatewayProcess } from './harness.ts';
import { noneUpWindows, OrchestratorProcess } from './orchestratorProcess.ts';
import { startRpcProxy } from './rpcProxy.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '180' },
    orchestrators: { type: 'string', default: '2' },
    /** keep the run directory (logs, ticket logs, the gateway's data directory) */
    keep: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(args.seconds);
const K = Number(args.orchestrators);
if (!(SECONDS >= 40) || !Number.isInteger(K) || K < 2 || K > 3) throw new Error('--seconds must be ≥ 40 and --orchestrators 2 or 3');
const T = SECONDS * 1000;
const SEGMENT_MS = 2000;
const RENDITIONS = ['P240p30fps16x9', 'P360p30fps16x9'];
const MANIFEST = 'chaos';
/** The plan, in ms from the publisher's start. */
const PLAN = {
  orchestratorEveryMs: 10_000,
  /** how long a killed orchestrator stays down before it is started again (its start-up comes on top) */
  orchestratorDownMs: 3_000,
  cutAt: Math.round(T / 3),
  cutMs: Math.min(60_000, Math.round(T / 3)),
  gatewayRestartAt: Math.round(T * 0.75),
};

const runDir = await mkdtemp(join(tmpdir(), 'lpbench-chaos-'));
const input = await preEncodedInput();
const net = await startLocalNetwork({ orchestrators: [] });
const { devnet } = net;
const bundle = await bundleOrchestrator();
// Registered orchestrators this run does not start leave the pool, so only the killable ones serve.
for (const o of devnet.orchestrators.slice(K)) await deactivateOrchestrator(devnet.rpcUrl, devnet.contracts, o.address);
const orchestrators = await Promise.all(
  devnet.orchestrators.slice(0, K).map(
    async (o, index) =>
      new OrchestratorProcess({
        index,
        privateKey: o.privateKey,
        port: await freePort(),
        rpcUrl: devnet.rpcUrl,
        contracts: devnet.contracts,
        pricePerUnit: [1000n, 1200n, 1500n][index]!,
        ticketEV: DEVNET_TICKET_EV,
        maxFaceValue: DEVNET_MAX_FACE_VALUE,
        runDir,
        bundle,
      }),
  ),
);
for (const [i, o] of orchestrators.entries()) {
  await o.start();
  await setServiceURI(devnet.rpcUrl, devnet.contracts, devnet.orchestrators[i]!.address, o.uri);
}
const proxy = await startRpcProxy(devnet.rpcUrl);
const datadir = join(runDir, 'gateway');
const binary = join(root, 'scripts/livepeer-gateway.mjs');

// ---- what the gateway says: its event feed and its playlists ---------------------------------------
interface SeenEvent {
  instance: number;
  t: number;
  type: string;
  data: Record<string, unknown>;
}
const events: SeenEvent[] = [];
/** `${instance}/${playlist}/${seq}` → first seen (ms since epoch) */
const seen = new Map<string, number>();

function followEvents(control: string, instance: number, stop: AbortSignal): Promise<void> {
  return (async () => {
    const res = await fetch(`${control}/events`, { signal: stop });
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let end = buf.indexOf('\n\n');
      while (end >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        end = buf.indexOf('\n\n');
        const type = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (type && data) events.push({ instance, t: Date.now(), type, data: JSON.parse(data) as Record<string, unknown> });
      }
    }
  })().catch(() => {}); // ends with the gateway
}

function pollPlaylists(http: string, instance: number, stop: AbortSignal): Promise<void> {
  return (async () => {
    while (!stop.aborted) {
      for (const pl of ['source', ...RENDITIONS]) {
        const res = await fetch(`${http}/stream/${MANIFEST}/${pl}.m3u8`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
        if (res?.status !== 200) {
          await res?.arrayBuffer().catch(() => {});
          continue;
        }
        const now = Date.now();
        for (const m of (await res.text()).matchAll(/(\d+)\.ts$/gm)) {
          const key = `${instance}/${pl}/${m[1]}`;
          if (!seen.has(key)) seen.set(key, now);
        }
      }
      await sleep(500);
    }
  })();
}

interface Instance {
  gw: GatewayProcess;
  stop: AbortController;
  watchers: Promise<void>[];
}
async function startInstance(instance: number): Promise<Instance> {
  const gw = await startGatewayProcess(binary, net, 8, undefined, { datadir, flags: { ethUrl: proxy.url } });
  const stop = new AbortController();
  return { gw, stop, watchers: [followEvents(gw.control, instance, stop.signal), pollPlaylists(gw.http, instance, stop.signal)] };
}

// ---- the run ---------------------------------------------------------------------------------------
const timeline: { t: number; what: string }[] = [];
const mark = (what: string) => timeline.push({ t: Date.now(), what });
const loadBefore = loadavg();
let current = await startInstance(1);
// Warm-up: one short stream, so the load mode's renditions exist (on disk, shared by every start of the
// orchestrators) before anything is broken.
await exited(publish(input, `${current.gw.rtmp}/live/warmup`, 6));
for (const until = Date.now() + 30_000; Date.now() < until; await sleep(250)) {
  if (events.some((e) => e.type === 'stream.ended')) break;
}
await sleep(1000);
events.length = 0; // from here on, only the chaos stream counts (the ledger's per-stream row, tickets read after t0)
const t0 = Date.now();
const at = (ms: number) => sleep(t0 + ms - Date.now());
let publisher = publish(input, `${current.gw.rtmp}/live/${MANIFEST}`, SECONDS);
mark('publisher 1 started');
const published: { from: number; to?: number }[] = [{ from: t0 }];
let metricsBefore = '';
let gatewayDown = { from: 0, to: 0 };

let publishingEnded = false;
const orchestratorChaos = (async () => {
  // One at a time: the next kill waits for the last one's restart, so at least one is normally up.
  for (let k = 1; !publishingEnded && k * PLAN.orchestratorEveryMs < T - 5_000; k++) {
    await at(k * PLAN.orchestratorEveryMs);
    if (publishingEnded) break;
    const victim = orchestrators[(k - 1) % K]!;
    await victim.kill();
    mark(`orchestrator ${victim.spec.index + 1} killed`);
    await sleep(PLAN.orchestratorDownMs);
    await victim.start();
    mark(`orchestrator ${victim.spec.index + 1} up again`);
  }
})();
const rpcCut = (async () => {
  await at(PLAN.cutAt);
  proxy.cut();
  mark('RPC cut');
  await at(PLAN.cutAt + PLAN.cutMs);
  proxy.restore();
  mark('RPC restored');
})();
const gatewayRestart = (async () => {
  await at(PLAN.gatewayRestartAt);
  metricsBefore = await current.gw.metrics().catch(() => '');
  gatewayDown.from = Date.now();
  current.gw.proc.kill('SIGTERM');
  mark('gateway SIGTERM');
  await Promise.race([exited(current.gw.proc), sleep(30_000)]);
  current.gw.proc.kill('SIGKILL');
  await exited(current.gw.proc);
  current.stop.abort();
  await Promise.all(current.watchers);
  publisher.kill('SIGKILL'); // it lost its connection; a real encoder reconnects
  await exited(publisher);
  published[0]!.to = gatewayDown.from;
  current = await startInstance(2);
  // What is left of the plan, but at least 30 s: a slow restart on a loaded machine still gets a stream.
  const left = Math.max(30, Math.round((t0 + T - Date.now()) / 1000));
  publisher = publish(input, `${current.gw.rtmp}/live/${MANIFEST}`, left);
  publisher.once('exit', () => (published[1]!.to = Date.now()));
  gatewayDown = { ...gatewayDown, to: Date.now() };
  published.push({ from: gatewayDown.to });
  mark('gateway up again, publisher 2 started');
})();
await Promise.all([rpcCut, gatewayRestart]);
await exited(publisher);
publishingEnded = true;
timeline.push({ t: published[1]!.to!, what: 'publisher 2 ended' });

// The last segments finish (or fail), then the ledger is read through the control API.
for (const until = Date.now() + 20_000; Date.now() < until; await sleep(500)) {
  const sources = [...seen.keys()].filter((k) => k.startsWith('2/source/')).length;
  const done = events.filter((e) => e.instance === 2 && (e.type === 'segment.transcoded' || e.type === 'segment.failed')).length;
  if (sources > 0 && done >= sources) break;
}
await sleep(1500);
const status = (await (await fetch(`${current.gw.control}/status`)).json()) as { Ledger?: { streams?: Record<string, LedgerRow> } };
const metricsAfter = await current.gw.metrics();
current.gw.proc.kill('SIGTERM');
await exited(current.gw.proc);
current.stop.abort();
await Promise.all(current.watchers);
await orchestratorChaos; // a restart under way finishes first
await Promise.all(orchestrators.map((o) => o.stop()));
await proxy.close();
await net.stop();
const loadAfter = loadavg();

// ---- source segments -------------------------------------------------------------------------------
interface LedgerRow {
  tickets: number;
  open?: number;
  segments: number;
  failures: number;
}
const seqsOf = (instance: number, pl: string): number[] =>
  [...seen.keys()]
    .filter((k) => k.startsWith(`${instance}/${pl}/`))
    .map((k) => Number(k.split('/')[2]))
    .sort((a, b) => a - b);

interface SourceCount {
  seen: number;
  holes: number[];
  /** complete segments published before the instance stopped that it never listed */
  tail: number;
}
function sourceCount(instance: number, endedAt: number): SourceCount {
  const seqs = seqsOf(instance, 'source');
  if (seqs.length === 0) return { seen: 0, holes: [], tail: Math.floor((endedAt - published[instance - 1]!.from) / SEGMENT_MS) };
  const set = new Set(seqs);
  const last = seqs.at(-1)!;
  const holes: number[] = [];
  for (let s = 0; s <= last; s++) if (!set.has(s)) holes.push(s);
  // Segment 0 is listed once it is complete; segment k completes 2k s later.
  const firstListed = seen.get(`${instance}/source/${seqs[0]}`)!;
  const expected = seqs[0]! + Math.floor((endedAt - firstListed) / SEGMENT_MS) + 1;
  return { seen: seqs.length, holes, tail: Math.max(0, expected - (last + 1)) };
}
const src1 = sourceCount(1, gatewayDown.from);
const src2 = sourceCount(2, published[1]!.to!);
const downSegments = Math.round((gatewayDown.to - gatewayDown.from) / SEGMENT_MS);
const sourceMissingWhileDown = downSegments + src1.tail;
const sourceMissing = src1.holes.length + src2.holes.length + src2.tail;

// ---- rendition gaps, each with a cause ---------------------------------------------------------------
const noneUp = noneUpWindows(orchestrators, t0, published[1]!.to!);
const overlapsNoneUp = (a: number, b: number) => noneUp.some((w) => w.from < b && a < w.to);
const inCut = (t: number) => t >= t0 + PLAN.cutAt && t < t0 + PLAN.cutAt + PLAN.cutMs;
const causes = new Map<string, number>();
const otherErrors = new Map<string, number>();
let renditionGaps = 0;
for (const instance of [1, 2]) {
  const renditionSets = RENDITIONS.map((r) => new Set(seqsOf(instance, r)));
  for (const seq of seqsOf(instance, 'source')) {
    if (renditionSets.every((s) => s.has(seq))) continue;
    renditionGaps++;
    const sourceAt = seen.get(`${instance}/source/${seq}`)!;
    const outcome = events.find(
      (e) =>
        e.instance === instance && e.data.manifestId === MANIFEST && (e.type === 'segment.failed' || e.type === 'segment.transcoded') && e.data.seq === seq,
    );
    let cause: string;
    if (instance === 1 && (!outcome || outcome.t >= gatewayDown.from)) cause = 'gateway down';
    else if (!outcome) cause = 'other (no outcome seen)';
    else if (outcome.type === 'segment.transcoded') cause = 'other (transcoded, not listed)';
    else if (overlapsNoneUp(sourceAt - SEGMENT_MS, outcome.t)) cause = 'no orchestrator up';
    else {
      cause = inCut(outcome.t) ? 'other (during the RPC cut)' : 'other';
      const error = String(outcome.data.error ?? '').slice(0, 160);
      otherErrors.set(error, (otherErrors.get(error) ?? 0) + 1);
    }
    causes.set(cause, (causes.get(cause) ?? 0) + 1);
  }
}

// ---- money: the ledger, tickets sent, tickets read ---------------------------------------------------
const ledgerRow = status.Ledger?.streams?.[MANIFEST];
const ledgerTickets = ledgerRow?.tickets ?? 0;
const ledgerOpen = ledgerRow?.open ?? 0;
const payments = events.filter((e) => e.type === 'payment.sent' && e.data.manifestId === MANIFEST);
const sent = payments.reduce((n, e) => n + Number(e.data.tickets), 0);
const metricsSent = counter(metricsBefore, 'livepeer_tickets_sent') + counter(metricsAfter, 'livepeer_tickets_sent');

const received: (TicketLogLine & { orchestrator: number })[] = [];
for (const o of orchestrators) {
  const text = await readFile(o.ticketLog, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const r = line ? (JSON.parse(line) as TicketLogLine) : undefined;
    if (r && r.t >= t0) received.push({ ...r, orchestrator: o.spec.index + 1 });
  }
}
const afterSigterm = received.filter((r) => r.t >= gatewayDown.from && r.t < gatewayDown.to).length;
const credited = received.filter((r) => r.status === 'credited').length;
const refusals = new Map<string, number>();
for (const r of received) {
  if (r.status === 'credited') continue;
  const reason = r.status.replace(/ sender=.*$/, '').replace(/0x[0-9a-f]+/gi, '0x…');
  refusals.set(reason, (refusals.get(reason) ?? 0) + 1);
}
const uses = new Map<string, number>();
for (const r of received) {
  const key = `${r.sender}/${r.recipientRandHash}/${r.nonce}`;
  uses.set(key, (uses.get(key) ?? 0) + 1);
}
const nonceReuse = [...uses.values()].filter((n) => n > 1).length;

// Tickets sent to an orchestrator around its kill: the attempt ended within 3 s of the kill or while it was down.
const killedAround = (uri: string, t: number) => {
  const o = orchestrators.find((x) => x.uri === uri);
  if (!o) return false;
  return !o.ups.some((u) => u.from <= t && (u.to === undefined || t + 3000 < u.to));
};
const sentAroundKills = payments.filter((e) => killedAround(String(e.data.orchestrator), e.t)).reduce((n, e) => n + Number(e.data.tickets), 0);

const redemptions = new Map<string, number>();
for (const o of orchestrators) {
  const text = await readFile(o.logFile, 'utf8').catch(() => '');
  for (const m of text.matchAll(/"event":"redemption","status":"([^"]+)"/g)) redemptions.set(m[1]!, (redemptions.get(m[1]!) ?? 0) + 1);
}

// ---- report ----------------------------------------------------------------------------------------
const rel = (t: number) => `${((t - t0) / 1000).toFixed(1)}s`;
const fmtMap = (m: Map<string, number>) => [...m].map(([k, v]) => `${v} × ${k}`).join('; ') || 'none';
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')} before, ` +
    `${loadAfter.map((x) => x.toFixed(2)).join(' ')} after; run directory ${runDir}${args.keep ? '' : ' (removed)'}`,
);
console.log(
  `plan: ${SECONDS} s of 1280x720 30 fps → ${RENDITIONS.join(' + ')}, ${K} devnet orchestrators in load mode (child processes); ` +
    `one SIGKILLed every ${PLAN.orchestratorEveryMs / 1000} s, started again ${PLAN.orchestratorDownMs / 1000} s later; ` +
    `RPC cut ${PLAN.cutAt / 1000}–${(PLAN.cutAt + PLAN.cutMs) / 1000} s; gateway restarted at ${PLAN.gatewayRestartAt / 1000} s`,
);
console.log(
  `timeline: ${[...timeline]
    .sort((a, b) => a.t - b.t)
    .map((x) => `${rel(x.t)} ${x.what}`)
    .join(', ')}`,
);
for (const o of orchestrators) {
  const down = o.ups.slice(1).map((u, i) => u.from - o.ups[i]!.to!);
  console.log(
    `orchestrator ${o.spec.index + 1}: started ${o.starts} times, down ${down.map((d) => `${(d / 1000).toFixed(1)}s`).join(' ') || 'never'} (kill → ready)`,
  );
}
console.log(`windows with no orchestrator up: ${noneUp.map((w) => `${rel(w.from)}–${rel(w.to)}`).join(', ') || 'none'}`);
console.log(
  `RPC proxy: ${proxy.stats.connections} connections passed, ${proxy.stats.resetByCut} reset by the cut, ${proxy.stats.heldWhileCut} held unanswered while cut`,
);
console.log(
  `gateway down ${((gatewayDown.to - gatewayDown.from) / 1000).toFixed(1)} s (SIGTERM → ready again and the publisher back): ` +
    `${downSegments} segments of publishing time, plus ${src1.tail} complete segments the first gateway never listed`,
);
console.log(
  `source: ${src1.seen} + ${src2.seen} segments listed (before/after the restart); holes ${JSON.stringify(src1.holes)} / ${JSON.stringify(src2.holes)}, ` +
    `${src2.tail} unlisted at the end`,
);
console.log(
  `renditions: ${renditionGaps} source segments missing from a rendition playlist: ${fmtMap(causes)}` +
    (otherErrors.size ? `\n  other errors: ${fmtMap(otherErrors)}` : ''),
);
console.log(
  `money: ledger ${ledgerTickets} tickets (${ledgerOpen} attempts still open) ≥ sent ${sent} (payment.sent events; the tickets_sent counter, every attempt that created tickets, says ${metricsSent}) ` +
    `≥ read by the orchestrators ${received.length} (${credited} credited; refused: ${fmtMap(refusals)})`,
);
console.log(
  `  ledger − sent = ${ledgerTickets - sent}: the ledger counts every attempt whose tickets may have left, including those finished during the first gateway's ` +
    `graceful shutdown, after its /events feed had closed (orchestrators read ${afterSigterm} tickets after the SIGTERM); ` +
    `sent − read = ${sent - received.length}: ${sentAroundKills} tickets went to an orchestrator within 3 s of its kill or while it was down`,
);
console.log(`  redemptions: ${fmtMap(redemptions)}; nonce reuse: ${nonceReuse} (sender, recipientRandHash, nonce) seen more than once`);
console.log(
  `chaos: seconds=${SECONDS} source_missing=${sourceMissing} source_missing_while_gateway_down=${sourceMissingWhileDown} rendition_gaps=${renditionGaps} ` +
    `ledger_tickets=${ledgerTickets} sent=${sent} received=${received.length} nonce_reuse=${nonceReuse}`,
);
if (args.keep) await writeFile(join(runDir, 'events.jsonl'), events.map((e) => `${JSON.stringify(e)}\n`).join(''));
else await rm(runDir, { recursive: true, force: true });
process.exit(0);
