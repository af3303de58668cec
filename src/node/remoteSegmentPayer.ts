// Video segments of a keyless gateway, paid through our remote signer: the signer signs the SegData of
// the real segment (its hash, seq and profiles — our `segment` request extension) and the tickets its
// fee needs. go-livepeer's signer signs only empty segments, which orchestrators refuse for real video;
// that is caught here with a clear error. State is kept per (orchestrator session, stream); calls on one
// state take turns.
import type { OrchSession } from '../discovery/sessionPool.ts';
import { bytesToHex } from '../lib/bytes.ts';
import { GatewayError } from '../lib/errors.ts';
import { mul, rat, ZERO } from '../lib/rat.ts';
import { profilesToWire, type WireVideoProfile } from '../net/capabilities.ts';
import type { RemoteSignerClient, RemoteSignerState } from '../net/remoteSigner.ts';
import { ticketEV } from '../pm/ev.ts';
import { KeyedLock } from '../store/keyedLock.ts';
import { decodeMessage, encodeMessage, type Capabilities, type Payment, type SegData } from '../wire/lpRpc.ts';

const MAX_STATES = 2000;

export class RemoteSegmentError extends GatewayError {}

export type RemoteSegmentOutcome =
  | { kind: 'refresh'; message: string }
  | {
      kind: 'paid';
      /** the signer's signature over this segment's SegData */
      sig: Uint8Array;
      payment: Payment;
      tickets: number;
      ev: ReturnType<typeof rat>;
      faceValue: bigint;
      /** the attempt failed; `sent` = the payment left this process */
      fail(sent: boolean): void;
    };

/** What the signer needs of a segment job (transcodeSegment's SegmentJob has it). */
export interface SegmentToSign {
  manifestId: string;
  seq: number;
  durationMs: number;
  profiles: readonly WireVideoProfile[];
  capabilities: Capabilities;
}

export type RemoteSegmentPayer = (session: OrchSession, job: SegmentToSign, segData: SegData) => Promise<RemoteSegmentOutcome>;

export function remoteSegmentPayer(signer: RemoteSignerClient): RemoteSegmentPayer {
  const states = new Map<string, RemoteSignerState>();
  const lock = new KeyedLock();
  const remember = (key: string, state: RemoteSignerState | undefined) => {
    states.delete(key);
    if (!state) return;
    states.set(key, state);
    if (states.size > MAX_STATES) states.delete(states.keys().next().value as string);
  };
  return (session, job, segData) => {
    const key = `${session.uri}/${job.manifestId}`;
    return lock.run([key], async (): Promise<RemoteSegmentOutcome> => {
      const prior = states.get(key);
      const res = await signer.livePayment({
        orchestrator: encodeMessage('OrchestratorInfo', session.info),
        type: '',
        manifestId: job.manifestId,
        capabilities: encodeMessage('Capabilities', job.capabilities),
        segment: {
          seq: BigInt(job.seq),
          hash: segData.hash ?? new Uint8Array(0),
          durationMs: job.durationMs,
          profiles: profilesToWire(job.profiles).profiles.map((p) => encodeMessage('VideoProfile', p)),
        },
        ...(prior ? { state: prior } : {}),
      });
      if (res.kind === 'refresh') return { kind: 'refresh', message: res.message };
      if (res.kind === 'price') throw new RemoteSegmentError(`remote signer: orchestrator price above its ceiling: ${res.message}`);
      if (res.kind === 'no-tickets') throw new RemoteSegmentError('remote signer answered a bare 482 for a segment: it does not support segment credentials');
      const creds = decodeMessage('SegData', Buffer.from(res.segCreds, 'base64'));
      // the signature must be for this very segment; go-livepeer's signer signs an empty one
      if (bytesToHex(creds.hash ?? new Uint8Array(0)) !== bytesToHex(segData.hash ?? new Uint8Array(0)) || (creds.seq ?? 0n) !== BigInt(job.seq)) {
        throw new RemoteSegmentError('remote signer signed another segment (go-livepeer signers sign only empty segments; video needs our signer)');
      }
      if (creds.sig?.length !== 65) throw new RemoteSegmentError('remote signer returned segment credentials without a signature');
      remember(key, res.state);
      const payment = decodeMessage('Payment', Buffer.from(res.payment, 'base64'));
      const tickets = payment.ticketSenderParams?.length ?? 0;
      const tp = payment.ticketParams;
      const faceValue = tp?.faceValue?.length ? BigInt(bytesToHex(tp.faceValue)) : 0n;
      const win = tp?.winProb?.length ? BigInt(bytesToHex(tp.winProb)) : 0n;
      return {
        kind: 'paid',
        sig: creds.sig,
        payment,
        tickets,
        ev: tickets > 0 ? mul(rat(BigInt(tickets)), ticketEV(faceValue, win)) : ZERO,
        faceValue,
        // credit the orchestrator never received must not be counted on: the next segment starts afresh
        fail: (sent) => {
          if (!sent) remember(key, undefined);
        },
      };
    });
  };
}
