// The Payment message that travels base64-encoded in the Livepeer-Payment header.
import type { Address } from 'viem';
import type { Payment, PriceInfo } from '../wire/lpRpc.ts';
import { hexToBytes } from '../lib/bytes.ts';
import type { TicketBatch } from './sender.ts';

/**
 * Always carries the sender and the price the params were issued for. With tickets it also echoes
 * the orchestrator's params (fields 1–6 exactly as received, never field 7), the creation round
 * actually used, and one nonce+signature per ticket.
 */
export function buildPayment(sender: Address, expectedPrice: PriceInfo | undefined, batch?: TicketBatch): Payment {
  const payment: Payment = { sender: hexToBytes(sender) };
  if (expectedPrice) payment.expectedPrice = expectedPrice;
  if (batch && batch.tickets.length > 0) {
    const { expirationParams: _omitted, ...fields1to6 } = batch.params.wire;
    payment.ticketParams = fields1to6;
    payment.expirationParams = {
      creationRound: batch.expirationParams.creationRound,
      creationRoundBlockHash: hexToBytes(batch.expirationParams.creationRoundBlockHash),
    };
    payment.ticketSenderParams = batch.tickets.map((t) => ({ senderNonce: t.senderNonce, sig: hexToBytes(t.sig) }));
  }
  return payment;
}
