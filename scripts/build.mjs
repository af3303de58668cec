#!/usr/bin/env node
// `npm run build` (also run by `npm ci` and at the start of `npm test`): compiles src/ into dist/ when
// dist/ is not the build of the current sources. `--force` rebuilds anyway.
import { buildDist } from './dist.mjs';
import { buildFrameCounter, buildMallocTuning, buildNative, buildThreadPolicy } from './native.mjs';

try {
  const result = buildDist({ force: process.argv.includes('--force') });
  if (result === 'built') console.log('dist/ built from src/');
  if (result === 'no-typescript') console.warn('TypeScript is not installed, so dist/ was not built; the livepeer-gateway binary runs src/ through tsx');
  const native = buildNative({ force: process.argv.includes('--force') });
  if (native === 'built') console.log('build/keccak1600.node built from native/keccak1600*.c');
  if (native === 'no-headers' || native === 'failed')
    console.warn(
      `build/keccak1600.node not built (${native === 'failed' ? 'the C compiler failed' : 'no node headers beside this node'}); keccak-256 runs in WebAssembly, a little slower`,
    );
  const counter = buildFrameCounter({ force: process.argv.includes('--force') });
  if (counter === 'built') console.log('build/frame-count built from native/frame_count.c');
  if (counter === 'no-libraries' || counter === 'failed')
    console.warn(
      `build/frame-count not built (${counter === 'failed' ? 'the C compiler failed' : 'pkg-config finds no libavformat, libavcodec, libavutil'}); sampled decodes start an ffmpeg each, about twice the CPU`,
    );
  const malloc = buildMallocTuning({ force: process.argv.includes('--force') });
  if (malloc === 'built') console.log('build/malloc-tuning.node built from native/malloc_tuning.c');
  if (malloc === 'no-headers' || malloc === 'failed')
    console.warn(
      `build/malloc-tuning.node not built (${malloc === 'failed' ? 'the C compiler failed' : 'no node headers beside this node'}); segment buffers come from the allocator's own mmap rule, costlier under load`,
    );
  const policy = buildThreadPolicy({ force: process.argv.includes('--force') });
  if (policy === 'built') console.log('build/thread-policy.node built from native/thread_policy.c');
  if (policy === 'no-headers' || policy === 'failed')
    console.warn(
      `build/thread-policy.node not built (${policy === 'failed' ? 'the C compiler failed' : 'no node headers beside this node'}); helper threads started after start-up keep the default scheduling policy`,
    );
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
}
