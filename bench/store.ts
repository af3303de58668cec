// State store operations per second on both backends: the cost a request pays for its rate limit, a
// stream for its slot, a payment for its usage record. Level in a temp datadir; PostgreSQL a local
// throwaway cluster with fsync on (commits reach the disk, as on a real server).
// Run: npx tsx bench/store.ts [seconds per operation]
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../src/lib/log.ts';
import { openStateStore } from '../src/store/openStateStore.ts';
import type { StateStore } from '../src/store/stateStore.ts';
import { startPostgres } from '../test/helpers/postgres.ts';

const seconds = Number(process.argv[2] ?? 3);
/** callers in flight at once (requests of one gateway instance) */
const CONCURRENCY = 16;

async function measure(name: string, op: (i: number) => Promise<unknown>): Promise<void> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const worker = async () => {
    while (performance.now() < deadline) await op(done++);
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = (performance.now() - start) / 1000;
  console.log(`  ${name.padEnd(66)} ${(done / elapsed).toFixed(0).padStart(7)} /s`);
}

async function bench(store: StateStore): Promise<void> {
  console.log(`${store.location}, ${CONCURRENCY} callers in flight:`);
  const key = randomUUID();
  await measure('counters.add: 1 request/minute counter, one key', () =>
    store.counters.add([{ ns: 'rpm', key, period: 'minute', amount: 1n, limit: 10n ** 12n }]),
  );
  await measure('counters.add: spend vs day + month caps (transaction), one key', () =>
    store.counters.add([
      { ns: 'spend', key, period: 'day', amount: 10n ** 15n, limit: 10n ** 30n },
      { ns: 'spend', key, period: 'month', amount: 10n ** 15n, limit: 10n ** 30n },
    ]),
  );
  await measure('kv.compareAndSet: create, distinct keys', (i) => store.kv.compareAndSet('signer', `${key}-${i}`, 0, '{"seq":1}'));
  await measure('gauges.acquire + release, one gauge', async (i) => {
    await store.gauges.acquire('streams', key, `h${i}`, { limit: 1000, ttlMs: 60_000 });
    await store.gauges.release('streams', key, `h${i}`);
  });
  await measure('records.append: usage record', (i) =>
    store.records.append('usage', { subject: `key-${i % 50}`, amounts: { wei: 10n ** 15n }, tags: { pipeline: 'llm' } }),
  );
}

console.log(`machine: ${cpus()[0]?.model ?? 'unknown cpu'} × ${cpus().length}, node ${process.version}`);
const datadir = await mkdtemp(join(tmpdir(), 'lpgw-bench-'));
const level = await openStateStore({ datadir, log: silentLogger() });
await bench(level);
await level.close();
await rm(datadir, { recursive: true, force: true });

const cluster = await startPostgres({ durable: true });
try {
  const pg = await openStateStore({ storeUrl: await cluster.createDatabase(), datadir: '', log: silentLogger() });
  await bench(pg);
  await pg.close();
} finally {
  await cluster.stop();
}
