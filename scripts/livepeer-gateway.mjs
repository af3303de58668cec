#!/usr/bin/env node
// Entry point for the `livepeer-gateway` binary. It runs the compiled JavaScript in dist/ when dist/ is
// the build of the sources as they are now (`npm ci` builds it), so start-up loads no TypeScript
// loader. Otherwise (an edited checkout, or LIVEPEER_GATEWAY_FROM_SOURCE=1) it registers tsx and runs
// src/ directly: never a stale build.
import { distIsCurrent } from './dist.mjs';
import { tuneGatewayProcess } from './processTuning.mjs';

tuneGatewayProcess();

let main;
if (process.env.LIVEPEER_GATEWAY_FROM_SOURCE !== '1' && distIsCurrent()) {
  ({ main } = await import('../dist/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
