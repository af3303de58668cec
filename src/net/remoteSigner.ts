// The keyless gateway's side of a remote signer (-remoteSignerUrl): the GetOrchestrator identity
// (address and signature) and payments for one orchestrator session, over the signer's HTTP API
// (docs/remote-signer.md). Works with go-livepeer's signer and ours; our signer also understands the
// optional request fields `segment` (credentials for a real video segment) and `spendCredit`.
// The signer holds the operator's deposit but its answers are still bounded and checked here.
import { boundedFetch } from '../lib/boundedFetch.ts';
import { errorMessage, GatewayError } from '../lib/errors.ts';

/** go-livepeer's gateway gives the start-up call 30 s; each payment call gets less. */
const IDENTITY_TIMEOUT_MS = 30_000;
const PAYMENT_TIMEOUT_MS = 10_000;
/** 100 tickets and the credentials are a few tens of KiB; anything much bigger is not an answer. */
const MAX_ANSWER_BYTES = 1 << 20;

export class RemoteSignerError extends GatewayError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message, { code: 'REMOTE_SIGNER' });
  }
}

/** The opaque state the signer hands back; sent back verbatim. */
export interface RemoteSignerState {
  State: string;
  Sig: string;
}

export interface RemoteIdentity {
  address: `0x${string}`;
  signature: `0x${string}`;
}

/** Our video extension: the SegData is signed for this segment. */
export interface SegmentCredentialsRequest {
  seq: bigint;
  /** keccak256 of the segment bytes */
  hash: Uint8Array;
  durationMs: number;
  /** protobuf VideoProfile messages */
  profiles: Uint8Array[];
}

export interface LivePaymentCall {
  /** protobuf OrchestratorInfo, the latest held */
  orchestrator: Uint8Array;
  type: '' | 'lv2v' | 'live' | 'fixed';
  inPixels?: bigint;
  manifestId?: string;
  state?: RemoteSignerState;
  /** protobuf Capabilities */
  capabilities?: Uint8Array;
  segment?: SegmentCredentialsRequest;
  spendCredit?: boolean;
}

export type LivePaymentResult =
  /** 200 (tickets) or an extended 482 (the credit covers it: credentials and a new state, no tickets) */
  | { kind: 'paid'; tickets: boolean; payment: string; segCreds: string; state: RemoteSignerState }
  /** go-livepeer's bare 482: nothing to pay now, keep the old state */
  | { kind: 'no-tickets' }
  /** 480: GetOrchestrator again, then retry with the same state */
  | { kind: 'refresh'; orchestratorUrl: string; message: string }
  /** 481: the price is above a ceiling; try another orchestrator */
  | { kind: 'price'; message: string };

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

export interface RemoteSignerClientOptions {
  /** origin of the signer (scheme, host, port) */
  url: string;
  /** -remoteSignerHeaders: sent to the signer only */
  headers: Record<string, string>;
  paymentTimeoutMs?: number;
}

export class RemoteSignerClient {
  private identity?: Promise<RemoteIdentity>;

  constructor(private readonly opts: RemoteSignerClientOptions) {}

  get origin(): string {
    return this.opts.url;
  }

  private async post(path: string, body: string, timeoutMs: number): Promise<{ status: number; text: string; headers: Headers }> {
    try {
      // the answer is capped, no redirect is followed, and the exchange ends by the deadline, body included
      const res = await boundedFetch(
        `${this.opts.url}${path}`,
        { method: 'POST', headers: { ...this.opts.headers, 'Content-Type': 'application/json', Accept: 'application/json' }, body },
        { maxBytes: MAX_ANSWER_BYTES, maxRedirects: 0, timeoutMs },
      );
      return { status: res.status, text: res.body.toString('utf8'), headers: res.headers };
    } catch (err) {
      throw new RemoteSignerError(`remote signer ${this.opts.url}${path}: ${errorMessage(err)}`, 0);
    }
  }

  /** The signer's address and its signature over it, for every GetOrchestrator; asked once. */
  orchestratorIdentity(): Promise<RemoteIdentity> {
    this.identity ??= this.fetchIdentity().catch((err: unknown) => {
      this.identity = undefined;
      throw err;
    });
    return this.identity;
  }

