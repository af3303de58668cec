// The body of POST /generate-live-payment, read the way go-livepeer's Go decoder reads it: keys match
// without regard to case (the last one wins), unknown keys are ignored, byte fields are standard base64
// with padding, numbers must fit their Go types. Plus our video extension, `segment`, which go-livepeer
// clients never send (docs/remote-signer.md §3). Every field is bounded before anything else looks at it.
import { isLosslessNumber, parse as parseLossless, type LosslessNumber } from 'lossless-json';
import { HttpError } from '../lib/errors.ts';

/** Most bytes a request body may have: an OrchestratorInfo with many AI models is tens of KiB. */
export const MAX_REQUEST_BYTES = 1 << 20;
const MAX_ORCHESTRATOR_BYTES = 512 * 1024;
const MAX_CAPABILITIES_BYTES = 16 * 1024;
const MAX_STATE_FIELD_BYTES = 4096;
/** ManifestID, app, type: bytes of UTF-8 (they become store keys and tags). */
const MAX_TEXT_BYTES = 256;
const MAX_PROFILES = 16;
const MAX_PROFILE_BYTES = 1024;
/** Longest segment the extension bills for (what orchestrators accept). */
export const MAX_SEGMENT_DURATION_MS = 300_000;

export interface MaxPriceField {
  /** the JSON number's text, exactly */
  price: string;
  currency: string;
  unit: string;
}

/** Our extension: the real segment the SegData is signed for (video through a remote signer). */
export interface SegmentField {
  seq: bigint;
  /** keccak256 of the segment bytes */
  hash: Uint8Array;
  durationMs: number;
  /** protobuf VideoProfile messages, in the order the orchestrator gets them */
  profiles: Uint8Array[];
}

export interface LivePaymentRequest {
  orchestrator: Uint8Array;
  /** undefined = a new session (absent, or both values null or empty) */
  state?: { state: Uint8Array; sig: Uint8Array };
  manifestId: string;
  app: string;
  inPixels: bigint;
  type: string;
  maxPrice?: MaxPriceField;
  capabilities?: Uint8Array;
  segment?: SegmentField;
  /**
   * Our extension: when the credit covers the bill, spend it — answer 482 with the credentials and the new
   * state (committed) instead of a bare 482. Keyless AI jobs need credentials for every job.
   */
  spendCredit?: boolean;
}

/** A 400 with go-livepeer's JSON error body. */
export class BadPaymentRequest extends HttpError {
  constructor(message: string) {
    super(400, message, { code: 'bad-request' });
  }
}

type Json = null | boolean | string | LosslessNumber | Json[] | { [k: string]: Json };

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Go's base64.StdEncoding: padded, standard alphabet (Go also skips CR and LF). */
export function decodeStdBase64(what: string, text: string, maxBytes: number): Uint8Array {
  const s = text.replace(/[\r\n]/g, '');
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new BadPaymentRequest(`${what}: illegal base64 data`);
  if ((s.length / 4) * 3 > maxBytes + 2) throw new BadPaymentRequest(`${what}: more than ${maxBytes} bytes`);
  return new Uint8Array(Buffer.from(s, 'base64'));
}

function typeName(v: Json): string {
  if (v === null) return 'null';
  if (isLosslessNumber(v)) return 'number';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

const mismatch = (field: string, goType: string, v: Json) =>
  new BadPaymentRequest(`json: cannot unmarshal ${typeName(v)} into Go value of type ${goType} (field ${field})`);

/** Fields of a JSON object by Go's rule: exact or case-insensitive name, the last occurrence wins. */
function fields(obj: { [k: string]: Json }, names: readonly string[]): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const [key, value] of Object.entries(obj)) {
    const name = names.find((n) => n === key) ?? names.find((n) => n.toLowerCase() === key.toLowerCase());
    if (name) out.set(name, value);
  }
  return out;
}

function bytesField(field: string, v: Json | undefined, maxBytes: number): Uint8Array | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw mismatch(field, '[]uint8', v);
  return decodeStdBase64(field, v, maxBytes);
}

function stringField(field: string, v: Json | undefined): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw mismatch(field, 'string', v);
  if (Buffer.byteLength(v) > MAX_TEXT_BYTES) throw new BadPaymentRequest(`${field} is longer than ${MAX_TEXT_BYTES} bytes`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(v) || /[\uD800-\uDFFF]/.test(v.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '')))
    throw new BadPaymentRequest(`${field} holds a control character`);
  return v;
}

function intField(field: string, v: Json | undefined, min: bigint, max: bigint, goType: string): bigint {
  if (v === undefined || v === null) return 0n;
  if (!isLosslessNumber(v)) throw mismatch(field, goType, v);
  const text = v.toString();
  if (!/^-?\d+$/.test(text)) throw new BadPaymentRequest(`json: cannot unmarshal number ${text.slice(0, 40)} into Go value of type ${goType} (field ${field})`);
  const n = BigInt(text);
  if (n < min || n > max) throw new BadPaymentRequest(`json: cannot unmarshal number ${text.slice(0, 40)} into Go value of type ${goType} (field ${field})`);
  return n;
}

