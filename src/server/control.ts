// The control API on -cliAddr (default 127.0.0.1:5935), shaped like go-livepeer's so `livepeer_cli -http 5935`
// can drive a gateway: status, sender info and deposit transactions, rounds, orchestrators, metrics.
// No authentication: it binds to loopback unless the operator asks otherwise.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Address } from 'viem';
import type { OnchainPool } from '../discovery/onchainPool.ts';
import { bondingManagerAbi } from '../eth/abi/bondingManager.ts';
import { controllerAbi } from '../eth/abi/controller.ts';
import { livepeerTokenAbi } from '../eth/abi/livepeerToken.ts';
import { minterAbi } from '../eth/abi/minter.ts';
import { MULTICALL3_ADDRESS } from '../eth/abi/multicall3.ts';
import { roundsManagerAbi } from '../eth/abi/roundsManager.ts';
import { redactText, type EthClient } from '../eth/client.ts';
import { contractAddressMap, type LivepeerContracts } from '../eth/contracts.ts';
import { EthError, unwrapEthError } from '../eth/errors.ts';
import { latestL1Block, type RoundsWatcher } from '../eth/rounds.ts';
import { readSenderInfo, readTicketBrokerParams } from '../eth/senderInfo.ts';
import { runBrokerAction, type BrokerAction } from '../eth/ticketBroker.ts';
import { readTranscoderPool, type PoolOrchestrator } from '../eth/transcoderPool.ts';
import type { EthWallet, TxOptions } from '../eth/transactions.ts';
import type { Rat } from '../lib/rat.ts';
import { goJson } from './goJson.ts';

export const DEFAULT_CLI_HOST = '127.0.0.1';
export const DEFAULT_CLI_PORT = 5935;
const MAX_FORM_BYTES = 1 << 20;

/** What the control API needs on-chain; absent when the gateway runs off-chain. */
export interface ControlEth {
  client: EthClient;
  contracts: LivepeerContracts;
  /** The gateway's own account. */
  wallet: EthWallet;
  /** When given, /currentBlock answers from its snapshot instead of asking the RPC. */
  rounds?: RoundsWatcher;
  /** When given, /registeredOrchestrators answers from discovery's last read instead of reading the pool. */
  pool?: OnchainPool;
  /** -maxGasPrice / -transactionTimeout for the deposit endpoints. */
  tx?: TxOptions;
  /** Price per pixel last seen from an orchestrator, for /registeredOrchestrators (default 0/1). */
  pricePerPixel?: (orchestrator: Address) => Rat | undefined;
}

export interface ControlLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ControlServerOptions {
  /** -cliAddr: host:port, :port or host (default 127.0.0.1:5935); port 0 picks a free port. */
  addr?: string;
  /** /status body (go-livepeer's NodeStatus); the node supplies it so it can add its streams. */
  status: () => unknown;
  eth?: ControlEth;
  /** Prometheus registry for /metrics (-monitor); /metrics is 404 without it. */
  metrics?: Registry;
  /**
   * More routes from the node (e.g. /getBroadcastConfig, /setBroadcastConfig, /manifestID); they win over
   * the built-in ones of the same path.
   */
  routes?: Record<string, ControlRoute>;
  log?: ControlLog;
}

export interface ControlServer {
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  /** http://host:port */
  readonly url: string;
  close(): Promise<void>;
}

export class ControlAddrError extends Error {
  override name = 'ControlAddrError';
}

