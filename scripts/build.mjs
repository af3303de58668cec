#!/usr/bin/env node
// `npm run build` (also run by `npm ci` and at the start of `npm test`): compiles src/ into dist/ when
// dist/ is not the build of the current sources. `--force` rebuilds anyway.
import { buildDist } from './dist.mjs';
import { buildFrameCounter, buildMallocTuning, buildNative, buildThreadPolicy } from './native.mjs';

try {
  const force = process.argv.includes('--force');
  const result = buildDist({ force });
  if (result === 'built') console.log('dist/ built from src/');
  if (result === 'no-typescript') console.warn('TypeScript is not installed, so dist/ was not built; the livepeer-gateway binary runs src/ through tsx');
  reportAddon(buildNative({ force }), 'build/keccak1600.node', 'native/keccak1600*.c', 'keccak-256 runs in WebAssembly, a little slower');
  const counter = buildFrameCounter({ force });
  if (counter === 'built') console.log('build/frame-count built from native/frame_count.c');
  if (counter === 'no-libraries' || counter === 'failed')
    console.warn(
      `build/frame-count not built (${counter === 'failed' ? 'the C compiler failed' : 'pkg-config finds no libavformat, libavcodec, libavutil'}); sampled decodes start an ffmpeg each, about twice the CPU`,
    );
  reportAddon(
    buildMallocTuning({ force }),
    'build/malloc-tuning.node',
    'native/malloc_tuning.c',
    "segment buffers come from the allocator's own mmap rule, costlier under load",
  );
  reportAddon(
    buildThreadPolicy({ force }),
    'build/thread-policy.node',
    'native/thread_policy.c',
    'helper threads started after start-up keep the default scheduling policy',
  );
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
}

/** What building an addon against node's headers did, said once: built, or not and what that costs. */
function reportAddon(result, output, from, without) {
  if (result === 'built') console.log(`${output} built from ${from}`);
  if (result === 'no-headers' || result === 'failed')
    console.warn(`${output} not built (${result === 'failed' ? 'the C compiler failed' : 'no node headers beside this node'}); ${without}`);
}
