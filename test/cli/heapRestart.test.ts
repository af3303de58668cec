// A gateway process whose heap has no room to grow starts again, once (scripts/mallocTuning.mjs): V8 now
// and then reserves its code range right above node's heap. Here a preloaded library blocks the heap the
// same way, with a mapping a little above the program break made before node starts, so the real path
// runs: the binary reads its maps, execve()s itself through the addon, and the new start has the room.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from '../../scripts/dist.mjs';
import { HEAP_RESTART_ENV, heapRoom, MIN_HEAP_ROOM_BYTES } from '../../scripts/mallocTuning.mjs';

const BUILT = existsSync(join(ROOT, 'build', 'malloc-tuning.node'));
const CC = ['/usr/bin/cc', '/usr/bin/gcc'].find(existsSync);

// Before node runs: while $BLOCK_HEAP_ONCE names a file (removed then) or $BLOCK_HEAP_ALWAYS is set, a page
// is mapped 2-3 MiB above the program break, where the heap must grow. Each start is noted in
// $BLOCK_HEAP_LOG as "pid blocked".
const PRELOAD_C = `
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
__attribute__((constructor)) static void block_heap(void) {
  const char *once = getenv("BLOCK_HEAP_ONCE");
  const char *log = getenv("BLOCK_HEAP_LOG");
  int block = getenv("BLOCK_HEAP_ALWAYS") != NULL || (once != NULL && unlink(once) == 0);
  if (block) {
    uintptr_t at = (((uintptr_t)sbrk(0) + (1u << 20)) & ~(uintptr_t)0xfffff) + (2u << 20);
    block = mmap((void *)at, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != MAP_FAILED;
  }
  FILE *f = log ? fopen(log, "a") : NULL;
  if (f) {
    fprintf(f, "%d %d\\n", (int)getpid(), block);
    fclose(f);
  }
}
`;

// What the process that ran the binary's start-up ends as: its pid, the marker it started with, its heap's
// room after the start-up, its arguments (node's and the script's), the marker left for its children.
const PROBE = (processTuning: string, mallocTuning: string) => `
import { readFileSync } from 'node:fs';
const marker = process.env.${HEAP_RESTART_ENV} ?? null;
const { tuneGatewayProcess } = await import(${JSON.stringify(processTuning)});
tuneGatewayProcess();
const { heapRoom } = await import(${JSON.stringify(mallocTuning)});
console.log(JSON.stringify({
  pid: process.pid,
  marker,
  room: heapRoom(readFileSync('/proc/self/maps', 'utf8')),
  execArgv: process.execArgv,
  args: process.argv.slice(2),
  markerLeft: process.env.${HEAP_RESTART_ENV} ?? null,
}));
`;

interface Probe {
  pid: number;
  marker: string | null;
  room: number;
  execArgv: string[];
  args: string[];
  markerLeft: string | null;
}

describe('heapRoom: the room above the heap, from /proc/PID/maps', () => {
  it('reads the gap to the next mapping; the highest [heap] line counts; undefined without a heap', () => {
    // a gateway whose heap V8's code range blocked (kept from a soak): the heap ends where it starts
    const blocked = [
      '0563e000-0565d000 rw-p 0523d000 fe:00 260689                             /usr/bin/node',
      '0565d000-05689000 rw-p 00000000 00:00 0 ',
      '09577000-0983b000 rw-p 00000000 00:00 0                                  [heap]',
      '0983b000-0a840000 rw-p 00000000 00:00 0                                  [heap]',
      '0a840000-0a842000 rw-p 00000000 00:00 0 ',
      '0a842000-0a843000 ---p 00000000 00:00 0 ',
      '7f5ee8000000-7f5ee8021000 rw-p 00000000 00:00 0 ',
    ].join('\n');
    assert.equal(heapRoom(blocked), 0);
    const free = [
      '05689000-05950000 rw-p 00000000 00:00 0                                  [heap]',
      '2c74400000-2c74440000 rw-p 00000000 00:00 0 ',
      '7f5ee8000000-7f5ee8021000 rw-p 00000000 00:00 0 ',
    ].join('\n');
    assert.equal(heapRoom(free), 0x2c74400000 - 0x05950000);
    assert.equal(heapRoom('05689000-05950000 rw-p 00000000 00:00 0 [heap]\n'), Number.POSITIVE_INFINITY);
    assert.equal(heapRoom('0563e000-0565d000 rw-p 0523d000 fe:00 260689 /usr/bin/node\n'), undefined);
    assert.equal(heapRoom(''), undefined);
  });
});

