// Reads the orchestrator pool: every orchestrator's stake, active status, rounds, rates and service URI.
//
// Round trips (documented because the pool is a linked list, which cannot be walked with a plain multicall):
//   1. the walk: one eth_call that runs the pool walker's creation code (poolWalker.ts) on the node and
//      returns all addresses in pool order;
//   2. the reads: five calls per orchestrator (getTranscoder, transcoderStatus, transcoderTotalStake,
//      isActiveTranscoder, getServiceURI) in Multicall3 batches of READS_PER_MULTICALL calls, sent in parallel.
// A 100-orchestrator pool costs 1 + 2 requests where go-livepeer makes ≈ 600 sequential eth_calls.
// If a node refuses eth_call without a `to` (creation code), the walk falls back to multicalls of
// getNextTranscoderInPool over the previously known pool order (`hint`), which resolve the whole list in
// one request when the order has not changed and at least one more orchestrator per request otherwise.
import { decodeAbiParameters, encodeAbiParameters, getAddress, zeroAddress, type Address, type Hex } from 'viem';
import { bondingManagerAbi } from './abi/bondingManager.ts';
import { serviceRegistryAbi } from './abi/serviceRegistry.ts';
import type { EthClient } from './client.ts';
import type { LivepeerContracts } from './contracts.ts';
import { EthError, EthUnreachableError, unwrapEthError } from './errors.ts';
import { POOL_WALKER_BYTECODE } from './poolWalker.ts';

export type TranscoderStatus = 'Registered' | 'Not Registered';

export interface PoolOrchestrator {
  address: Address;
  /** As registered; may be empty or garbage (see usable). */
  serviceURI: string;
  /** transcoderTotalStake, LPT wei. */
  stake: bigint;
  /** isActiveTranscoder at the time of the read. */
  active: boolean;
  activationRound: bigint;
  deactivationRound: bigint;
  lastRewardRound: bigint;
  lastActiveStakeUpdateRound: bigint;
  /** Millionths (1 000 000 = 100 %). */
  rewardCut: bigint;
  feeShare: bigint;
  status: TranscoderStatus;
  /** Whether the service URI can be dialled (https URL with a host). */
  usable: boolean;
  /** Why not, when usable is false. */
  unusableReason?: string;
}

/** Calls per Multicall3 request for the per-orchestrator reads (5 per orchestrator). */
export const READS_PER_MULTICALL = 300;
/** Upper bound handed to the walker (the protocol caps the pool at numActiveTranscoders, 100 today). */
export const WALK_LIMIT = 4096n;
const MAX_URI_LENGTH = 2048;

/** Judges a service URI without ever throwing on it. */
export function checkServiceURI(uri: string): { usable: true } | { usable: false; reason: string } {
  if (uri.trim() === '') return { usable: false, reason: 'no service URI registered' };
  if (uri.length > MAX_URI_LENGTH) return { usable: false, reason: `service URI longer than ${MAX_URI_LENGTH} characters` };
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return { usable: false, reason: 'service URI is not a URL' };
  }
  if (u.protocol !== 'https:') return { usable: false, reason: `service URI scheme is ${u.protocol.replace(/:$/, '')}, not https` };
  if (!u.hostname) return { usable: false, reason: 'service URI has no host' };
  return { usable: true };
}

/** Pool addresses in order (largest stake first). */
export async function walkTranscoderPool(eth: EthClient, contracts: LivepeerContracts, hint: readonly Address[] = []): Promise<Address[]> {
  try {
    return await walkWithCreationCode(eth, contracts);
  } catch (err) {
    const e = unwrapEthError(err);
    if (e instanceof EthUnreachableError) throw e;
    return walkTranscoderPoolWithHint(eth, contracts, hint);
  }
}

async function walkWithCreationCode(eth: EthClient, contracts: LivepeerContracts): Promise<Address[]> {
  const args = encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [contracts.bondingManager, WALK_LIMIT]);
  const data = (POOL_WALKER_BYTECODE + args.slice(2)) as Hex;
  const raw = (await eth.publicClient.request({ method: 'eth_call', params: [{ data }, 'latest'] })) as Hex;
  const [pool] = decodeAbiParameters([{ type: 'address[]' }], raw);
  return pool.map((a) => getAddress(a));
}

/**
 * The walk without creation code: getNextTranscoderInPool for every hinted address in one multicall, then
 * one more request per address the hint did not cover.
 */
