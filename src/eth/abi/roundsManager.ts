// RoundsManager (proxy): rounds counted in L1 blocks on Arbitrum, and the block hash stored per round.
const uint = <const N extends string>(name: N) => ({ name, type: 'uint256', internalType: 'uint256' }) as const;
const bool = { name: '', type: 'bool', internalType: 'bool' } as const;

export const roundsManagerAbi = [
  { type: 'function', name: 'currentRound', stateMutability: 'view', inputs: [], outputs: [uint('')] },
  { type: 'function', name: 'currentRoundInitialized', stateMutability: 'view', inputs: [], outputs: [bool] },
  { type: 'function', name: 'lastInitializedRound', stateMutability: 'view', inputs: [], outputs: [uint('')] },
  {
    type: 'function',
    name: 'blockHashForRound',
    stateMutability: 'view',
    inputs: [uint('_round')],
    outputs: [{ name: '', type: 'bytes32', internalType: 'bytes32' }],
  },
  { type: 'function', name: 'roundLength', stateMutability: 'view', inputs: [], outputs: [uint('')] },
  { type: 'function', name: 'roundLockAmount', stateMutability: 'view', inputs: [], outputs: [uint('')] },
  { type: 'function', name: 'currentRoundStartBlock', stateMutability: 'view', inputs: [], outputs: [uint('')] },
  { type: 'function', name: 'currentRoundLocked', stateMutability: 'view', inputs: [], outputs: [bool] },
  { type: 'function', name: 'initializeRound', stateMutability: 'nonpayable', inputs: [], outputs: [] },
  { type: 'function', name: 'blockNum', stateMutability: 'view', inputs: [], outputs: [uint('')] },
  {
    type: 'function',
    name: 'blockHash',
    stateMutability: 'view',
    inputs: [uint('_block')],
    outputs: [{ name: '', type: 'bytes32', internalType: 'bytes32' }],
  },
  {
    type: 'event',
    name: 'NewRound',
    anonymous: false,
    inputs: [
      { name: 'round', type: 'uint256', indexed: true, internalType: 'uint256' },
      { name: 'blockHash', type: 'bytes32', indexed: false, internalType: 'bytes32' },
    ],
  },
] as const;