describe('a gateway process whose heap cannot grow starts again', {
  skip: !BUILT ? 'build/malloc-tuning.node is not built' : !CC ? 'no C compiler' : false,
}, () => {
  let dir: string;
  let preload: string;
  let probe: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lpgw-heap-restart-'));
    writeFileSync(join(dir, 'block.c'), PRELOAD_C);
    preload = join(dir, 'block.so');
    const cc = spawnSync(CC!, ['-shared', '-fPIC', '-O1', '-o', preload, join(dir, 'block.c')], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    probe = join(dir, 'probe.mjs');
    writeFileSync(probe, PROBE(join(ROOT, 'scripts/processTuning.mjs'), join(ROOT, 'scripts/mallocTuning.mjs')));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs `args` under node with the preload; what it printed and the starts the preload noted. */
  function run(args: string[], env: Record<string, string>): { status: number | null; stdout: string; stderr: string; starts: string[] } {
    const log = join(dir, `starts-${Math.random().toString(36).slice(2)}.log`);
    const r = spawnSync(process.execPath, args, {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', LD_PRELOAD: preload, BLOCK_HEAP_LOG: log, ...env },
      timeout: 60_000,
    });
    const starts = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, starts };
  }

  it('blocked at the first start: the same process starts again, with its arguments, and then has the room', () => {
    const once = join(dir, 'block-once');
    writeFileSync(once, '');
    const r = run(['--max-semi-space-size=8', probe, 'an', 'argument'], { BLOCK_HEAP_ONCE: once });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Probe;
    // two starts of one process: the first blocked, the second not
    assert.deepEqual(r.starts, [`${out.pid} 1`, `${out.pid} 0`]);
    assert.equal(out.marker, '1');
    assert.equal(out.markerLeft, null);
    assert.ok(out.room >= MIN_HEAP_ROOM_BYTES, `room after the restart: ${out.room} bytes`);
    assert.deepEqual(out.execArgv, ['--max-semi-space-size=8']);
    assert.deepEqual(out.args, ['an', 'argument']);
  });

  it('a heap with room: one start', () => {
    const r = run([probe], {});
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Probe;
    assert.deepEqual(r.starts, [`${out.pid} 0`]);
    assert.equal(out.marker, null);
  });

  it('blocked again after the restart: it goes on as it is, started twice, never more', () => {
    const r = run([probe], { BLOCK_HEAP_ALWAYS: '1' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Probe;
    assert.deepEqual(r.starts, [`${out.pid} 1`, `${out.pid} 1`]);
    assert.ok(out.room < MIN_HEAP_ROOM_BYTES);
  });

  it('an operator’s own MALLOC_ setting: left alone, one start', () => {
    const once = join(dir, 'block-once-operator');
    writeFileSync(once, '');
    const r = run([probe], { BLOCK_HEAP_ONCE: once, MALLOC_TOP_PAD_: '1048576' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Probe;
    assert.deepEqual(r.starts, [`${out.pid} 1`]);
  });

  it('the binary itself: blocked once, it starts again and runs', () => {
    const once = join(dir, 'block-once-binary');
    writeFileSync(once, '');
    const r = run([join(ROOT, 'scripts/livepeer-gateway.mjs'), '-version'], { BLOCK_HEAP_ONCE: once });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^livepeer-gateway \S+ \(node v/);
    assert.equal(r.starts.length, 2, r.starts.join('; '));
    const [first, second] = r.starts.map((s) => s.split(' '));
    assert.equal(first![0], second![0]);
    assert.deepEqual([first![1], second![1]], ['1', '0']);
  });
});
