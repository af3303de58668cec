// Typed errors of the Ethereum layer. Each message says what happened and what the operator can do;
// none carries an RPC URL's path, query or credentials.
import { BaseError, ContractFunctionRevertedError } from 'viem';
import { GatewayError, type GatewayErrorOptions } from '../lib/errors.ts';
import { redactText } from '../lib/redact.ts';

export class EthError extends GatewayError {
  constructor(message: string, opts: GatewayErrorOptions = {}) {
    super(message, { ...opts, code: opts.code ?? 'ETH' });
  }
}

/** -network / -ethController / -ethUrl cannot be used as given. */
export class EthConfigError extends EthError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { code: 'ETH_CONFIG', cause: opts.cause });
  }
}

/** No configured RPC endpoint answered. */
export class EthUnreachableError extends EthError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { code: 'ETH_UNREACHABLE', cause: opts.cause });
  }
}

/** The RPC serves another chain than the network expects. */
export class ChainIdMismatchError extends EthError {
  constructor(
    readonly expected: number,
    readonly actual: number,
    message: string,
  ) {
    super(message, { code: 'CHAIN_ID_MISMATCH' });
  }
}

/** The Controller has no address for a contract the gateway needs (wrong -ethController?). */
export class ContractNotFoundError extends EthError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { code: 'CONTRACT_NOT_FOUND', cause: opts.cause });
  }
}

/** Why a transaction was not sent or did not succeed; TransactionError's `code`. */
export type TransactionFailure =
  | 'insufficient-eth'
  | 'gas-price-too-high'
  | 'unlock-already-initiated'
  | 'still-unlocking'
  | 'nothing-to-withdraw'
  | 'no-unlock-in-progress'
  | 'paused'
  | 'invalid-amount'
  | 'reverted'
  | 'timeout'
  | 'rejected';

/** A transaction was not sent, or did not succeed; the message is the plain reason. */
export class TransactionError extends EthError {
  declare readonly code: TransactionFailure;
  constructor(
    code: TransactionFailure,
    message: string,
    readonly hash?: `0x${string}`,
  ) {
    super(message, { code });
  }
}

/** The revert reason of a failed contract call or simulation, if the chain gave one. */
export function revertReason(err: unknown): string | undefined {
  if (!(err instanceof BaseError)) return undefined;
  const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
  if (reverted?.reason) return reverted.reason;
  // Some nodes answer eth_estimateGas with "execution reverted: <reason>" and no data.
  const m = /execution reverted:?\s*([^\n]*)/i.exec(err.details ?? err.shortMessage ?? '');
  const reason = m?.[1]?.trim();
  return reason ? reason : undefined;
}

/** Finds an error of `type` anywhere in the cause chain (viem wraps transport errors several times). */
export function findCause<T extends Error>(err: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  let e: unknown = err;
  for (let i = 0; i < 12 && e; i++) {
    if (e instanceof type) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Our own error when one is in the cause chain, so callers see "cannot reach the Ethereum RPC …" rather
 * than viem's wrapper (whose message may carry the raw URL).
 */
export function unwrapEthError(err: unknown): unknown {
  return findCause(err, EthError) ?? err;
}

/** One line for an operator or an API answer: our own message as it is, viem's shortened; RPC URLs redacted. */
export function describeEthError(err: unknown, urls: readonly string[]): string {
  const e = unwrapEthError(err);
  const message =
    e instanceof EthError ? e.message : e instanceof Error ? ((e as { shortMessage?: string }).shortMessage ?? e.message.split('\n')[0] ?? '') : String(e);
  return redactText(message, urls);
}
