#!/usr/bin/env node
// Entry point for the `livepeer-gateway` binary. It runs the compiled JavaScript in dist/ when dist/ is
// the build of the sources as they are now (`npm ci` builds it), so start-up loads no TypeScript
// loader. Otherwise (an edited checkout, or LIVEPEER_GATEWAY_FROM_SOURCE=1) it registers tsx and runs
// src/ directly: never a stale build.
import { setFlagsFromString } from 'node:v8';
import { distIsCurrent } from './dist.mjs';

// V8 sizes the next old-generation limit from the live heap and starts marking again as soon as the room
// left is below the young generation's size. With the live heap (~40 MB at 10 streams) that room is gone
// at once, and a full collection ran about every 0.5 s under load (measured with --trace-gc), a large part
// of the gateway's CPU. Letting the heap grow to twice its live size before the next one leaves about one
// every 4 s, for no measurable RSS. An operator's own setting (NODE_OPTIONS or a flag to node) wins.
if (![...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('heap-growing-percent'))) {
  setFlagsFromString('--heap-growing-percent=100');
}

let main;
if (process.env.LIVEPEER_GATEWAY_FROM_SOURCE !== '1' && distIsCurrent()) {
  ({ main } = await import('../dist/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
