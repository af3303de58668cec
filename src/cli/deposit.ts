// `livepeer-gateway deposit info | fund | unlock | cancel-unlock | withdraw`: the broadcaster's TicketBroker
// funds, managed from the command line without a running node.
import { type Command, Option } from 'commander';
import { BaseError, formatEther, formatGwei, getAddress, isAddress, type Address } from 'viem';
import { connectEth, type EthConnection } from '../eth/connect.ts';
import { redactText } from '../eth/client.ts';
import { EthError, unwrapEthError } from '../eth/errors.ts';
import { chooseAccount, resolvePassword, unlockAccount } from '../eth/keystore.ts';
import { blocksUntilRound, describeBlocks, readSenderState, type SenderState } from '../eth/senderInfo.ts';
import { prepareBrokerTx, sendBrokerTx, type BrokerAction, type PreparedBrokerTx } from '../eth/ticketBroker.ts';
import { createWallet, type TxOptions, type TxProgress } from '../eth/transactions.ts';
import { presetByName, type VideoProfile } from '../media/profiles.ts';
import { estimateFee } from '../pm/ev.ts';
import { minRedeemableFaceValue, redeemGasFor, redemptionCost, targetFaceValue, TX_COST_MULTIPLIER } from '../pm/faceValue.ts';
import { div, mul, rat, ratToDecimal, type Rat } from '../lib/rat.ts';
import { boundedFetch } from '../lib/boundedFetch.ts';
import { maxFaceValue, type SenderInfo } from '../pm/senderInfo.ts';
import { keystoreDir } from './account.ts';
import { FlagError, parseGoBool, parseGoDuration, weiFlag } from './flags.ts';
import { parseEther, parseWei, parseWeiRat } from '../lib/wei.ts';
import type { Io } from './io.ts';
import { describeRunway } from '../node/spend.ts';
import { addNodeFlags, flagValues } from './program.ts';
import { confirm, readSecret } from './prompt.ts';

/** Flags of the deposit commands that are not gateway flags (for normalizeGoArgs). */
export const DEPOSIT_VALUE_FLAGS = ['deposit', 'reserve', 'price', 'profiles'] as const;

const ETH_FLAGS = [
  'network',
  'ethUrl',
  'ethController',
  'ethKeystorePath',
  'ethAcctAddr',
  'ethPassword',
  'datadir',
  'maxGasPrice',
  'transactionTimeout',
  'config',
] as const;

export const DEFAULT_PROFILES = 'P240p30fps16x9,P360p30fps16x9';
export const SEGMENT_MS = 2_000;

// ---- flag values

/** A decimal ETH amount as exact wei; rejects negatives, garbage and more than 18 decimals. */
export function parseEthAmount(value: string, flag: string): bigint {
  return weiFlag(() => parseEther(`--${flag}`, value));
}

/** -maxGasPrice (wei, 0 = no cap). */
export function parseMaxGasPrice(value: string | undefined): bigint {
  const v = (value ?? '0').trim() || '0';
  return weiFlag(() => parseWei('-maxGasPrice', v), `-maxGasPrice ${v} is not a whole number of wei (0 = no cap)`);
}

/** -transactionTimeout (Go duration, default 5m) in ms. */
export function parseTransactionTimeout(value: string | undefined): number {
  const ms = parseGoDuration((value ?? '5m').trim() || '5m');
  if (ms <= 0) throw new FlagError('-transactionTimeout must be greater than 0 (e.g. 5m)');
  return ms;
}

/** A price in wei per pixel (or per --pixelsPerUnit pixels): a whole, decimal or fractional number ≥ 0. */
export function parsePrice(value: string, pixelsPerUnit: string): Rat {
  const price = weiFlag(() => parseWeiRat('--price', value), `--price ${JSON.stringify(value)} is not a price in wei (e.g. 1200, or 0.5)`);
  if (!/^\d+$/.test(pixelsPerUnit.trim()) || BigInt(pixelsPerUnit.trim()) <= 0n) {
    throw new FlagError(`-pixelsPerUnit ${pixelsPerUnit} must be a whole number > 0`);
  }
  return div(price, rat(BigInt(pixelsPerUnit.trim())));
}

export function parseProfiles(value: string): VideoProfile[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !presetByName(n));
  if (names.length === 0 || unknown.length > 0) {
    throw new FlagError(`--profiles: unknown preset ${unknown.join(', ') || '(none given)'} (e.g. ${DEFAULT_PROFILES})`);
  }
  return names.map((n) => presetByName(n)!);
}

