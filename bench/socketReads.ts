// What a socket read costs a server: node's own reads ('data' events, a Buffer per read) against reads into
// one buffer of ours (src/lib/readIntoBuffer.ts), as the RTMP listener now reads its publishers. A server
// process on core 0 accepts N connections; this process, on core 1, sends each a 12.5-kB message and a
// 400-byte one every 33 ms, as a 3-Mbit/s, 30-fps publisher sends video and audio. The server copies each
// read out, as the RTMP parser does. The two modes alternate, each run in a fresh server process; the
// server's CPU time (user + system) per read is printed per run, then the median and least of each mode.
// Run: npx tsx bench/socketReads.ts [seconds per run, default 10] [runs per mode, default 6] [connections, default 20]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { median, pinned, pinSelfToCore1 } from './harness.ts';

const serving = process.argv[2] === '--serve';
const [SECONDS, RUNS, CONNECTIONS] = serving ? [0, 0, 0] : [Number(process.argv[2] ?? 10), Number(process.argv[3] ?? 6), Number(process.argv[4] ?? 20)];
const MODES = ['data events', 'readIntoBuffer'] as const;
type Mode = (typeof MODES)[number];

interface ServerResult {
  cpuMs: number;
  reads: number;
  bytes: number;
}

// ------------------------------------------------------------------ the server (child process)

async function serve(mode: Mode): Promise<void> {
  const { createServer } = await import('node:net');
  const { readIntoBuffer } = await import('../src/lib/readIntoBuffer.ts');
  const shared = Buffer.allocUnsafeSlow(64 * 1024);
  const kept = Buffer.allocUnsafeSlow(1 << 20);
  let reads = 0;
  let bytes = 0;
  const consume = (b: Buffer): void => {
    b.copy(kept, 0, 0, Math.min(b.length, kept.length));
    reads++;
    bytes += b.length;
  };
  const server = createServer({ pauseOnConnect: mode === 'readIntoBuffer' }, (accepted) => {
    const socket = mode === 'readIntoBuffer' ? readIntoBuffer(accepted, shared, consume) : accepted.on('data', consume);
    socket?.on('error', () => {});
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
  let started = process.cpuUsage();
  process.on('message', (m) => {
    if (m === 'start') {
      started = process.cpuUsage();
      reads = 0;
      bytes = 0;
    } else if (m === 'stop') {
      const used = process.cpuUsage(started);
      process.send!({ cpuMs: (used.user + used.system) / 1000, reads, bytes } satisfies ServerResult, () => process.exit(0));
    }
  });
}

// ------------------------------------------------------------------ the sender (this process)

async function run(mode: Mode): Promise<ServerResult> {
  const [cmd, cmdArgs] = pinned(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', mode]);
  const server = spawn(cmd, cmdArgs, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [{ port }] = (await once(server, 'message')) as [{ port: number }];
  const sockets: Socket[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const s = connect(port, '127.0.0.1');
    s.setNoDelay(true);
    await once(s, 'connect');
    sockets.push(s);
  }
  const video = Buffer.alloc(12_500, 7);
  const audio = Buffer.alloc(400, 3);
  await new Promise((r) => setTimeout(r, 500));
  server.send('start');
  const timers: NodeJS.Timeout[] = [];
  // the connections' sends spread over the 33-ms period, as independent publishers' frames are
  for (const [i, s] of sockets.entries()) {
    const send = (): void => {
      s.write(video);
      s.write(audio);
    };
    timers.push(setTimeout(() => timers.push(setInterval(send, 33)), (i * 33) / CONNECTIONS));
  }
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  for (const t of timers) clearTimeout(t);
  server.send('stop');
  const [result] = (await once(server, 'message')) as [ServerResult];
  for (const s of sockets) s.destroy();
  return result;
}

async function main(): Promise<void> {
  pinSelfToCore1();
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; ${CONNECTIONS} connections, ${SECONDS} s per run, server on core 0`,
  );
  const perRead: Record<Mode, number[]> = { 'data events': [], readIntoBuffer: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const mode of i % 2 === 0 ? MODES : [...MODES].reverse()) {
      const r = await run(mode);
      const us = (r.cpuMs * 1000) / r.reads;
      perRead[mode].push(us);
      console.log(
        `${mode.padEnd(15)} ${(r.reads / SECONDS).toFixed(0)} reads/s, ${(r.bytes / SECONDS / 1e6).toFixed(2)} MB/s, CPU ${us.toFixed(1)} µs per read`,
      );
    }
  }
  for (const mode of MODES) {
    console.log(`${mode}: CPU per read median ${median(perRead[mode]).toFixed(1)} µs, least ${Math.min(...perRead[mode]).toFixed(1)} µs`);
  }
  console.log(`readIntoBuffer / data events, medians: ${(median(perRead.readIntoBuffer) / median(perRead['data events'])).toFixed(2)}`);
}

if (serving) await serve(process.argv[3] as Mode);
else await main();
