// The broadcaster's TicketBroker transactions: fund deposit/reserve, unlock, cancel the unlock, withdraw.
// Each is checked against the current state first so refusals read as plain sentences
// ("funds unlock in round 12, now round 10, about 30 hours") before any gas is spent.
import { formatEther, type Hash, type TransactionReceipt } from 'viem';
import type { SenderInfo } from '../pm/senderInfo.ts';
import { ticketBrokerAbi } from './abi/ticketBroker.ts';
import type { EthClient } from './client.ts';
import type { LivepeerContracts } from './contracts.ts';
import { TransactionError } from './errors.ts';
import { blocksUntilRound, describeBlocks, readSenderState, type SenderState } from './senderInfo.ts';
import { planContractTx, sendPlannedTx, type ContractCall, type EthWallet, type TxOptions, type TxPlan } from './transactions.ts';

export type BrokerAction =
  | { kind: 'fundDepositAndReserve'; deposit: bigint; reserve: bigint }
  | { kind: 'fundDeposit'; amount: bigint }
  | { kind: 'fundReserve'; amount: bigint }
  | { kind: 'unlock' }
  | { kind: 'cancelUnlock' }
  | { kind: 'withdraw' };

export interface BrokerContext {
  eth: EthClient;
  contracts: LivepeerContracts;
  wallet: EthWallet;
}

export interface PreparedBrokerTx {
  action: BrokerAction;
  /** One line: what the transaction does. */
  description: string;
  before: SenderState;
  /** The sender state expected once the transaction is mined. */
  after: SenderInfo;
  /** Notes worth reading before confirming (e.g. "this cancels the unlock in progress"). */
  notes: string[];
  plan: TxPlan;
}

export interface BrokerTxResult {
  hash: Hash;
  receipt: TransactionReceipt;
  /** Read again after the receipt. */
  state: SenderState;
}

const eth = (wei: bigint): string => `${formatEther(wei)} ETH`;

function unlockEta(state: SenderState): string {
  return `funds unlock in round ${state.info.withdrawRound}, now round ${state.currentRound}, ${describeBlocks(
    blocksUntilRound(state, state.info.withdrawRound),
  )}`;
}

/** Refusals that the current state already predicts, worded for the operator. */
function precheck(action: BrokerAction, s: SenderState): void {
  const empty = s.info.deposit === 0n && s.info.reserve.fundsRemaining === 0n;
  const unlocking = s.info.withdrawRound !== 0n;
  switch (action.kind) {
    case 'fundDepositAndReserve':
    case 'fundDeposit':
    case 'fundReserve': {
      const amounts = action.kind === 'fundDepositAndReserve' ? [action.deposit, action.reserve] : [action.amount];
      if (amounts.some((a) => a < 0n)) throw new TransactionError('invalid-amount', 'amounts must not be negative');
      if (amounts.every((a) => a === 0n)) {
        throw new TransactionError('invalid-amount', 'nothing to fund: give a deposit and/or reserve amount greater than 0');
      }
      return;
    }
    case 'unlock':
      if (empty) throw new TransactionError('nothing-to-withdraw', 'nothing to unlock: the deposit and reserve are zero');
      if (unlocking) {
        throw new TransactionError(
          'unlock-already-initiated',
          `unlock already initiated: ${unlockEta(s)}; withdraw then, or cancel it with \`livepeer-gateway deposit cancel-unlock\``,
        );
      }
      return;
    case 'cancelUnlock':
      if (!unlocking) throw new TransactionError('no-unlock-in-progress', 'no unlock in progress: there is nothing to cancel');
      return;
    case 'withdraw':
      if (empty) throw new TransactionError('nothing-to-withdraw', 'nothing to withdraw: the deposit and reserve are zero');
      if (!unlocking) {
        throw new TransactionError(
          'no-unlock-in-progress',
          `no unlock in progress: run \`livepeer-gateway deposit unlock\` first, then withdraw after ${s.unlockPeriod} rounds`,
        );
      }
      if (s.currentRound < s.info.withdrawRound) {
        throw new TransactionError('still-unlocking', `${unlockEta(s)}; withdraw after that`);
      }
      return;
  }
}

/** The same refusals, from a revert reason (the state changed between the read and the simulation). */
function explainer(action: BrokerAction, s: SenderState) {
  return (reason: string): TransactionError | undefined => {
    switch (reason) {
      case 'unlock already initiated':
        return new TransactionError('unlock-already-initiated', 'unlock already initiated; see `livepeer-gateway deposit info`');
      case 'account is locked':
        return new TransactionError('still-unlocking', `${unlockEta(s)}; withdraw after that`);
      case 'sender deposit and reserve are zero':
        return new TransactionError('nothing-to-withdraw', `nothing to ${action.kind === 'unlock' ? 'unlock' : 'withdraw'}: the deposit and reserve are zero`);
      case 'no unlock request in progress':
        return new TransactionError(
          'no-unlock-in-progress',
          action.kind === 'withdraw'
            ? 'no unlock in progress: run `livepeer-gateway deposit unlock` first'
            : 'no unlock in progress: there is nothing to cancel',
        );
      case 'system is paused':
        return new TransactionError('paused', 'the Livepeer protocol is paused (system is paused); nothing was sent: try again later');
      default:
        return undefined;
    }
  };
}