/** Values of the command's flags, also taking flags the operator put before the subcommand. */
function commandValues(cmd: Command): Map<string, string> {
  const values = flagValues(cmd);
  for (let parent = cmd.parent; parent; parent = parent.parent) {
    const opts = parent.opts<Record<string, unknown>>();
    for (const name of ETH_FLAGS) {
      const mine = cmd.getOptionValueSource(name);
      if ((mine === undefined || mine === 'default') && parent.getOptionValueSource(name) === 'cli' && opts[name] !== undefined) {
        values.set(name, String(opts[name]));
      }
    }
  }
  return values;
}

// ---- formatting

const eth = (wei: bigint): string => `${formatEther(wei)} ETH`;
const ethRat = (r: Rat, digits = 9): string => `${ratToDecimal(div(r, rat(10n ** 18n)), digits)} ETH`;
const gwei = (wei: bigint): string => `${formatGwei(wei)} gwei`;

function line(io: Io, label: string, text: string): void {
  io.out.write(`${label.padEnd(16)}${text}\n`);
}

function describeState(info: SenderInfo, s: Pick<SenderState, 'currentRound' | 'blockNum' | 'currentRoundStartBlock' | 'roundLength'>): string {
  const money = `deposit ${eth(info.deposit)}, reserve ${eth(info.reserve.fundsRemaining)}`;
  if (info.deposit === 0n && info.reserve.fundsRemaining === 0n) return `${money} (Empty)`;
  if (info.withdrawRound === 0n) return `${money} (Locked: usable for payments)`;
  if (info.withdrawRound > s.currentRound) {
    return `${money} (Unlocking: withdraw from round ${info.withdrawRound}, ${describeBlocks(blocksUntilRound(s, info.withdrawRound))})`;
  }
  return `${money} (Unlocked since round ${info.withdrawRound}: ready to withdraw)`;
}

function statusLine(s: SenderState): string {
  const i = s.info;
  switch (s.status) {
    case 'Empty':
      return 'Empty: nothing funded; run `livepeer-gateway deposit fund --deposit <ETH> --reserve <ETH>`';
    case 'Locked':
      return `Locked: usable for payments; \`deposit unlock\` starts a ${s.unlockPeriod}-round unlock period`;
    case 'Unlocking':
      return (
        `Unlocking: withdraw from round ${i.withdrawRound} (now round ${s.currentRound}, ` +
        `${describeBlocks(blocksUntilRound(s, i.withdrawRound))}); orchestrators refuse tickets from round ${i.withdrawRound - 1n} — ` +
        '`deposit cancel-unlock` to keep paying'
      );
    case 'Unlocked':
      return `Unlocked since round ${i.withdrawRound}: \`livepeer-gateway deposit withdraw\` pays out the deposit and reserve`;
  }
}

// ---- the commands

interface Context {
  values: Map<string, string>;
  conn: EthConnection;
  urls: string[];
}

async function connect(values: Map<string, string>): Promise<Context> {
  const conn = await connectEth({
    network: values.get('network') ?? 'offchain',
    ethUrl: values.get('ethUrl') ?? '',
    ethController: values.get('ethController') ?? '',
  });
  return { values, conn, urls: [...conn.client.urls] };
}

/** The account to report on: -ethAcctAddr as given, or the keystore's only key (no password needed). */
async function accountAddress(values: Map<string, string>): Promise<Address> {
  const given = values.get('ethAcctAddr')?.trim();
  if (given) {
    if (!isAddress(given, { strict: false })) throw new FlagError(`-ethAcctAddr ${given} is not an Ethereum address`);
    return getAddress(given);
  }
  return (await chooseAccount({ keystorePath: keystoreDir(values) })).address;
}

async function signingKey(values: Map<string, string>) {
  let password = await resolvePassword(values.get('ethPassword') ?? '');
  if (!password) password = await readSecret('Keystore password: ');
  const given = values.get('ethAcctAddr')?.trim();
  return unlockAccount({ keystorePath: keystoreDir(values), ...(given ? { address: given } : {}) }, password);
}

/** Errors as one clean sentence: our own as they are, viem's shortened and with RPC URLs redacted. */
function cleanError(err: unknown, urls: readonly string[]): Error {
  const e = unwrapEthError(err);
  if (e instanceof EthError || e instanceof FlagError) return e;
  if (e instanceof BaseError) return new Error(redactText(e.shortMessage, urls));
  if (e instanceof Error) return new Error(redactText(e.message, urls));
  return new Error(String(e));
}

