import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { keepFreedMemory } from '../../src/lib/freedMemory.ts';

const here = dirname(fileURLToPath(import.meta.url));
const addonPath = join(here, '../../build/malloc-tuning.node');
const moduleUrl = new URL('../../src/lib/freedMemory.ts', import.meta.url).href;
/** glibc is the C library of every Linux build of node this project runs on (not Alpine's musl). */
const glibc = process.platform === 'linux' && Boolean((process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime);

/**
 * Page faults in a second round of Buffers after a first was freed by a full collection: 96 blocks of 1 MiB,
 * each written whole, as segments are. Runs in a child of its own, whose allocator starts as glibc sets it.
 */
function secondRoundFaults(keep: boolean): { setting: string; faults: number; pages: number } {
  const script = `
    const { keepFreedMemory } = await import(${JSON.stringify(moduleUrl)});
    const setting = ${keep} ? keepFreedMemory({}) : 'default';
    const round = () => { const kept = []; for (let i = 0; i < 96; i++) kept.push(Buffer.allocUnsafeSlow(1 << 20).fill(i)); return kept.length; };
    const settle = async () => { globalThis.gc(); globalThis.gc(); await new Promise((r) => setTimeout(r, 200)); };
    round(); await settle();
    const before = process.resourceUsage().minorPageFault;
    round();
    const faults = process.resourceUsage().minorPageFault - before;
    console.log(JSON.stringify({ setting, faults, pages: (96 << 20) / 4096 }));
  `;
  // an environment without MALLOC_* or GLIBC_TUNABLES, so the child's allocator starts at glibc's defaults
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MALLOC_') && k !== 'GLIBC_TUNABLES'));
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], { env, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!) as { setting: string; faults: number; pages: number };
}

describe('freed memory kept for reuse (build/malloc-tuning.node)', () => {
  it('is built wherever the C compiler and node headers are (npm run build), and takes both settings on glibc', { skip: !glibc && 'not glibc' }, () => {
    assert.ok(existsSync(addonPath), 'build/malloc-tuning.node is missing: npm run build');
    const addon = createRequire(import.meta.url)(addonPath) as { keepFreedMemory(a: unknown, b: unknown): boolean };
    assert.equal(addon.keepFreedMemory(128 * 2 ** 20, 32 * 2 ** 20), true);
    for (const bad of [[], [1], ['1', 2], [-1, 2], [2 ** 31, 2], [1, 2 ** 40]]) {
      assert.throws(() => (addon.keepFreedMemory as (...a: unknown[]) => boolean)(...bad), TypeError, JSON.stringify(bad));
    }
  });

  it('a second round of large Buffers reuses the first round’s memory instead of faulting fresh pages in', { skip: !glibc && 'not glibc' }, () => {
    const kept = secondRoundFaults(true);
    assert.equal(kept.setting, 'kept');
    const byDefault = secondRoundFaults(false);
    // glibc's defaults: the freed blocks went back to the kernel (mapped each, or trimmed), every page faults again
    assert.ok(byDefault.faults > byDefault.pages / 2, `default settings: ${byDefault.faults} faults for ${byDefault.pages} pages`);
    assert.ok(kept.faults < kept.pages / 10, `kept: ${kept.faults} faults for ${kept.pages} pages`);
  });

  it('leaves the allocator to an operator who set its thresholds in the environment', () => {
    for (const env of [
      { MALLOC_TRIM_THRESHOLD_: '0' },
      { MALLOC_MMAP_THRESHOLD_: '131072' },
      { MALLOC_TOP_PAD_: '0' },
      { MALLOC_MMAP_MAX_: '0' },
      { GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=0' },
      { GLIBC_TUNABLES: 'glibc.cpu.hwcaps=-AVX512F:glibc.malloc.top_pad=0' },
    ]) {
      assert.equal(keepFreedMemory(env), 'operator', JSON.stringify(env));
    }
    // other tunables are not the allocator's thresholds
    assert.equal(keepFreedMemory({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }), glibc ? 'kept' : 'unavailable');
  });
});
