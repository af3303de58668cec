// The protocol's parameters that go-livepeer reports (its eth/types ProtocolParameters), in one Multicall3
// request. A contract that lacks a function (an older deployment, a devnet) gives null for that value
// instead of failing the whole read.
import { bondingManagerAbi } from './abi/bondingManager.ts';
import { controllerAbi } from './abi/controller.ts';
import { minterAbi } from './abi/minter.ts';
import { roundsManagerAbi } from './abi/roundsManager.ts';
import type { EthClient } from './client.ts';
import type { LivepeerContracts } from './contracts.ts';

export interface ProtocolParameters {
  /** BondingManager.getTranscoderPoolMaxSize. */
  numActiveTranscoders: bigint | null;
  roundLength: bigint | null;
  roundLockAmount: bigint | null;
  unbondingPeriod: bigint | null;
  inflation: bigint | null;
  inflationChange: bigint | null;
  targetBondingRate: bigint | null;
  totalBonded: bigint | null;
  /** Minter.getGlobalTotalSupply. */
  totalSupply: bigint | null;
  /** Controller.paused; null when it cannot be read. */
  paused: boolean | null;
}

export async function readProtocolParameters(eth: EthClient, contracts: LivepeerContracts): Promise<ProtocolParameters> {
  const bm = { address: contracts.bondingManager, abi: bondingManagerAbi } as const;
  const rm = { address: contracts.roundsManager, abi: roundsManagerAbi } as const;
  const minter = { address: contracts.minter, abi: minterAbi } as const;
  const results = await eth.publicClient.multicall({
    allowFailure: true,
    batchSize: 0,
    contracts: [
      { ...bm, functionName: 'getTranscoderPoolMaxSize' },
      { ...rm, functionName: 'roundLength' },
      { ...rm, functionName: 'roundLockAmount' },
      { ...bm, functionName: 'unbondingPeriod' },
      { ...minter, functionName: 'inflation' },
      { ...minter, functionName: 'inflationChange' },
      { ...minter, functionName: 'targetBondingRate' },
      { ...bm, functionName: 'getTotalBonded' },
      { ...minter, functionName: 'getGlobalTotalSupply' },
      { address: contracts.controller, abi: controllerAbi, functionName: 'paused' },
    ],
  });
  const [poolMaxSize, roundLength, roundLockAmount, unbondingPeriod, inflation, inflationChange, targetBondingRate, totalBonded, totalSupply, paused] = results;
  return {
    numActiveTranscoders: valueOrNull(poolMaxSize),
    roundLength: valueOrNull(roundLength),
    roundLockAmount: valueOrNull(roundLockAmount),
    unbondingPeriod: valueOrNull(unbondingPeriod),
    inflation: valueOrNull(inflation),
    inflationChange: valueOrNull(inflationChange),
    targetBondingRate: valueOrNull(targetBondingRate),
    totalBonded: valueOrNull(totalBonded),
    totalSupply: valueOrNull(totalSupply),
    paused: valueOrNull(paused),
  };
}

function valueOrNull<T>(r: { status: 'success'; result: T } | { status: 'failure' }): T | null {
  return r.status === 'success' ? r.result : null;
}