function callFor(action: BrokerAction, contracts: LivepeerContracts): ContractCall<typeof ticketBrokerAbi> {
  const tb = { address: contracts.ticketBroker, abi: ticketBrokerAbi } as const;
  switch (action.kind) {
    case 'fundDepositAndReserve':
      return { ...tb, functionName: 'fundDepositAndReserve', args: [action.deposit, action.reserve], value: action.deposit + action.reserve };
    case 'fundDeposit':
      return { ...tb, functionName: 'fundDeposit', value: action.amount };
    case 'fundReserve':
      return { ...tb, functionName: 'fundReserve', value: action.amount };
    case 'unlock':
      return { ...tb, functionName: 'unlock' };
    case 'cancelUnlock':
      return { ...tb, functionName: 'cancelUnlock' };
    case 'withdraw':
      return { ...tb, functionName: 'withdraw' };
  }
}

function project(action: BrokerAction, s: SenderState): { after: SenderInfo; description: string; notes: string[] } {
  const i = s.info;
  const notes: string[] = [];
  const fund = (d: bigint, r: bigint, description: string) => {
    if (i.withdrawRound !== 0n) notes.push('funding from this account also cancels the unlock in progress');
    return {
      after: { deposit: i.deposit + d, withdrawRound: 0n, reserve: { ...i.reserve, fundsRemaining: i.reserve.fundsRemaining + r } },
      description,
      notes,
    };
  };
  switch (action.kind) {
    case 'fundDepositAndReserve':
      return fund(action.deposit, action.reserve, `fund ${eth(action.deposit)} deposit and ${eth(action.reserve)} reserve`);
    case 'fundDeposit':
      return fund(action.amount, 0n, `fund ${eth(action.amount)} deposit`);
    case 'fundReserve':
      return fund(0n, action.amount, `fund ${eth(action.amount)} reserve`);
    case 'unlock': {
      const withdrawRound = s.currentRound + s.unlockPeriod;
      notes.push(
        `orchestrators stop accepting tickets from this account from round ${withdrawRound - 1n}; ` +
          `withdraw is possible from round ${withdrawRound} (${describeBlocks(blocksUntilRound(s, withdrawRound))})`,
      );
      return { after: { ...i, withdrawRound }, description: `unlock ${eth(i.deposit)} deposit and ${eth(i.reserve.fundsRemaining)} reserve`, notes };
    }
    case 'cancelUnlock':
      return { after: { ...i, withdrawRound: 0n }, description: 'cancel the unlock; the deposit and reserve stay locked and usable', notes };
    case 'withdraw':
      return {
        after: { deposit: 0n, withdrawRound: 0n, reserve: { fundsRemaining: 0n, claimedInCurrentRound: 0n } },
        description: `withdraw ${eth(i.deposit)} deposit and ${eth(i.reserve.fundsRemaining)} reserve to ${s.address}`,
        notes,
      };
  }
}

/** Reads the state, checks the action makes sense, simulates it and estimates gas; sends nothing. */
export async function prepareBrokerTx(ctx: BrokerContext, action: BrokerAction, opts: TxOptions = {}): Promise<PreparedBrokerTx> {
  const before = await readSenderState(ctx.eth, ctx.contracts, ctx.wallet.address);
  precheck(action, before);
  const { after, description, notes } = project(action, before);
  const plan = await planContractTx(ctx.eth, ctx.wallet, callFor(action, ctx.contracts), {
    ...opts,
    what: description,
    explain: explainer(action, before),
  });
  return { action, description, before, after, notes, plan };
}

/** Sends a prepared transaction, waits for it, and reads the state again. */
export async function sendBrokerTx(ctx: BrokerContext, prepared: PreparedBrokerTx, opts: TxOptions = {}): Promise<BrokerTxResult> {
  const receipt = await sendPlannedTx(ctx.eth, ctx.wallet, prepared.plan, { ...opts, what: prepared.description });
  const state = await readSenderState(ctx.eth, ctx.contracts, ctx.wallet.address);
  return { hash: receipt.transactionHash, receipt, state };
}

/** prepare + send, for callers that have already confirmed (the control API). */
export async function runBrokerAction(ctx: BrokerContext, action: BrokerAction, opts: TxOptions = {}): Promise<BrokerTxResult> {
  return sendBrokerTx(ctx, await prepareBrokerTx(ctx, action, opts), opts);
}