function objectField(field: string, v: Json | undefined, goType: string): { [k: string]: Json } | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v) || isLosslessNumber(v)) throw mismatch(field, goType, v);
  return v as { [k: string]: Json };
}

function parseMaxPrice(v: Json | undefined): MaxPriceField | undefined {
  const o = objectField('maxPrice', v, 'runner.LiveRunnerPriceInfo');
  if (!o) return undefined;
  const f = fields(o, ['price', 'currency', 'unit']);
  const p = f.get('price');
  let price = '';
  // json.Number takes a number, or a string holding one
  if (isLosslessNumber(p)) price = p.toString();
  else if (typeof p === 'string') {
    if (p !== '' && !/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(p))
      throw new BadPaymentRequest(`json: invalid number literal, trying to unmarshal "${p.slice(0, 40)}" into Number`);
    price = p;
  } else if (p !== undefined && p !== null) throw mismatch('maxPrice.price', 'json.Number', p);
  if (price.length > 100) throw new BadPaymentRequest('maxPrice.price is too long');
  return { price, currency: stringField('maxPrice.currency', f.get('currency')), unit: stringField('maxPrice.unit', f.get('unit')) };
}

function parseSegment(v: Json | undefined): SegmentField | undefined {
  const o = objectField('segment', v, 'segment');
  if (!o) return undefined;
  const f = fields(o, ['seq', 'hash', 'duration', 'profiles']);
  const hash = bytesField('segment.hash', f.get('hash'), 32);
  if (hash?.length !== 32) throw new BadPaymentRequest('segment.hash must be the 32-byte keccak256 of the segment');
  const durationMs = Number(intField('segment.duration', f.get('duration'), 0n, BigInt(MAX_SEGMENT_DURATION_MS), 'int'));
  const list = f.get('profiles');
  if (!Array.isArray(list) || list.length === 0) throw new BadPaymentRequest('segment.profiles must be a non-empty list of base64 VideoProfile messages');
  if (list.length > MAX_PROFILES) throw new BadPaymentRequest(`segment.profiles has more than ${MAX_PROFILES} entries`);
  const profiles = list.map((p, i) => {
    const b = bytesField(`segment.profiles[${i}]`, p, MAX_PROFILE_BYTES);
    if (!b) throw new BadPaymentRequest(`segment.profiles[${i}] is empty`);
    return b;
  });
  return { seq: intField('segment.seq', f.get('seq'), 0n, (1n << 53n) - 1n, 'uint64'), hash, durationMs, profiles };
}

/** Parses and bounds a request body; throws BadPaymentRequest (400). */
export function parseLivePaymentRequest(body: Uint8Array): LivePaymentRequest {
  let parsed: Json;
  try {
    parsed = parseLossless(new TextDecoder('utf-8', { fatal: true }).decode(body)) as Json;
  } catch (err) {
    throw new BadPaymentRequest(`invalid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  const obj = objectField('request', parsed, 'server.RemotePaymentRequest');
  if (!obj) throw new BadPaymentRequest('the request body must be a JSON object');
  const f = fields(obj, ['state', 'orchestrator', 'ManifestID', 'app', 'inPixels', 'type', 'maxPrice', 'capabilities', 'segment', 'spendCredit']);
  const req: LivePaymentRequest = {
    orchestrator: bytesField('orchestrator', f.get('orchestrator'), MAX_ORCHESTRATOR_BYTES) ?? new Uint8Array(0),
    manifestId: stringField('ManifestID', f.get('ManifestID')),
    app: stringField('app', f.get('app')),
    inPixels: intField('inPixels', f.get('inPixels'), INT64_MIN, INT64_MAX, 'int64'),
    type: stringField('type', f.get('type')),
  };
  const stateObj = objectField('state', f.get('state'), 'server.RemotePaymentStateSig');
  if (stateObj) {
    const sf = fields(stateObj, ['State', 'Sig']);
    const state = bytesField('state.State', sf.get('State'), MAX_STATE_FIELD_BYTES) ?? new Uint8Array(0);
    const sig = bytesField('state.Sig', sf.get('Sig'), 1024) ?? new Uint8Array(0);
    if (state.length > 0 || sig.length > 0) req.state = { state, sig };
  }
  const maxPrice = parseMaxPrice(f.get('maxPrice'));
  if (maxPrice) req.maxPrice = maxPrice;
  const capabilities = bytesField('capabilities', f.get('capabilities'), MAX_CAPABILITIES_BYTES);
  if (capabilities && capabilities.length > 0) req.capabilities = capabilities;
  const segment = parseSegment(f.get('segment'));
  if (segment) req.segment = segment;
  const spend = f.get('spendCredit');
  if (spend !== undefined && spend !== null && typeof spend !== 'boolean') throw mismatch('spendCredit', 'bool', spend);
  if (spend === true) req.spendCredit = true;
  return req;
}