async function withUrls<T>(values: Map<string, string>, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const urls = (values.get('ethUrl') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    throw cleanError(err, urls);
  }
}

export async function depositInfo(io: Io, values: Map<string, string>): Promise<void> {
  const address = await accountAddress(values);
  const price = values.get('price') ? parsePrice(values.get('price')!, values.get('pixelsPerUnit') ?? '1') : undefined;
  const profiles = parseProfiles(values.get('profiles') ?? DEFAULT_PROFILES);
  const { conn } = await connect(values);
  const [s, gasPrice] = await Promise.all([readSenderState(conn.client, conn.contracts, address), conn.client.publicClient.getGasPrice()]);
  const i = s.info;
  line(io, 'Account', address);
  line(
    io,
    'Network',
    `${conn.network.name} (chain ${conn.client.chainId}), round ${s.currentRound}${s.currentRoundInitialized ? '' : ' (not initialized yet)'}`,
  );
  line(io, 'ETH balance', eth(s.balance));
  line(io, 'Deposit', eth(i.deposit));
  line(
    io,
    'Reserve',
    `${eth(i.reserve.fundsRemaining)}${i.reserve.claimedInCurrentRound > 0n ? ` (${eth(i.reserve.claimedInCurrentRound)} claimed this round)` : ''}`,
  );
  line(io, 'Status', statusLine(s));

  // How long the deposit lasts at a price.
  if (price) {
    const perSegment = estimateFee(profiles, SEGMENT_MS, price);
    const segmentsPerHour = rat(3_600_000n / BigInt(SEGMENT_MS));
    const perHour = mul(perSegment, segmentsPerHour);
    const names = profiles.map((p) => p.name).join(', ');
    line(io, 'Cost', `about ${ethRat(perHour)} per hour of one stream (${names}; ${SEGMENT_MS / 1000} s segments at ${ratToDecimal(price, 6)} wei/pixel)`);
    if (perHour.num === 0n) line(io, 'Deposit lasts', 'indefinitely (price 0)');
    else if (i.deposit === 0n) line(io, 'Deposit lasts', 'no time at all: the deposit is 0');
    else {
      const hours = div(rat(i.deposit), perHour);
      line(io, 'Deposit lasts', `about ${ratToDecimal(hours, 1)} hours of one stream (${ratToDecimal(div(hours, rat(24n)), 1)} days)`);
    }
  } else {
    line(io, 'Deposit lasts', 'pass --price <wei per pixel> (or per -pixelsPerUnit pixels) to estimate it');
  }
  line(io, 'Runway', await runwayFromNode(values.get('cliAddr') || '127.0.0.1:5935', i.deposit));

  // What face values orchestrators will offer with this reserve.
  const redeemGas = redeemGasFor(conn.network.arbitrum);
  const txCost = redemptionCost(redeemGas, gasPrice);
  const typical = targetFaceValue(redeemGas, gasPrice);
  const floor = minRedeemableFaceValue(redeemGas, gasPrice);
  const share = s.reserveShare;
  line(io, 'Pool', `${s.poolSize} orchestrators; each may claim ${eth(share)} of the reserve per round (reserve ÷ pool size)`);
  line(
    io,
    'Face values',
    `at ${gwei(gasPrice)} a redemption costs ${eth(txCost)} (${redeemGas} gas); orchestrators offer face values up to ${eth(typical)} (${TX_COST_MULTIPLIER}×)`,
  );
  let verdict: string;
  const offered = share < typical ? share : typical;
  if (s.poolSize === 0n) verdict = 'no orchestrators in the pool: nobody can be paid on this network right now';
  else if (share === 0n) {
    verdict = `no reserve: orchestrators will not issue tickets to this account. Fund a reserve of at least ${eth(floor * s.poolSize)} (better ${eth(typical * s.poolSize)})`;
  } else if (share < floor) {
    verdict =
      `reserve too small: a share of ${eth(share)} is below the cost of redeeming a ticket, so orchestrators will refuse to issue tickets. ` +
      `Fund a reserve of at least ${eth(floor * s.poolSize)} (better ${eth(typical * s.poolSize)})`;
  } else if (share < typical) {
    verdict =
      `orchestrators will cap face values at ${eth(share)} (your reserve share): tickets work, they are just smaller and win more often. ` +
      `A reserve of ${eth(typical * s.poolSize)} allows full-size face values`;
  } else {
    verdict = `the reserve covers full-size face values (${eth(typical)}) for every orchestrator in the pool`;
  }
  line(io, 'Max face value', verdict);
  if (offered > 0n) {
    const multiplier = values.get('depositMultiplier') ?? '1';
    if (!/^\d+$/.test(multiplier) || BigInt(multiplier) <= 0n) throw new FlagError(`-depositMultiplier ${multiplier} must be a whole number > 0`);
    const acceptable = maxFaceValue(i, BigInt(multiplier));
    if (acceptable < offered) {
      line(
        io,
        'Deposit check',
        `the gateway accepts face values up to ${eth(acceptable)} (deposit ÷ -depositMultiplier ${multiplier}), below the ${eth(offered)} ` +
          'orchestrators offer: it will refuse their tickets; fund more deposit',
      );
    } else {
      line(io, 'Deposit check', `the deposit covers ${i.deposit / offered} winning tickets of ${eth(offered)}`);
    }
  }
}

