// Paying AI jobs through a remote signer (a keyless gateway): each job asks the signer for tickets
// covering its units (billing type "") and the job's Livepeer-Segment credentials. The signer's state is
// kept per (orchestrator, capability/model) so that credit left over from one job pays for the next,
// and calls on one state take turns (the signer refuses a state that was already spent).
import { bytesToHex } from '../lib/bytes.ts';
import { GatewayError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { ZERO, mul, rat } from '../lib/rat.ts';
import { aiManifestId } from '../net/aiSegData.ts';
import type { LivePaymentCall, LivePaymentResult, RemoteSignerClient, RemoteSignerState } from '../net/remoteSigner.ts';
import { aiFee, pricePerAiUnit } from '../pm/aiFee.ts';
import { ticketEV } from '../pm/ev.ts';
import { KeyedLock } from '../store/keyedLock.ts';
import { decodeMessage, encodeMessage } from '../wire/lpRpc.ts';
import type { AiPayer, AiPayment } from './payment.ts';

/** Sessions remembered at once; the oldest is forgotten first (it then starts a new signer state). */
const MAX_SESSIONS = 1000;

/** The signer says the orchestrator's info is stale (480): the job refreshes the session and pays again. */
export class SignerRefreshError extends GatewayError {}
/** The orchestrator's price is above a ceiling of the signer (481): another orchestrator. */
export class SignerPriceError extends GatewayError {}

export function remoteAiPayer(signer: RemoteSignerClient, log: Logger): AiPayer {
  const states = new Map<string, RemoteSignerState>();
  const lock = new KeyedLock();
  const remember = (key: string, state: RemoteSignerState | undefined) => {
    states.delete(key);
    if (!state) return;
    states.set(key, state);
    if (states.size > MAX_SESSIONS) states.delete(states.keys().next().value as string);
  };

  return {
    prepare(req) {
      const manifestId = aiManifestId(req.cap, req.modelId);
      const key = `${bytesToHex(req.info.address ?? new Uint8Array(0))}/${req.info.transcoder ?? ''}/${manifestId}`;
      return lock.run([key], async (): Promise<AiPayment> => {
        const call: LivePaymentCall = {
          orchestrator: encodeMessage('OrchestratorInfo', req.info),
          type: '',
          inPixels: req.units,
          manifestId,
          capabilities: encodeMessage('Capabilities', req.capabilities),
          spendCredit: true,
        };
        const prior = states.get(key);
        let res: LivePaymentResult = await signer.livePayment(prior ? { ...call, state: prior } : call);
        if (res.kind === 'no-tickets') {
          // a signer without our extension: its credit cannot be spent without credentials; start afresh
          res = await signer.livePayment(call);
        }
        if (res.kind === 'refresh')
          throw new SignerRefreshError(`remote signer: ticket params expired or auth token expiring (${res.message}); refresh the session`);
        if (res.kind === 'price') throw new SignerPriceError(`remote signer: price above its ceiling: ${res.message}`);
        if (res.kind !== 'paid') throw new SignerRefreshError('remote signer gave no credentials; refresh the session');
        remember(key, res.state);
        const payment = decodeMessage('Payment', Buffer.from(res.payment, 'base64'));
        const tickets = payment.ticketSenderParams?.length ?? 0;
        const tp = payment.ticketParams;
        const face = tp?.faceValue?.length ? BigInt(bytesToHex(tp.faceValue)) : 0n;
        const win = tp?.winProb?.length ? BigInt(bytesToHex(tp.winProb)) : 0n;
        const ev = tickets > 0 ? mul(rat(BigInt(tickets)), ticketEV(face, win)) : ZERO;
        log.debug({ orchestrator: req.info.transcoder, tickets, credit: !res.tickets }, 'AI job paid through the remote signer');
        return {
          segmentHeader: res.segCreds,
          paymentHeader: res.payment,
          tickets,
          ev,
          faceValue: face,
          fee: aiFee(req.units, pricePerAiUnit(req.info.priceInfo)),
          settle() {},
          // credit the orchestrator never received must not be counted on: the next job starts a new state
          fail: (sent) => {
            if (!sent) remember(key, undefined);
          },
        };
      });
    },
  };
}
