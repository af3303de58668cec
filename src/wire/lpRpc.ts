// Typed view of proto/lp_rpc.proto and its binary codec.
//
// Field names are protobufjs's camelCase of the proto names. int64/uint64 are bigint, bytes are
// Uint8Array, enums are numbers. Decoding never throws anything but WireDecodeError, because the
// bytes come from peers we do not trust.
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { GatewayError } from '../lib/errors.ts';
import { checkFraming, MAX_DECODED_ELEMENTS } from './fieldBudget.ts';

export const PROTO_PATH = fileURLToPath(new URL('../../proto/lp_rpc.proto', import.meta.url));

export interface PingPong {
  value?: Uint8Array;
}

export interface Capabilities {
  bitstring?: bigint[];
  mandatories?: bigint[];
  capacities?: Record<number, number>;
  version?: string;
  constraints?: { minVersion?: string; PerCapability?: Record<number, unknown> };
}

export interface PriceInfo {
  pricePerUnit?: bigint;
  pixelsPerUnit?: bigint;
  capability?: number;
  constraint?: string;
}

export interface AuthToken {
  token?: Uint8Array;
  sessionId?: string;
  expiration?: bigint;
}

export interface TicketExpirationParams {
  creationRound?: bigint;
  creationRoundBlockHash?: Uint8Array;
}

export interface TicketParams {
  recipient?: Uint8Array;
  faceValue?: Uint8Array;
  winProb?: Uint8Array;
  recipientRandHash?: Uint8Array;
  seed?: Uint8Array;
  expirationBlock?: Uint8Array;
  expirationParams?: TicketExpirationParams;
}

export interface TicketSenderParams {
  senderNonce?: number;
  sig?: Uint8Array;
}

export interface Payment {
  ticketParams?: TicketParams;
  sender?: Uint8Array;
  expirationParams?: TicketExpirationParams;
  ticketSenderParams?: TicketSenderParams[];
  expectedPrice?: PriceInfo;
}

export interface OSInfo {
  storageType?: number;
  s3info?: Record<string, string>;
}

export interface OrchestratorRequest {
  address?: Uint8Array;
  sig?: Uint8Array;
  capabilities?: Capabilities;
  ignoreCapacityCheck?: boolean;
}

export interface OrchestratorInfo {
  transcoder?: string;
  ticketParams?: TicketParams;
  priceInfo?: PriceInfo;
  address?: Uint8Array;
  capabilities?: Capabilities;
  authToken?: AuthToken;
  hardware?: unknown[];
  storage?: OSInfo[];
  capabilitiesPrices?: PriceInfo[];
  nodes?: string[];
}

export interface VideoProfileMsg {
  name?: string;
  width?: number;
  height?: number;
  bitrate?: number;
  fps?: number;
  format?: number;
  fpsDen?: number;
  profile?: number;
  gop?: number;
  encoder?: number;
  colorDepth?: number;
  chromaFormat?: number;
  quality?: number;
}

export interface SegData {
  manifestId?: Uint8Array;
  seq?: bigint;
  hash?: Uint8Array;
  profiles?: Uint8Array;
  sig?: Uint8Array;
  duration?: number;
  capabilities?: Capabilities;
  authToken?: AuthToken;
  calcPerceptualHash?: boolean;
  storage?: OSInfo[];
  fullProfiles?: VideoProfileMsg[];
  fullProfiles2?: VideoProfileMsg[];
  fullProfiles3?: VideoProfileMsg[];
  segmentParameters?: { from?: bigint; to?: bigint };
  ForceSessionReinit?: boolean;
}

export interface TranscodedSegmentData {
  url?: string;
  pixels?: bigint;
  perceptualHashUrl?: string;
}

export interface TranscodeData {
  segments?: TranscodedSegmentData[];
  sig?: Uint8Array;
}

export interface TranscodeResult {
  seq?: bigint;
  error?: string;
  data?: TranscodeData;
  result?: 'error' | 'data';
  info?: OrchestratorInfo;
}

export interface EndTranscodingSessionRequest {
  authToken?: AuthToken;
}
export type EndTranscodingSessionResponse = Record<string, never>;

/** Message name → TypeScript shape, for the typed codec below. */
export interface Messages {
  PingPong: PingPong;
  OrchestratorRequest: OrchestratorRequest;
  OrchestratorInfo: OrchestratorInfo;
  PriceInfo: PriceInfo;
  Capabilities: Capabilities;
  AuthToken: AuthToken;
  TicketParams: TicketParams;
  TicketExpirationParams: TicketExpirationParams;
  TicketSenderParams: TicketSenderParams;
  Payment: Payment;
  OSInfo: OSInfo;
  SegData: SegData;
  VideoProfile: VideoProfileMsg;
  TranscodeResult: TranscodeResult;
  TranscodeData: TranscodeData;
  TranscodedSegmentData: TranscodedSegmentData;
  EndTranscodingSessionRequest: EndTranscodingSessionRequest;
  EndTranscodingSessionResponse: EndTranscodingSessionResponse;
}
export type MessageName = keyof Messages;

export class WireDecodeError extends GatewayError {
  constructor(
    readonly messageName: string,
    cause: unknown,
  ) {
    super(`malformed ${messageName} from peer: ${cause instanceof Error ? cause.message : String(cause)}`, { code: 'WIRE_DECODE', cause });
  }
}

const root = protobuf.loadSync(PROTO_PATH);
root.resolveAll();

export function messageType(name: MessageName): protobuf.Type {
  return root.lookupType(`net.${name}`);
}

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

// protobufjs represents 64-bit integers as Long or strings; we want bigint on our side.
function mapLongs(type: protobuf.Type, obj: Record<string, unknown>, toWire: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { ...obj };
  for (const field of type.fieldsArray) {
    const value = out[field.name];
    if (value === undefined || value === null) continue;
    const convert = (v: unknown): unknown => {
      if (field.resolvedType instanceof protobuf.Type) {
        return mapLongs(field.resolvedType, v as Record<string, unknown>, toWire);
      }
      if (LONG_TYPES.has(field.type)) {
        return toWire ? String(v) : BigInt(String(v));
      }
      return v;
    };
    if (field instanceof protobuf.MapField) {
      const m: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) m[k] = convert(v);
      out[field.name] = m;
    } else if (field.repeated) {
      out[field.name] = (value as unknown[]).map(convert);
    } else {
      out[field.name] = convert(value);
    }
  }
  return out;
}

export function encodeMessage<N extends MessageName>(name: N, value: Messages[N]): Uint8Array {
  const type = messageType(name);
  const message = type.fromObject(mapLongs(type, value as Record<string, unknown>, true));
  const problem = type.verify(message);
  if (problem) throw new Error(`cannot encode ${name}: ${problem}`);
  return type.encode(message).finish();
}

export function decodeMessage<N extends MessageName>(name: N, bytes: Uint8Array): Messages[N] {
  const type = messageType(name);
  // Counted on the framing first: decoding costs per element, and a peer chooses how many there are.
  const framing = checkFraming(type, bytes);
  if (framing === 'over-budget') throw new WireDecodeError(name, new Error(`more than ${MAX_DECODED_ELEMENTS} fields`));
  if (framing === 'unreadable') throw new WireDecodeError(name, new Error('framing is broken or disagrees with the schema'));
  try {
    const msg = type.decode(bytes);
    const obj = type.toObject(msg, { longs: String, enums: Number, oneofs: true });
    return mapLongs(type, obj, false) as Messages[N];
  } catch (err) {
    throw new WireDecodeError(name, err);
  }
}