/**
 * The deposit's runway at the last hour's spend, as the running gateway on -cliAddr measured it (its /status
 * Money block). The gateway may be on another deposit's account: only its pace is used.
 */
async function runwayFromNode(cliAddr: string, deposit: bigint): Promise<string> {
  const base = `http://${cliAddr.startsWith(':') ? `127.0.0.1${cliAddr}` : cliAddr}`;
  let perHour: bigint;
  try {
    const res = await boundedFetch(`${base}/status`, {}, { timeoutMs: 3000, maxRedirects: 0 });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    const text = res.body.toString('utf8');
    const money = (JSON.parse(text) as { Money?: { PerHourWei?: unknown } }).Money;
    if (typeof money?.PerHourWei !== 'string' || !/^\d+$/.test(money.PerHourWei)) throw new Error('no Money block');
    perHour = BigInt(money.PerHourWei);
  } catch {
    return `no running gateway answered at ${base} (-cliAddr) to measure the last hour's spend`;
  }
  if (perHour === 0n) return `the gateway at ${base} spent nothing in the last hour`;
  const seconds = Number((deposit * 3600n) / perHour);
  return `${describeRunway(seconds)} (${eth(perHour)} per hour, measured by the gateway at ${base})`;
}

function printPlan(io: Io, p: PreparedBrokerTx, chain: { chainId: number; ticketBroker: string }): void {
  const s = p.before;
  // Which chain and contract the money goes to: a wrong -ethUrl or -ethController shows here, before sending.
  line(io, 'Chain', `chain id ${chain.chainId}, TicketBroker ${chain.ticketBroker}`);
  line(io, 'Account', `${s.address} (balance ${eth(s.balance)}), round ${s.currentRound}`);
  line(io, 'Now', describeState(s.info, s));
  line(io, 'Action', p.description);
  line(io, 'After', describeState(p.after, s));
  line(
    io,
    'Gas',
    `about ${p.plan.gasEstimate} gas at ${gwei(p.plan.gasPrice)} ≈ ${eth(p.plan.expectedFee)} (at most ${eth(p.plan.maxFee)})` +
      (p.plan.value > 0n ? `; sends ${eth(p.plan.value)}` : ''),
  );
  for (const note of p.notes) line(io, 'Note', note);
}

function progressPrinter(io: Io, timeoutMs: number): (p: TxProgress) => void {
  return (p) => {
    if (p.stage === 'sent') io.out.write(`Sent transaction ${p.hash}; waiting for it to be mined (up to ${Math.round(timeoutMs / 1000)} s)…\n`);
    else if (p.stage === 'pending') io.out.write(`  still pending after ${Math.round(p.elapsedMs / 1000)} s…\n`);
    else io.out.write(`Mined in block ${p.receipt.blockNumber} (gas used ${p.receipt.gasUsed}).\n`);
  };
}