export async function walkTranscoderPoolWithHint(eth: EthClient, contracts: LivepeerContracts, hint: readonly Address[]): Promise<Address[]> {
  const bm = { address: contracts.bondingManager, abi: bondingManagerAbi } as const;
  const next = new Map<Address, Address>();
  const ask = async (addrs: readonly Address[], withFirst: boolean): Promise<Address | undefined> => {
    const calls = [
      ...(withFirst ? [{ ...bm, functionName: 'getFirstTranscoderInPool' as const }] : []),
      ...addrs.map((a) => ({ ...bm, functionName: 'getNextTranscoderInPool' as const, args: [a] as const })),
    ];
    const results = await eth.publicClient.multicall({ allowFailure: false, contracts: calls, batchSize: 0 });
    const offset = withFirst ? 1 : 0;
    addrs.forEach((a, i) => {
      next.set(a, getAddress(results[i + offset] as Address));
    });
    return withFirst ? getAddress(results[0] as Address) : undefined;
  };
  const first = (await ask(hint, true))!;
  const pool: Address[] = [];
  const seen = new Set<Address>();
  let a = first;
  while (a !== zeroAddress) {
    if (seen.has(a) || pool.length >= Number(WALK_LIMIT)) throw new EthError('the orchestrator pool list loops; cannot read it');
    seen.add(a);
    pool.push(a);
    if (!next.has(a)) await ask([a], false);
    a = next.get(a)!;
  }
  return pool;
}

/** Reads the whole pool with stake, status and service URI. Malformed URIs are kept, marked unusable. */
export async function readTranscoderPool(eth: EthClient, contracts: LivepeerContracts, opts: { hint?: readonly Address[] } = {}): Promise<PoolOrchestrator[]> {
  const addresses = await walkTranscoderPool(eth, contracts, opts.hint);
  return readOrchestrators(eth, contracts, addresses);
}

/** The five reads per orchestrator, batched. */
export async function readOrchestrators(eth: EthClient, contracts: LivepeerContracts, addresses: readonly Address[]): Promise<PoolOrchestrator[]> {
  const bm = { address: contracts.bondingManager, abi: bondingManagerAbi } as const;
  const sr = { address: contracts.serviceRegistry, abi: serviceRegistryAbi } as const;
  const calls = addresses.flatMap((a) => [
    { ...bm, functionName: 'getTranscoder' as const, args: [a] as const },
    { ...bm, functionName: 'transcoderStatus' as const, args: [a] as const },
    { ...bm, functionName: 'transcoderTotalStake' as const, args: [a] as const },
    { ...bm, functionName: 'isActiveTranscoder' as const, args: [a] as const },
    { ...sr, functionName: 'getServiceURI' as const, args: [a] as const },
  ]);
  const chunks: (typeof calls)[] = [];
  for (let i = 0; i < calls.length; i += READS_PER_MULTICALL) chunks.push(calls.slice(i, i + READS_PER_MULTICALL));
  const answers = await Promise.all(
    chunks.map((contractsChunk) => eth.publicClient.multicall({ allowFailure: true, contracts: contractsChunk, batchSize: 0 })),
  );
  const results = answers.flat();
  return addresses.map((address, i) => {
    const [t, status, stake, active, uri] = results.slice(i * 5, i * 5 + 5);
    const record = t?.status === 'success' ? (t.result as readonly bigint[]) : undefined;
    const serviceURI = uri?.status === 'success' ? String(uri.result) : '';
    const check = checkServiceURI(serviceURI);
    const o: PoolOrchestrator = {
      address,
      serviceURI,
      stake: stake?.status === 'success' ? (stake.result as bigint) : 0n,
      active: active?.status === 'success' ? Boolean(active.result) : false,
      lastRewardRound: record?.[0] ?? 0n,
      rewardCut: record?.[1] ?? 0n,
      feeShare: record?.[2] ?? 0n,
      lastActiveStakeUpdateRound: record?.[3] ?? 0n,
      activationRound: record?.[4] ?? 0n,
      deactivationRound: record?.[5] ?? 0n,
      status: status?.status === 'success' && Number(status.result) === 1 ? 'Registered' : 'Not Registered',
      usable: check.usable,
    };
    if (!check.usable) o.unusableReason = check.reason;
    if (!record || stake?.status !== 'success' || active?.status !== 'success' || uri?.status !== 'success') {
      o.usable = false;
      o.unusableReason = 'its on-chain record could not be read';
    }
    return o;
  });
}

/** Active in `round` by the record's rounds (activationRound ≤ round < deactivationRound). */
export function isActiveInRound(o: Pick<PoolOrchestrator, 'activationRound' | 'deactivationRound'>, round: bigint): boolean {
  return o.activationRound <= round && round < o.deactivationRound;
}
