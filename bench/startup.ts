// Start-up time of the binary, compiled (dist/) against from source (tsx), runs interleaved so both see
// the same machine load: `-version`, and an off-chain gateway until it prints "Gateway Mode".
// Run: npx tsx bench/startup.ts [runs]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDist } from '../scripts/dist.mjs';

const runs = Number(process.argv[2] ?? 7);
const BIN = fileURLToPath(new URL('../scripts/livepeer-gateway.mjs', import.meta.url));
const MODES = { compiled: {}, source: { LIVEPEER_GATEWAY_FROM_SOURCE: '1' } } as const;
type Mode = keyof typeof MODES;

/** Milliseconds from spawn to exit, or to the first stdout containing `until` (then the process is stopped). */
function time(mode: Mode, args: string[], until?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...MODES[mode] }, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    let at: number | undefined;
    child.stdout.on('data', (c: Buffer) => {
      out += c;
      if (until && at === undefined && out.includes(until)) {
        at = performance.now() - t0;
        child.kill('SIGTERM');
      }
    });
    child.on('exit', (code) => {
      if (!until) return code === 0 ? resolve(performance.now() - t0) : reject(new Error(`-version exited ${code}`));
      return at === undefined ? reject(new Error(`exited ${code} before "${until}": ${out}`)) : resolve(at);
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

buildDist();
const results: Record<string, number[]> = {};
const add = (key: string, ms: number) => {
  results[key] = [...(results[key] ?? []), ms];
};
for (let i = 0; i < runs; i++) {
  for (const mode of Object.keys(MODES) as Mode[]) {
    add(`${mode} -version`, await time(mode, ['-version']));
    const datadir = mkdtempSync(join(tmpdir(), 'lpstart-'));
    const listen = ['-rtmpAddr', '127.0.0.1:0', '-httpAddr', '127.0.0.1:0', '-cliAddr', '127.0.0.1:0'];
    add(`${mode} gateway`, await time(mode, ['-gateway', '-datadir', datadir, ...listen], 'Gateway Mode'));
    rmSync(datadir, { recursive: true, force: true });
  }
}
console.log(`${cpus().length} × ${cpus()[0]?.model}, node ${process.version}, load ${loadavg()[0]!.toFixed(2)}, ${runs} runs each`);
for (const [key, xs] of Object.entries(results)) {
  console.log(
    `${key.padEnd(20)} median ${median(xs).toFixed(0).padStart(5)} ms   min ${Math.min(...xs)
      .toFixed(0)
      .padStart(5)} ms`,
  );
}