async function runWrite(io: Io, values: Map<string, string>, action: BrokerAction): Promise<void> {
  const yes = values.has('yes') ? parseGoBool(values.get('yes')!) : false;
  const dryRun = values.has('dryRun') ? parseGoBool(values.get('dryRun')!) : false;
  // Refuse before asking for a password when nobody can answer the question.
  if (!yes && !dryRun && !process.stdin.isTTY) {
    throw new FlagError('this sends a transaction and needs a confirmation, but standard input is not a terminal: add --yes to confirm');
  }
  const maxGasPrice = parseMaxGasPrice(values.get('maxGasPrice'));
  const timeoutMs = parseTransactionTimeout(values.get('transactionTimeout'));
  const key = await signingKey(values);
  const { conn } = await connect(values);
  const ctx = { eth: conn.client, contracts: conn.contracts, wallet: createWallet(conn.client, key.privateKey) };
  const opts: TxOptions = { maxGasPrice, timeoutMs, onProgress: progressPrinter(io, timeoutMs) };
  const prepared = await prepareBrokerTx(ctx, action, opts);
  printPlan(io, prepared, { chainId: conn.client.chainId, ticketBroker: conn.contracts.ticketBroker });
  if (dryRun) {
    io.out.write('Dry run: the transaction was simulated and its gas estimated; nothing sent.\n');
    return;
  }
  if (!yes && !(await confirm('Send this transaction?'))) {
    io.out.write('Nothing sent.\n');
    return;
  }
  const result = await sendBrokerTx(ctx, prepared, opts);
  line(io, 'Transaction', result.hash);
  line(io, 'Now', describeState(result.state.info, result.state));
}

function fundAction(values: Map<string, string>): BrokerAction {
  const d = values.get('deposit');
  const r = values.get('reserve');
  if (d === undefined && r === undefined) throw new FlagError('give --deposit <ETH> and/or --reserve <ETH>');
  const deposit = d === undefined ? undefined : parseEthAmount(d, 'deposit');
  const reserve = r === undefined ? undefined : parseEthAmount(r, 'reserve');
  if ((deposit ?? 0n) === 0n && (reserve ?? 0n) === 0n) throw new FlagError('nothing to fund: --deposit and --reserve are both 0');
  if (deposit !== undefined && reserve !== undefined) return { kind: 'fundDepositAndReserve', deposit, reserve };
  if (deposit !== undefined) return { kind: 'fundDeposit', amount: deposit };
  return { kind: 'fundReserve', amount: reserve! };
}

export function registerDepositCommands(program: Command, io: Io): void {
  const deposit = program.command('deposit').description("The broadcaster's TicketBroker deposit and reserve: info, fund, unlock, cancel-unlock, withdraw");

  const sub = (name: string, description: string, extra: (cmd: Command) => void, run: (values: Map<string, string>) => Promise<void>) => {
    const cmd = deposit.command(name).description(description);
    addNodeFlags(cmd, [...ETH_FLAGS, ...(name === 'info' ? ['pixelsPerUnit', 'depositMultiplier', 'cliAddr'] : [])]);
    extra(cmd);
    cmd.action(async () => {
      const values = commandValues(cmd);
      await withUrls(values, () => run(values));
    });
  };
  const yes = (cmd: Command) => {
    cmd.addOption(new Option('--yes [bool]', 'Send without asking for confirmation'));
    cmd.addOption(new Option('--dry-run [bool]', 'Simulate the transaction and print the plan; send nothing'));
  };

  sub(
    'info',
    'Show deposit, reserve, unlock status, ETH balance, how long the deposit lasts and what face values orchestrators will offer',
    (cmd) => {
      cmd.addOption(new Option('--price <wei>', 'Price in wei per pixel (per -pixelsPerUnit pixels) for the duration estimate'));
      cmd.addOption(new Option('--profiles <presets>', `Renditions for the estimate (default ${DEFAULT_PROFILES})`));
    },
    (values) => depositInfo(io, values),
  );
  sub(
    'fund',
    'Add ETH to the deposit and/or reserve (amounts in ETH, e.g. --deposit 0.1 --reserve 0.05)',
    (cmd) => {
      cmd.addOption(new Option('--deposit <ETH>', 'ETH to add to the deposit (pays winning tickets)'));
      cmd.addOption(new Option('--reserve <ETH>', 'ETH to add to the reserve (backs face values; split across the pool)'));
      yes(cmd);
    },
    (values) => runWrite(io, values, fundAction(values)),
  );
  sub('unlock', 'Start the unlock period of the whole deposit and reserve (needed before withdraw)', yes, (values) => runWrite(io, values, { kind: 'unlock' }));
  sub('cancel-unlock', 'Cancel an unlock in progress; the funds stay locked and usable', yes, (values) => runWrite(io, values, { kind: 'cancelUnlock' }));
  sub('withdraw', 'Pay out the deposit and reserve once the unlock period is over', yes, (values) => runWrite(io, values, { kind: 'withdraw' }));
}
