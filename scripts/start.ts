// `npm start`: the README's main command. A local Livepeer network (devnet chain, contracts, three
// orchestrators) and this gateway against it, on the go-livepeer gateway ports. Ctrl-C stops all.
//   npm start [-- --demo] [-- any extra gateway flags, e.g. -v 4]
// With --demo it also publishes a 30 s test pattern and prints what was transcoded and paid.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startLocalNetwork } from './devnet/network.ts';
import { buildNodeConfig } from '../src/cli/nodeConfig.ts';
import { normalizeGoArgs } from '../src/cli/flags.ts';
import { createLogger } from '../src/node/logger.ts';
import { runUntilSignal, startNode } from '../src/node/run.ts';
import { ratToDecimal, rat } from '../src/lib/rat.ts';
import { checkMediaTools, describeMediaTools, ffmpegPath, mediaToolEnv } from '../src/media/ffmpegBinaries.ts';
import { tuneGatewayProcess } from './processTuning.mjs';

// the binary's allocator and collector settings: this process is the gateway
tuneGatewayProcess();

const KEYSTORE = fileURLToPath(new URL('../keystore', import.meta.url));
const args = process.argv.slice(2);
const demo = args.includes('--demo');
const extra = args.filter((a) => a !== '--demo');
const eth = (wei: bigint): string => `${ratToDecimal(rat(wei, 10n ** 18n), 18)} ETH`;

const datadir = await mkdtemp(join(tmpdir(), 'livepeer-gateway-devnet-'));
const net = await startLocalNetwork({ log: pino({ level: 'warn' }) });
const flags = new Map<string, string>(
  Object.entries({ ...net.gatewayFlags, ethKeystorePath: KEYSTORE, ethPassword: 'devnet', datadir, blockPollingInterval: '1', v: demo ? '0' : '3' }),
);
// extra gateway flags from the command line override the defaults above
for (const a of normalizeGoArgs(extra)) {
  const m = /^--([^=]+)=(.*)$/s.exec(a);
  if (m) flags.set(m[1]!, m[2]!);
}
const config = buildNodeConfig(flags);
const log = createLogger(config.verbosity, process.stderr, config.logFormat);
log.info(describeMediaTools(await checkMediaTools()));
const node = await startNode(config, log, process.stdout);

const depositOf = () => net.broadcasterDeposit();

const http = node.gateway.httpUrl;
// -apiKeys optional|required: requests carry a key from `livepeer-gateway keys create`
const auth = config.apiKeys.mode === 'off' ? '' : ' -H "Authorization: Bearer $LIVEPEER_API_KEY"';
process.stdout.write(
  [
    '',
    `Local devnet ready: ${net.orchestrators.length} orchestrators, RPC ${net.devnet.rpcUrl}, Controller ${net.devnet.contracts.controller}`,
    `Broadcaster ${net.broadcaster.address}: deposit ${eth(await depositOf())}`,
    '',
    `OBS:  Server  ${node.gateway.rtmpUrl}/live      Stream key  mystream`,
    `      (or: ffmpeg -re -i input.mp4 -c copy -f flv ${node.gateway.rtmpUrl}/live/mystream)`,
    `Play: ${http}/stream/mystream.m3u8`,
    `AI:   curl -X POST ${http}/text-to-image${auth} -H "Content-Type: application/json" \\`,
    `        -d '{"prompt": "a mountain at dawn", "model_id": "SG161222/RealVisXL_V4.0_Lightning"}'`,
    `      OpenAI clients: base URL ${http}/v1`,
    `Control API: livepeer_cli -http ${config.cliAddr.port}`,
    '',
  ].join('\n'),
);

const cleanup = async (): Promise<void> => {
  await net.stop();
  await rm(datadir, { recursive: true, force: true });
};

if (demo) {
  const before = await depositOf();
  const mid = 'demo';
  process.stdout.write(`Publishing a 30 s 1280x720 test pattern to ${node.gateway.rtmpUrl}/live/${mid} …\n`);
  process.stdout.write(`Watch it: ${http}/stream/${mid}.m3u8\n`);
  const ffmpeg = spawn(
    ffmpegPath(),
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=1280x720:rate=30',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440',
      '-t',
      '30',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-g',
      '60',
      '-keyint_min',
      '60',
      '-sc_threshold',
      '0',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-f',
      'flv',
      `${node.gateway.rtmpUrl}/live/${mid}`,
    ],
    { env: mediaToolEnv('ffmpeg'), stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const progress = setInterval(() => {
    const s = node.gateway.stream(mid)?.stats;
    if (s)
      process.stdout.write(
        `  segments in ${s.sourceSegments}, transcoded ${s.transcodedSegments}, tickets sent ${s.ticketsSent}, on ${s.orchestrator ?? '…'}\n`,
      );
  }, 4000);
  await new Promise((r) => ffmpeg.once('exit', r));
  clearInterval(progress);
  await new Promise((r) => setTimeout(r, 3000));
  for (const o of net.orchestrators) await o.redemptionsSettled();
  const status = await node.gateway.status();
  const ledger = (status.Ledger.streams as Record<string, { segments: number; transcoded: number; tickets: number; evPaidWei: string }>)[mid];
  const redemptions = net.orchestrators.flatMap((o) => o.stats.redemptions).filter((r) => r.status === 'redeemed');
  const redeemed = redemptions.reduce((s, r) => s + r.faceValue, 0n);
  const after = await depositOf();
  process.stdout.write(
    [
      '',
      'Demo summary',
      `  segments transcoded      ${ledger?.transcoded ?? 0} of ${ledger?.segments ?? 0}`,
      `  tickets sent             ${ledger?.tickets ?? 0} (expected value ${ledger?.evPaidWei ?? 0} wei)`,
      `  winning tickets redeemed ${redemptions.length} (face value ${eth(redeemed)})`,
      `  deposit before / after   ${eth(before)} / ${eth(after)}  (drop ${eth(before - after)})`,
      '',
    ].join('\n'),
  );
  await node.stop();
  await cleanup();
  process.exit(0);
}

await runUntilSignal(node, log);
await cleanup();
process.exit(0);
