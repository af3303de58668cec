// The gateway account's TicketBroker transactions, sent one at a time: each waits for the one before it to
// be mined (or to fail), so two callers never race for the same nonce.
import { SerialQueue } from '../lib/serialQueue.ts';
import { runBrokerAction, type BrokerAction, type BrokerContext, type BrokerTxResult } from './ticketBroker.ts';
import type { TxOptions } from './transactions.ts';

export class TransactionQueue {
  readonly #queue = new SerialQueue();

  constructor(
    private readonly ctx: BrokerContext,
    /** -maxGasPrice / -transactionTimeout. */
    private readonly opts: TxOptions = {},
  ) {}

  /** Checks, sends and waits for `action` once every transaction queued before it has settled. */
  send(action: BrokerAction): Promise<BrokerTxResult> {
    return this.#queue.run(() => runBrokerAction(this.ctx, action, this.opts));
  }
}
