// Redeems winning tickets on the TicketBroker, one transaction at a time, logging each outcome.
// A failed redemption is logged and kept in the stats; it never stops the orchestrator.
import { BaseError, ContractFunctionRevertedError, type Hex } from 'viem';
import type { Logger } from '../../../src/lib/log.ts';
import { roundsManagerAbi, ticketBrokerAbi } from '../../../src/eth/abi/index.ts';
import { devnetWalletClient, type DevnetWalletClient } from '../chain.ts';
import { ticketHash, toContractTicket } from '../../../src/pm/ticket.ts';
import type { OrchestratorChain } from './chainView.ts';
import type { ReceivedTicket, Recipient } from './recipient.ts';

export interface Redemption {
  ticketHash: Hex;
  sender: Hex;
  senderNonce: bigint;
  faceValue: bigint;
  status: 'redeemed' | 'failed' | 'skipped';
  txHash?: Hex;
  error?: string;
}

function reason(err: unknown): string {
  if (err instanceof BaseError) {
    const revert = err.walk((e) => e instanceof ContractFunctionRevertedError);
    if (revert instanceof ContractFunctionRevertedError) return revert.reason ?? revert.shortMessage;
    return err.shortMessage;
  }
  return err instanceof Error ? err.message : String(err);
}

export class Redeemer {
  private readonly wallet: DevnetWalletClient;
  private queue: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private stopped = false;

  constructor(
    private readonly chain: OrchestratorChain,
    private readonly recipient: Recipient,
    privateKey: Hex,
    private readonly log: Logger,
    readonly redemptions: Redemption[],
    /** Initialize the current round when a redemption finds it uninitialized (go-livepeer -initializeRound). */
    private readonly initializeRounds = false,
  ) {
    this.wallet = devnetWalletClient(chain.rpcUrl, privateKey);
  }

  /** Queues a winning ticket; its face value counts as pending against the sender's float until done. */
  enqueue(t: ReceivedTicket): void {
    if (this.stopped) return;
    this.inFlight++;
    this.recipient.addPending(t.ticket.sender, t.ticket.faceValue);
    this.queue = this.queue
      .then(() => this.redeem(t))
      .catch(() => {})
      .finally(() => {
        this.inFlight--;
        this.recipient.subPending(t.ticket.sender, t.ticket.faceValue);
      });
  }

  /** Resolves when every queued ticket has been tried. */
  async idle(): Promise<void> {
    while (this.inFlight > 0) await this.queue;
  }

  stop(): void {
    this.stopped = true;
  }

  private async redeem(t: ReceivedTicket): Promise<void> {
    const hash = ticketHash(t.ticket);
    const base = { ticketHash: hash, sender: t.ticket.sender, senderNonce: t.ticket.senderNonce, faceValue: t.ticket.faceValue };
    const record = (r: Redemption): void => {
      this.redemptions.push(r);
      const line = {
        event: 'redemption',
        status: r.status,
        txHash: r.txHash,
        faceValue: r.faceValue.toString(),
        sender: r.sender,
        nonce: r.senderNonce.toString(),
        ticketHash: r.ticketHash,
        error: r.error,
      };
      if (r.status === 'redeemed') this.log.info(line, 'winning ticket redeemed');
      else this.log.warn(line, 'winning ticket not redeemed');
    };
    if (this.stopped) return;
    try {
      if (await this.chain.isUsedTicket(hash)) {
        record({ ...base, status: 'skipped', error: 'ticket already used' });
        return;
      }
      const txHash = await this.submit(t);
      const receipt = await this.chain.client.waitForTransactionReceipt({ hash: txHash });
      this.chain.invalidate();
      if (receipt.status !== 'success') record({ ...base, status: 'failed', txHash, error: 'transaction reverted' });
      else record({ ...base, status: 'redeemed', txHash });
    } catch (err) {
      record({ ...base, status: 'failed', error: reason(err) });
    }
  }

  private async submit(t: ReceivedTicket, retried = false): Promise<Hex> {
    try {
      return await this.wallet.writeContract({
        address: this.chain.contracts.ticketBroker,
        abi: ticketBrokerAbi,
        functionName: 'redeemWinningTicket',
        args: [toContractTicket(t.ticket), t.sig, t.recipientRand],
      });
    } catch (err) {
      if (!retried && this.initializeRounds && reason(err).includes('current round is not initialized')) {
        const init = await this.wallet.writeContract({
          address: this.chain.contracts.roundsManager,
          abi: roundsManagerAbi,
          functionName: 'initializeRound',
        });
        await this.chain.client.waitForTransactionReceipt({ hash: init });
        this.log.info({ event: 'round-initialized', txHash: init }, 'initialized the current round to redeem a ticket');
        this.chain.invalidate();
        return this.submit(t, true);
      }
      throw err;
    }
  }
}
