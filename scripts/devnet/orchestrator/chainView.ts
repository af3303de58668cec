// What the orchestrator reads from the chain, with short caches so a burst of requests costs a
// handful of RPC calls: last seen L1 block, rounds, pool size, gas price, sender funds, activity.
// (go-livepeer's orchestrator keeps senders' funds in memory too, refreshed on events; here a read is at
// most TTL_MS old, and the orchestrator's own redemptions drop every cached value at once.)
import { senderInfoFromTuples } from '../../../src/eth/senderInfo.ts';
import { GatewayError } from '../../../src/lib/errors.ts';
import { zeroHash, type Address, type Hex } from 'viem';
import { bondingManagerAbi, roundsManagerAbi, ticketBrokerAbi } from '../../../src/eth/abi/index.ts';
import { devnetPublicClient, type DevnetPublicClient } from '../chain.ts';
import type { SenderInfo } from '../../../src/pm/senderInfo.ts';

/** The contracts an orchestrator talks to (a subset of deploy.ts DevnetContracts). */
export interface OrchestratorContracts {
  ticketBroker: Address;
  roundsManager: Address;
  bondingManager: Address;
}

export interface RoundInfo {
  lastInitializedRound: bigint;
  /** blockHashForRound(lastInitializedRound) */
  blockHash: Hex;
  /** blockHashForRound(lastInitializedRound − 1) */
  previousBlockHash: Hex;
}

const TTL_MS = 500;
/** Past this many addresses a per-address cache starts over (a hostile client cannot grow it without bound). */
const MAX_ADDRESSES = 1024;

class Cached<T> {
  private value: Promise<T> | undefined;
  private at = 0;
  constructor(
    private readonly load: () => Promise<T>,
    private readonly ttlMs = TTL_MS,
  ) {}
  get(): Promise<T> {
    if (!this.value || Date.now() - this.at > this.ttlMs) {
      this.at = Date.now();
      const p = this.load();
      // A failed read is not cached.
      p.catch(() => {
        if (this.value === p) this.value = undefined;
      });
      this.value = p;
    }
    return this.value;
  }
  invalidate(): void {
    this.value = undefined;
  }
}

export class OrchestratorChain {
  readonly client: DevnetPublicClient;
  private readonly block: Cached<bigint>;
  private readonly rounds: Cached<RoundInfo>;
  private readonly pool: Cached<bigint>;
  private readonly gas: Cached<bigint>;
  private readonly senders = new Map<Address, Cached<SenderInfo>>();
  private readonly reserves = new Map<Address, Cached<bigint>>();
  private readonly active = new Map<Address, Cached<boolean>>();

  constructor(
    readonly rpcUrl: string,
    readonly contracts: OrchestratorContracts,
    readonly self: Address,
    /** how long a read is served from the cache */
    private readonly ttlMs = TTL_MS,
  ) {
    this.client = devnetPublicClient(rpcUrl);
    this.block = new Cached(() => this.readLastSeenL1Block(), ttlMs);
    this.rounds = new Cached(() => this.readRounds(), ttlMs);
    this.pool = new Cached(
      () => this.client.readContract({ address: contracts.bondingManager, abi: bondingManagerAbi, functionName: 'getTranscoderPoolSize' }),
      ttlMs,
    );
    this.gas = new Cached(() => this.client.getGasPrice(), Math.max(2000, ttlMs));
  }

  /** Arbitrum nodes add l1BlockNumber to blocks; anvil does not, so fall back to the block number. */
  private async readLastSeenL1Block(): Promise<bigint> {
    const block = (await this.client.request({
      method: 'eth_getBlockByNumber',
      params: ['latest', false],
    } as never)) as { number?: Hex; l1BlockNumber?: Hex } | null;
    const n = block?.l1BlockNumber ?? block?.number;
    if (!n) throw new GatewayError('the RPC returned no latest block');
    return BigInt(n);
  }

  private async readRounds(): Promise<RoundInfo> {
    const rm = { address: this.contracts.roundsManager, abi: roundsManagerAbi } as const;
    const round = await this.client.readContract({ ...rm, functionName: 'lastInitializedRound' });
    const [blockHash, previousBlockHash] = await Promise.all([
      this.client.readContract({ ...rm, functionName: 'blockHashForRound', args: [round] }),
      round > 0n ? this.client.readContract({ ...rm, functionName: 'blockHashForRound', args: [round - 1n] }) : zeroHash,
    ]);
    return { lastInitializedRound: round, blockHash, previousBlockHash };
  }

  lastSeenL1Block(): Promise<bigint> {
    return this.block.get();
  }

  roundInfo(): Promise<RoundInfo> {
    return this.rounds.get();
  }

  poolSize(): Promise<bigint> {
    return this.pool.get();
  }

  gasPrice(): Promise<bigint> {
    return this.gas.get();
  }

  /** Sender funds: at most TTL_MS old, and re-read after each of our redemptions. */
  senderInfo(sender: Address): Promise<SenderInfo> {
    return this.perAddress(this.senders, sender, async () =>
      senderInfoFromTuples(
        await this.client.readContract({ address: this.contracts.ticketBroker, abi: ticketBrokerAbi, functionName: 'getSenderInfo', args: [sender] }),
      ),
    ).get();
  }

  claimedReserve(sender: Address): Promise<bigint> {
    return this.perAddress(this.reserves, sender, () =>
      this.client.readContract({
        address: this.contracts.ticketBroker,
        abi: ticketBrokerAbi,
        functionName: 'claimedReserve',
        args: [sender, this.self],
      }),
    ).get();
  }

  isActiveTranscoder(addr: Address): Promise<boolean> {
    return this.perAddress(this.active, addr, () =>
      this.client.readContract({
        address: this.contracts.bondingManager,
        abi: bondingManagerAbi,
        functionName: 'isActiveTranscoder',
        args: [addr],
      }),
    ).get();
  }

  /** One cache per address; the maps hold the devnet's handful of senders and orchestrators. */
  private perAddress<T>(map: Map<Address, Cached<T>>, addr: Address, load: () => Promise<T>): Cached<T> {
    let c = map.get(addr);
    if (!c) {
      if (map.size >= MAX_ADDRESSES) map.clear();
      c = new Cached(load, this.ttlMs);
      map.set(addr, c);
    }
    return c;
  }

  isUsedTicket(ticketHash: Hex): Promise<boolean> {
    return this.client.readContract({
      address: this.contracts.ticketBroker,
      abi: ticketBrokerAbi,
      functionName: 'usedTickets',
      args: [ticketHash],
    });
  }

  /** After a transaction of ours or a new round, re-read instead of serving stale values. */
  invalidate(): void {
    this.block.invalidate();
    this.rounds.invalidate();
    this.pool.invalidate();
    for (const m of [this.senders, this.reserves, this.active]) m.clear();
  }
}
