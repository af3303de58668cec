// Paying for one AI job: the Livepeer-Segment and Livepeer-Payment headers for (orchestrator info,
// units, price), and the accounting to settle once the orchestrator has answered. Behind this small
// interface so that another payer (a remote signer) can take the local keys' place.
import { aiFee, pricePerAiUnit } from '../pm/aiFee.ts';
import type { PreparedPayment, SegmentPayer } from '../pm/segmentPayer.ts';
import type { Signer } from '../pm/signer.ts';
import { ZERO, type Rat } from '../lib/rat.ts';
import { buildAiSegData } from '../net/aiSegData.ts';
import { encodeMessage, type Capabilities, type OrchestratorInfo } from '../wire/lpRpc.ts';

export interface AiPaymentRequest {
  info: OrchestratorInfo;
  units: bigint;
  cap: number;
  modelId: string;
  capabilities: Capabilities;
}

export interface AiPayment {
  /** base64 SegData */
  segmentHeader: string;
  /** base64 Payment; "" off-chain */
  paymentHeader: string;
  tickets: number;
  /** Σ EV of the tickets sent, wei */
  ev: Rat;
  /** face value of one ticket, wei */
  faceValue: bigint;
  /** units × price, wei */
  fee: Rat;
  /** the orchestrator did the job: it debited the fee */
  settle(): void;
  /** the job failed; `sent` = the request left this process (its credit is then lost) */
  fail(sent: boolean): void;
}

export interface AiPayer {
  prepare(req: AiPaymentRequest): Promise<AiPayment>;
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/** Pays with this node's own keys: tickets from the SegmentPayer's sender, credit kept per orchestrator session. */
export function localAiPayer(payer: SegmentPayer | undefined, signer: Signer | undefined): AiPayer {
  return {
    async prepare(req) {
      const seg = buildAiSegData({
        cap: req.cap,
        modelId: req.modelId,
        authToken: req.info.authToken ?? {},
        capabilities: req.capabilities,
        ...(signer ? { signer } : {}),
      });
      const segmentHeader = b64(encodeMessage('SegData', seg));
      if (!payer) {
        return { segmentHeader, paymentHeader: '', tickets: 0, ev: ZERO, faceValue: 0n, fee: ZERO, settle() {}, fail() {} };
      }
      const fee = aiFee(req.units, pricePerAiUnit(req.info.priceInfo));
      const prepared: PreparedPayment = payer.prepareFee(req.info, fee);
      return {
        segmentHeader,
        paymentHeader: b64(encodeMessage('Payment', prepared.payment)),
        tickets: prepared.numTickets,
        ev: prepared.value,
        faceValue: prepared.faceValue,
        fee,
        settle: () => payer.settleFee(prepared, fee),
        fail: (sent) => {
          if (sent) payer.markSent(prepared);
          payer.fail(prepared);
        },
      };
    },
  };
}
