// The payment state a remote signer hands its callers and takes back on the next call: JSON with
// go-livepeer's field names and order, signed (EIP-191 over the raw JSON bytes) with the signer's key,
// so a caller can hold it but not change it. Callers treat it as opaque (docs/remote-signer.md §4).
import { getAddress, type Address, type Hex } from 'viem';
import { bytesToHex } from '../lib/bytes.ts';
import { GatewayError } from '../lib/errors.ts';
import { rat, type Rat } from '../lib/rat.ts';
import { type Signer, verifyMessageSignature } from '../pm/signer.ts';

export interface PaymentState {
  /** 8 hex characters; with the orchestrator address, the key of the session's balance */
  stateId: string;
  /** 0x-hex recipient_rand_hash of the ticket params the nonce counts for */
  pmSessionId: string;
  /** when the caller was last billed; undefined = never (Go's zero time) */
  lastUpdate: Date | undefined;
  orchestratorAddress: Address;
  app: string;
  /** unix seconds: the auth webhook is not asked again until then */
  authExpiry: bigint;
  /** the last nonce used for pmSessionId */
  senderNonce: number;
  /** credit left with the orchestrator, wei (≥ 0) */
  balance: Rat;
  initialPricePerUnit: bigint;
  initialPixelsPerUnit: bigint;
  type: string;
  sequenceNumber: bigint;
  authId: string;
}

export class StateFormatError extends GatewayError {}

/** Largest state blob accepted from a caller; ours are about 400 bytes. */
export const MAX_STATE_BYTES = 4096;

const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;
const UINT32_MAX = 0xffff_ffff;

/** Go's time.Time JSON: RFC 3339 with the fraction's trailing zeros trimmed; the zero time is year 1. */
function goTime(d: Date | undefined): string {
  if (!d) return '0001-01-01T00:00:00Z';
  return d.toISOString().replace(/\.?0+Z$/, 'Z');
}

function parseGoTime(s: string): Date | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) throw new StateFormatError(`LastUpdate "${s.slice(0, 40)}" is not an RFC 3339 time`);
  if (m[1]!.startsWith('0001-01-01T00:00:00') && !m[2] && m[3] === 'Z') return undefined;
  const ms = Date.parse(`${m[1]}.${(m[2] ?? '').padEnd(3, '0').slice(0, 3)}${m[3]}`);
  if (!Number.isFinite(ms)) throw new StateFormatError(`LastUpdate "${s.slice(0, 40)}" is not a valid time`);
  return new Date(ms);
}

/** Go's big.Rat.RatString: "n" when the denominator is 1, else "n/d". */
export function ratString(r: Rat): string {
  return r.den === 1n ? String(r.num) : `${r.num}/${r.den}`;
}

function parseRatString(s: string): Rat {
  // exact rationals of wei: a ticket EV has a denominator up to 2^256, so allow a few hundred digits
  const m = /^(-?\d{1,300})(?:\/(\d{1,300}))?$/.exec(s);
  if (!m || m[2] === '0' || /^0+$/.test(m[2] ?? '1')) throw new StateFormatError(`Balance "${s.slice(0, 40)}" is not a rational number`);
  return rat(BigInt(m[1]!), BigInt(m[2] ?? '1'));
}

/** The state as the JSON object go-livepeer writes (field order of its struct); also the auth webhook's `state`. */
export function stateJsonText(s: PaymentState): string {
  const str = JSON.stringify;
  // Integers are written by hand: int64/uint64 values must not pass through a double.
  return (
    `{"StateID":${str(s.stateId)},"PMSessionID":${str(s.pmSessionId)},"LastUpdate":${str(goTime(s.lastUpdate))},` +
    `"OrchestratorAddress":${str(s.orchestratorAddress.toLowerCase())},"App":${str(s.app)},"AuthExpiry":${s.authExpiry},` +
    `"SenderNonce":${s.senderNonce},"Balance":${str(ratString(s.balance))},"InitialPricePerUnit":${s.initialPricePerUnit},` +
    `"InitialPixelsPerUnit":${s.initialPixelsPerUnit},"Type":${str(s.type)},"SequenceNumber":${s.sequenceNumber},"AuthID":${str(s.authId)}}`
  );
}