  private async fetchIdentity(): Promise<RemoteIdentity> {
    const r = await this.post('/sign-orchestrator-info', '{}', IDENTITY_TIMEOUT_MS);
    if (r.status !== 200) throw new RemoteSignerError(`remote signer /sign-orchestrator-info: ${r.status} ${errorText(r.text)}`, r.status);
    const o = parseObject(r.text);
    const address = o?.address;
    const signature = o?.signature;
    if (typeof address !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(address) || typeof signature !== 'string' || !/^0x[0-9a-fA-F]{130}$/.test(signature)) {
      throw new RemoteSignerError('remote signer /sign-orchestrator-info: the answer is not {"address":"0x…40 hex","signature":"0x…130 hex"}', 502);
    }
    return { address: address as `0x${string}`, signature: signature as `0x${string}` };
  }

  /** One call of POST /generate-live-payment; statuses other than 200/480/481/482 throw. */
  async livePayment(call: LivePaymentCall): Promise<LivePaymentResult> {
    const fields: string[] = [`"orchestrator":${JSON.stringify(b64(call.orchestrator))}`, `"type":${JSON.stringify(call.type)}`];
    if (call.inPixels !== undefined) fields.push(`"inPixels":${call.inPixels.toString()}`);
    if (call.manifestId) fields.push(`"ManifestID":${JSON.stringify(call.manifestId)}`);
    if (call.state) fields.push(`"state":${JSON.stringify({ State: call.state.State, Sig: call.state.Sig })}`);
    if (call.capabilities) fields.push(`"capabilities":${JSON.stringify(b64(call.capabilities))}`);
    if (call.spendCredit) fields.push('"spendCredit":true');
    if (call.segment) {
      const s = call.segment;
      fields.push(
        `"segment":{"seq":${s.seq.toString()},"hash":${JSON.stringify(b64(s.hash))},"duration":${Math.round(s.durationMs)},"profiles":${JSON.stringify(s.profiles.map(b64))}}`,
      );
    }
    const r = await this.post('/generate-live-payment', `{${fields.join(',')}}`, this.opts.paymentTimeoutMs ?? PAYMENT_TIMEOUT_MS);
    switch (r.status) {
      case 200:
        return { ...paidAnswer(r.text, r.status), tickets: true };
      case 480:
        return { kind: 'refresh', orchestratorUrl: r.headers.get('livepeer-orchestrator-url') ?? '', message: errorText(r.text) };
      case 481:
        return { kind: 'price', message: errorText(r.text) };
      case 482: {
        const o = parseObject(r.text);
        // our signer's extended 482 carries credentials and the spent state; go-livepeer's carries none
        if (o && typeof o.segCreds === 'string' && o.state) return { ...paidAnswer(r.text, r.status), tickets: false };
        return { kind: 'no-tickets' };
      }
      default:
        throw new RemoteSignerError(`remote signer refused the payment: ${r.status} ${errorText(r.text)}`, r.status);
    }
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The message of go-livepeer's `{"error":{"message"}}`, else the start of the text. */
function errorText(text: string): string {
  const o = parseObject(text);
  const e = o?.error as { message?: unknown } | undefined;
  if (e && typeof e.message === 'string') return e.message.slice(0, 300);
  return text.slice(0, 200).replace(/\s+/g, ' ').trim();
}

function paidAnswer(text: string, status: number): { kind: 'paid'; payment: string; segCreds: string; state: RemoteSignerState } {
  const o = parseObject(text);
  const state = o?.state as Record<string, unknown> | undefined;
  const ok =
    o &&
    typeof o.payment === 'string' &&
    o.payment.length > 0 &&
    B64.test(o.payment) &&
    typeof o.segCreds === 'string' &&
    B64.test(o.segCreds) &&
    state &&
    typeof state === 'object' &&
    typeof state.State === 'string' &&
    typeof state.Sig === 'string';
  if (!ok) throw new RemoteSignerError(`remote signer answered ${status} without {"payment","segCreds","state"}`, 502);
  return { kind: 'paid', payment: o.payment as string, segCreds: o.segCreds as string, state: { State: state.State as string, Sig: state.Sig as string } };
}