/** -cliAddr as go-livepeer reads it: ":5935" and "" mean loopback; a host without port gets 5935. */
export function parseCliAddr(addr = ''): { host: string; port: number } {
  const a = addr.trim();
  if (a === '') return { host: DEFAULT_CLI_HOST, port: DEFAULT_CLI_PORT };
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(a);
  if (!m) throw new ControlAddrError(`-cliAddr ${addr} is not host:port (e.g. 127.0.0.1:5935)`);
  const host = m[1] ?? (m[2] || DEFAULT_CLI_HOST);
  const port = m[3] === undefined ? DEFAULT_CLI_PORT : Number(m[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ControlAddrError(`-cliAddr ${addr}: port out of range`);
  return { host, port };
}

/** Thrown by a route: answered as go-livepeer's http.Error (status + plain-text message). */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Form = URLSearchParams;
/** A route's answer; json bodies are written with goJson. */
export type ControlReply =
  | { status?: number; type: 'text' | 'json' | 'bytes'; body: string | Uint8Array; contentType?: string }
  | { status?: number; type: 'empty' };
type Reply = ControlReply;
/** A route: form values (query + url-encoded body) in, reply out; throw ControlError for 4xx/5xx. */
export type ControlRoute = (form: URLSearchParams) => Promise<ControlReply> | ControlReply;
type Handler = ControlRoute;

/** Plain-text 200 reply. */
export const textReply = (body: string): ControlReply => ({ type: 'text', body });
/** Go-style JSON 200 reply. */
export const jsonReply = (value: unknown): ControlReply => ({ type: 'json', body: goJson(value) });
const text = textReply;
const json = jsonReply;

/** Go's http.Error. */
function sendError(res: ServerResponse, status: number, message: string): void {
  const body = `${message}\n`;
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

function send(res: ServerResponse, reply: Reply): void {
  const status = reply.status ?? 200;
  if (reply.type === 'empty') {
    res.writeHead(status, { 'Content-Length': 0 });
    res.end();
    return;
  }
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : Buffer.from(reply.body);
  const type =
    reply.contentType ?? (reply.type === 'json' ? 'application/json' : reply.type === 'bytes' ? 'application/octet-stream' : 'text/plain; charset=utf-8');
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': body.length });
  res.end(body);
}

/** Query string plus a url-encoded body, for any method (Go's FormValue). */
async function readForm(req: IncomingMessage): Promise<Form> {
  const url = new URL(req.url ?? '/', 'http://control');
  const form = new URLSearchParams(url.searchParams);
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new ControlError(400, 'request body too large');
    chunks.push(chunk);
  }
  if (type === 'application/x-www-form-urlencoded' && size > 0) {
    // Body values come first, as in Go's r.Form.
    const body = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const merged = new URLSearchParams(body);
    for (const [k, v] of form) merged.append(k, v);
    return merged;
  }
  return form;
}

/** A whole number of wei ≥ 0 (go-livepeer's ParseBigInt, without negatives). */
function parseWei(form: Form, name: string): bigint {
  const v = (form.get(name) ?? '').trim();
  if (!/^\d+$/.test(v)) throw new ControlError(400, `invalid ${name}: failed to parse big integer`);
  return BigInt(v);
}

function bigEndianBytes(n: bigint): Uint8Array {
  if (n <= 0n) return new Uint8Array(0);
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** go-livepeer's eth/types Transcoder. */
function goTranscoder(o: PoolOrchestrator, price: Rat | undefined): Record<string, unknown> {
  return {
    Address: o.address.toLowerCase(),
    ServiceURI: o.serviceURI,
    LastRewardRound: o.lastRewardRound,
    RewardCut: o.rewardCut,
    FeeShare: o.feeShare,
    DelegatedStake: o.stake,
    ActivationRound: o.activationRound,
    DeactivationRound: o.deactivationRound,
    LastActiveStakeUpdateRound: o.lastActiveStakeUpdateRound,
    Active: o.active,
    Status: o.status,
    PricePerPixel: price ?? { num: 0n, den: 1n },
  };
}

function lowerCaseValues(m: Record<string, Address>): Map<string, string> {
  return new Map(Object.entries(m).map(([k, v]) => [k, v.toLowerCase()]));
}

function routes(opts: ControlServerOptions): Map<string, Handler> {
  const eth = opts.eth;
  const r = new Map<string, Handler>();
  /** Endpoints that need Ethereum; off-chain they answer go-livepeer's 500. */
  const onchain = (handler: (e: ControlEth, form: Form) => Promise<Reply> | Reply): Handler => {
    return (form) => {
      if (!eth) throw new ControlError(500, 'missing ETH client');
      return handler(eth, form);
    };
  };
  /** Required form values are checked before anything else, as go-livepeer does. */
  const needs = (params: string[], handler: Handler): Handler => {
    return (form) => {
      for (const p of params) if (!form.get(p)) throw new ControlError(400, `missing form param: ${p}`);
      return handler(form);
    };
  };
  // On-chain writes are sent one at a time so two requests never race for the same nonce.
  let queue: Promise<unknown> = Promise.resolve();
  const write = (name: string, action: (form: Form) => BrokerAction): Handler =>
    onchain(async (e, form) => {
      const a = action(form);
      const run = queue.then(() => runBrokerAction({ eth: e.client, contracts: e.contracts, wallet: e.wallet }, a, e.tx ?? {}));
      queue = run.catch(() => undefined);
      try {
        const result = await run;
        opts.log?.info({ tx: result.hash, action: name }, 'Control API transaction mined');
      } catch (err) {
        throw new ControlError(500, `could not execute ${name}: ${describe(err, e.client)}`);
      }
      return text(`${name} success`);
    });

  r.set('/status', () => json(opts.status()));
  r.set('/EthChainID', () => text(String(eth?.client.chainId ?? 0)));
  r.set('/IsOrchestrator', () => text('false'));
  r.set('/IsRedeemer', () => text('false'));
  r.set('/currentBlock', async () => {
    if (!eth) return { type: 'empty' };
    const block = eth.rounds?.snapshot()?.lastSeenL1Block ?? (await latestL1Block(eth.client));
    return { type: 'bytes', body: bigEndianBytes(block) };
  });
  r.set(
    '/currentRound',
    onchain(async (e) => {
      const round = await e.client.publicClient.readContract({ address: e.contracts.roundsManager, abi: roundsManagerAbi, functionName: 'currentRound' });
      return text(round.toString());
    }),
  );
  r.set(
    '/ethAddr',
    onchain((e) => text(e.wallet.address)),
  );
  r.set(
    '/tokenBalance',
    onchain(async (e) => {
      const lpt = await e.client.publicClient.readContract({
        address: e.contracts.livepeerToken,
        abi: livepeerTokenAbi,
        functionName: 'balanceOf',
        args: [e.wallet.address],
      });
      return text(lpt.toString());
    }),
  );
  // -maxGasPrice: empty when there is no cap, as go-livepeer answers.
  r.set(
    '/maxGasPrice',
    onchain((e) => (e.tx?.maxGasPrice ? text(e.tx.maxGasPrice.toString()) : { type: 'empty' })),
  );
  r.set(
    '/minGasPrice',
    onchain(() => text('0')),
  );
  r.set(
    '/ethBalance',
    onchain(async (e) => text((await e.client.publicClient.getBalance({ address: e.wallet.address })).toString())),
  );
  r.set(
    '/senderInfo',
    onchain(async (e) => {
      const info = await readSenderInfo(e.client, e.contracts, e.wallet.address);
      return json({
        Deposit: info.deposit,
        WithdrawRound: info.withdrawRound,
        Reserve: { FundsRemaining: info.reserve.fundsRemaining, ClaimedInCurrentRound: info.reserve.claimedInCurrentRound },
      });
    }),
  );
  r.set(
    '/ticketBrokerParams',
    onchain(async (e) => json({ UnlockPeriod: (await readTicketBrokerParams(e.client, e.contracts)).unlockPeriod })),
  );
  r.set(
    '/contractAddresses',
    onchain((e) => json(lowerCaseValues(contractAddressMap(e.contracts)))),
  );
  r.set(
    '/protocolParameters',
    onchain((e) => protocolParameters(e)),
  );
  r.set(
    '/registeredOrchestrators',
    onchain(async (e) => {
      const pool = e.pool && e.pool.status().source !== 'none' ? e.pool.orchestrators() : await readTranscoderPool(e.client, e.contracts);
      return json(pool.map((o) => goTranscoder(o, e.pricePerPixel?.(o.address))));
    }),
  );
  r.set(
    '/fundDepositAndReserve',
    needs(
      ['depositAmount', 'reserveAmount'],
      write('fundDepositAndReserve', (f) => ({ kind: 'fundDepositAndReserve', deposit: parseWei(f, 'depositAmount'), reserve: parseWei(f, 'reserveAmount') })),
    ),
  );
  r.set(
    '/fundDeposit',
    needs(
      ['amount'],
      write('fundDeposit', (f) => ({ kind: 'fundDeposit', amount: parseWei(f, 'amount') })),
    ),
  );
  r.set(
    '/unlock',
    write('unlock', () => ({ kind: 'unlock' })),
  );
  r.set(
    '/cancelUnlock',
    write('cancelUnlock', () => ({ kind: 'cancelUnlock' })),
  );
  r.set(
    '/withdraw',
    write('withdraw', () => ({ kind: 'withdraw' })),
  );
  if (opts.metrics) {
    const registry = opts.metrics;
    r.set('/metrics', async () => ({ type: 'text', body: await registry.metrics(), contentType: registry.contentType }));
  }
  for (const [path, route] of Object.entries(opts.routes ?? {})) r.set(path, route);
  return r;
}

/** One line, no RPC URL secrets. */
function describe(err: unknown, client?: EthClient): string {
  const e = unwrapEthError(err);
  const msg =
    e instanceof EthError ? e.message : e instanceof Error ? ((e as { shortMessage?: string }).shortMessage ?? e.message.split('\n')[0] ?? '') : String(e);
  return client ? redactText(msg, client.urls) : msg;
}

/** go-livepeer's eth/types ProtocolParameters; values a chain lacks are null. */
async function protocolParameters(e: ControlEth): Promise<Reply> {
  const c = e.contracts;
  const results = await e.client.publicClient.multicall({
    multicallAddress: MULTICALL3_ADDRESS,
    allowFailure: true,
    batchSize: 0,
    contracts: [
      { address: c.bondingManager, abi: bondingManagerAbi, functionName: 'getTranscoderPoolMaxSize' },
      { address: c.roundsManager, abi: roundsManagerAbi, functionName: 'roundLength' },
      { address: c.roundsManager, abi: roundsManagerAbi, functionName: 'roundLockAmount' },
      { address: c.bondingManager, abi: bondingManagerAbi, functionName: 'unbondingPeriod' },
      { address: c.minter, abi: minterAbi, functionName: 'inflation' },
      { address: c.minter, abi: minterAbi, functionName: 'inflationChange' },
      { address: c.minter, abi: minterAbi, functionName: 'targetBondingRate' },
      { address: c.bondingManager, abi: bondingManagerAbi, functionName: 'getTotalBonded' },
      { address: c.minter, abi: minterAbi, functionName: 'getGlobalTotalSupply' },
      { address: c.controller, abi: controllerAbi, functionName: 'paused' },
    ],
  });
  const v = (i: number): unknown => {
    const x = results[i];
    return x?.status === 'success' ? x.result : null;
  };
  return json({
    NumActiveTranscoders: v(0),
    RoundLength: v(1),
    RoundLockAmount: v(2),
    UnbondingPeriod: v(3) ?? 0n,
    VerificationRate: 0,
    VerificationPeriod: null,
    SlashingPeriod: null,
    FailedVerificationSlashAmount: null,
    MissedVerificationSlashAmount: null,
    DoubleClaimSegmentSlashAmount: null,
    FinderFee: null,
    Inflation: v(4),
    InflationChange: v(5),
    TargetBondingRate: v(6),
    VerificationCodeHash: '',
    TotalBonded: v(7),
    TotalSupply: v(8),
    Paused: v(9) === true,
  });
}

export async function startControlServer(opts: ControlServerOptions): Promise<ControlServer> {
  const { host, port } = parseCliAddr(opts.addr);
  const table = routes(opts);
  const server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://control').pathname;
      const handler = table.get(path);
      try {
        const form = await readForm(req);
        if (!handler) return sendError(res, 404, '404 page not found');
        send(res, await handler(form));
      } catch (err) {
        if (res.headersSent) return void res.destroy();
        if (err instanceof ControlError) return sendError(res, err.status, err.message);
        const message = describe(err, opts.eth?.client);
        opts.log?.error({ path, err: message }, 'Control API request failed');
        sendError(res, 500, message);
      }
    })();
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const shownHost = bound.address.includes(':') ? `[${bound.address}]` : bound.address;
  const url = `http://${shownHost}:${bound.port}`;
  opts.log?.info({ addr: `${shownHost}:${bound.port}` }, `CLI server listening on ${shownHost}:${bound.port}`);
  return {
    server,
    host: bound.address,
    port: bound.port,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