export function encodeState(s: PaymentState): Uint8Array {
  return new TextEncoder().encode(stateJsonText(s));
}

const FIELDS = [
  'StateID',
  'PMSessionID',
  'LastUpdate',
  'OrchestratorAddress',
  'App',
  'AuthExpiry',
  'SenderNonce',
  'Balance',
  'InitialPricePerUnit',
  'InitialPixelsPerUnit',
  'Type',
  'SequenceNumber',
  'AuthID',
] as const;

/**
 * Reads a state blob this signer (or a go-livepeer signer with the same key) wrote. Only called after its
 * signature checked out, but still strict: every field typed, integers exact and in range.
 */
export function parseState(bytes: Uint8Array): PaymentState {
  if (bytes.length > MAX_STATE_BYTES) throw new StateFormatError('state too large');
  const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  // Integers are quoted before parsing so that none of them passes through a double.
  const quoted = text.replace(/("(?:AuthExpiry|SenderNonce|InitialPricePerUnit|InitialPixelsPerUnit|SequenceNumber)"\s*:\s*)(-?\d+)/g, '$1"$2"');
  let raw: unknown;
  try {
    raw = JSON.parse(quoted);
  } catch {
    throw new StateFormatError('state is not JSON');
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new StateFormatError('state is not a JSON object');
  const o = raw as Record<string, unknown>;
  const field = (name: (typeof FIELDS)[number]): unknown => {
    // Go matches field names without regard to case; the last match wins
    let v: unknown;
    for (const [k, x] of Object.entries(o)) if (k.toLowerCase() === name.toLowerCase()) v = x;
    return v;
  };
  const str = (name: (typeof FIELDS)[number]): string => {
    const v = field(name);
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') throw new StateFormatError(`${name} is not a string`);
    return v;
  };
  const int = (name: (typeof FIELDS)[number], min: bigint, max: bigint): bigint => {
    const v = field(name);
    if (v === undefined || v === null) return 0n;
    if (typeof v !== 'string' || !/^-?\d{1,20}$/.test(v)) throw new StateFormatError(`${name} is not an integer`);
    const n = BigInt(v);
    if (n < min || n > max) throw new StateFormatError(`${name} is out of range`);
    return n;
  };
  const address = str('OrchestratorAddress');
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new StateFormatError('OrchestratorAddress is not an address');
  const balanceText = str('Balance');
  return {
    stateId: str('StateID'),
    pmSessionId: str('PMSessionID'),
    lastUpdate: parseGoTime(str('LastUpdate') || '0001-01-01T00:00:00Z'),
    orchestratorAddress: getAddress(address),
    app: str('App'),
    authExpiry: int('AuthExpiry', -INT64_MAX - 1n, INT64_MAX),
    senderNonce: Number(int('SenderNonce', 0n, BigInt(UINT32_MAX))),
    balance: balanceText ? parseRatString(balanceText) : rat(0n),
    initialPricePerUnit: int('InitialPricePerUnit', -INT64_MAX - 1n, INT64_MAX),
    initialPixelsPerUnit: int('InitialPixelsPerUnit', -INT64_MAX - 1n, INT64_MAX),
    type: str('Type'),
    sequenceNumber: int('SequenceNumber', 0n, UINT64_MAX),
    authId: str('AuthID'),
  };
}

export interface SignedState {
  /** the JSON bytes */
  state: Uint8Array;
  /** 65 bytes */
  sig: Uint8Array;
}

export class StateSignatureUnavailableError extends GatewayError {}

export function signState(signer: Signer, s: PaymentState): SignedState {
  if (!signer.signMessage) throw new StateSignatureUnavailableError('this key cannot sign messages of any length');
  const state = encodeState(s);
  const sig = signer.signMessage(state);
  return { state, sig: Buffer.from(sig.slice(2), 'hex') };
}

/** True when `sig` is the signer's EIP-191 signature over exactly these bytes. */
export function stateSignedBy(address: Address, state: Uint8Array, sig: Uint8Array): boolean {
  return sig.length === 65 && verifyMessageSignature(address, state, bytesToHex(sig) as Hex);
}
