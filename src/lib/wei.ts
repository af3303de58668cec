// Amounts of wei as operators and APIs write them. Money is bigint wei (or an exact rational of wei).
import { GatewayError } from './errors.ts';
import { rat, type Rat } from './rat.ts';

export class WeiAmountError extends GatewayError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { code: 'WEI_AMOUNT_INVALID', cause: opts.cause });
  }
}

// `what` starts each message: the field as the caller names it ("-maxTicketEV:", "--deposit").

/** A whole, non-negative number of wei ("1000000000"). */
export function parseWei(what: string, value: string): bigint {
  const v = value.trim();
  if (!/^\d+$/.test(v)) throw new WeiAmountError(`${what} ${JSON.stringify(value)} is not a whole number of wei`);
  return BigInt(v);
}

/** A non-negative rational amount of wei as go-livepeer's flags take them ("3000000000000", "1.5", "3/2"). */
export function parseWeiRat(what: string, value: string): Rat {
  const t = value.trim();
  let m = /^(\d+)\/(\d+)$/.exec(t);
  if (m && BigInt(m[2]!) > 0n) return rat(BigInt(m[1]!), BigInt(m[2]!));
  m = /^(\d+)(?:\.(\d+))?$/.exec(t);
  if (m) return rat(BigInt(m[1]! + (m[2] ?? '')), 10n ** BigInt(m[2]?.length ?? 0));
  throw new WeiAmountError(`${what} ${JSON.stringify(value)} is not a non-negative amount of wei`);
}

/** A decimal amount of ETH as exact wei ("0.05"); at most 18 decimals. */
export function parseEther(what: string, value: string): bigint {
  const v = value.trim();
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(v)) throw new WeiAmountError(`${what} ${JSON.stringify(value)} is not an amount of ETH (a decimal number ≥ 0, e.g. 0.05)`);
  const [whole = '', frac = ''] = v.split('.');
  if (frac.length > 18) throw new WeiAmountError(`${what} ${value} has more than 18 decimals (1 wei = 0.000000000000000001 ETH)`);
  return BigInt(whole || '0') * 10n ** 18n + BigInt(frac.padEnd(18, '0') || '0');
}
