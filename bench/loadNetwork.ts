// The devnet for load runs (bench/load.ts, bench/soak.ts): the chain in this process, and each of the three
// orchestrators in a process of its own, in its load mode (renditions encoded once and reused). In their
// own processes, the orchestrators' event loops do not stop while this process starts publishers (a fork
// of a large process holds its loop for milliseconds each) or polls playlists: stalls that timed out
// uploads and cost segments the gateway was not to blame for. They still share core 1 with everything
// that is not under test.
//
// Winning tickets are about as rare as on the real network. The devnet's tests keep face values at 2 × the
// ticket EV, so every other ticket wins and is redeemed; under load that is a transaction, a block and a
// re-read of the sender's funds per two tickets, all on core 1. Here the orchestrators aim for 100 × a
// redemption's cost, with its gas at 10 (anvil's gas price is about 1 gwei): face values near 100 × the
// EV, so about one ticket in a hundred wins, as with go-livepeer's multiplier.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setServiceURI } from '../scripts/devnet/deploy.ts';
import { bundleOrchestrator } from '../scripts/devnet/orchestrator/bundle.ts';
import { DEVNET_TICKET_EV, type LocalNetwork, startLocalNetwork } from '../scripts/devnet/network.ts';
import { freePort } from './harness.ts';
import { OrchestratorProcess } from './orchestratorProcess.ts';

const PRICES = [1000n, 1200n, 1500n];
/**
 * Rounds of 1000 blocks. The tests' devnet has rounds of 20 blocks so that a demo shows a round change within
 * seconds; under load every redemption mines a block besides the keeper's one a second, rounds changed every
 * 8–10 s, and the orchestrators refused tickets as older than the validity period of 2 rounds (95 refusals,
 * 59 segments sent again, in one run of 72 streams × 60 s). On Arbitrum a round lasts about a day. At ~2 blocks
 * a second a round here lasts ~8 minutes: a knee run sees at most one change, the 20-minute soak a few.
 */
const ROUND_LENGTH = 1000n;

export interface LoadNetwork extends LocalNetwork {
  orchestratorProcesses: OrchestratorProcess[];
  /** where the orchestrators' logs are (orchestrator-N.log: a line per segment at info) */
  runDir: string;
}

/**
 * The devnet with its orchestrators sized for `streams` concurrent streams; `keepLogs` leaves the run
 * directory; `cpuProfDir` has each orchestrator write a CPU profile there when it stops.
 */
export async function startLoadNetwork(streams: number, opts: { keepLogs?: boolean; cpuProfDir?: string } = {}): Promise<LoadNetwork> {
  const runDir = await mkdtemp(join(tmpdir(), 'lpbench-load-'));
  const net = await startLocalNetwork({ orchestrators: [], roundLength: ROUND_LENGTH });
  const { devnet } = net;
  const orchestrators: OrchestratorProcess[] = [];
  const bundle = await bundleOrchestrator();
  const stopAll = async (keepLogs = opts.keepLogs) => {
    await Promise.allSettled(orchestrators.map((o) => o.stop()));
    await net.stop();
    if (!keepLogs) await rm(runDir, { recursive: true, force: true });
  };
  try {
    for (const [index, pricePerUnit] of PRICES.entries()) {
      const account = devnet.orchestrators[index];
      if (!account) throw new Error(`the devnet registers ${devnet.orchestrators.length} orchestrators; the load network needs ${PRICES.length}`);
      const o = new OrchestratorProcess({
        index,
        privateKey: account.privateKey,
        port: await freePort(),
        rpcUrl: devnet.rpcUrl,
        contracts: devnet.contracts,
        pricePerUnit,
        ticketEV: DEVNET_TICKET_EV,
        maxFaceValue: 100n * DEVNET_TICKET_EV,
        redeemGas: 10n,
        maxSessions: streams + 4,
        ticketLog: false,
        runDir,
        bundle,
        ...(opts.cpuProfDir ? { cpuProfDir: opts.cpuProfDir } : {}),
      });
      orchestrators.push(o);
      await o.start();
      await setServiceURI(devnet.rpcUrl, devnet.contracts, account.address, o.uri);
    }
  } catch (err) {
    await stopAll(true); // the logs say why
    throw err;
  }
  return { ...net, orchestratorProcesses: orchestrators, runDir, stop: () => stopAll() };
}
