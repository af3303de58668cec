// BondingManager (proxy): the orchestrator pool (a linked list sorted by stake), each orchestrator's record,
// and the fees an orchestrator earns from redeemed tickets.
const address = <const N extends string>(name: N) => ({ name, type: 'address', internalType: 'address' }) as const;
const uint = <const N extends string>(name: N) => ({ name, type: 'uint256', internalType: 'uint256' }) as const;

export const bondingManagerAbi = [
  { type: 'function', name: 'getFirstTranscoderInPool', stateMutability: 'view', inputs: [], outputs: [address('')] },
  {
    type: 'function',
    name: 'getNextTranscoderInPool',
    stateMutability: 'view',
    inputs: [address('_transcoder')],
    outputs: [address('')],
  },
  { type: 'function', name: 'getTranscoderPoolSize', stateMutability: 'view', inputs: [], outputs: [uint('')] },
  { type: 'function', name: 'getTranscoderPoolMaxSize', stateMutability: 'view', inputs: [], outputs: [uint('')] },
  { type: 'function', name: 'transcoderTotalStake', stateMutability: 'view', inputs: [address('_transcoder')], outputs: [uint('')] },
  {
    type: 'function',
    name: 'isActiveTranscoder',
    stateMutability: 'view',
    inputs: [address('_transcoder')],
    outputs: [{ name: '', type: 'bool', internalType: 'bool' }],
  },
  {
    type: 'function',
    name: 'isRegisteredTranscoder',
    stateMutability: 'view',
    inputs: [address('_transcoder')],
    outputs: [{ name: '', type: 'bool', internalType: 'bool' }],
  },
  {
    type: 'function',
    name: 'transcoderStatus',
    stateMutability: 'view',
    inputs: [address('_transcoder')],
    outputs: [{ name: '', type: 'uint8', internalType: 'enum BondingManager.TranscoderStatus' }],
  },
  {
    type: 'function',
    name: 'getTranscoder',
    stateMutability: 'view',
    inputs: [address('_transcoder')],
    outputs: [
      uint('lastRewardRound'),
      uint('rewardCut'),
      uint('feeShare'),
      uint('lastActiveStakeUpdateRound'),
      uint('activationRound'),
      uint('deactivationRound'),
      uint('activeCumulativeRewards'),
      uint('cumulativeRewards'),
      uint('cumulativeFees'),
      uint('lastFeeRound'),
    ],
  },
  {
    type: 'function',
    name: 'getTranscoderEarningsPoolForRound',
    stateMutability: 'view',
    inputs: [address('_transcoder'), uint('_round')],
    outputs: [uint('totalStake'), uint('transcoderRewardCut'), uint('transcoderFeeShare'), uint('cumulativeRewardFactor'), uint('cumulativeFeeFactor')],
  },
  { type: 'function', name: 'getTotalBonded', stateMutability: 'view', inputs: [], outputs: [uint('')] },
  {
    type: 'function',
    name: 'pendingFees',
    stateMutability: 'view',
    inputs: [address('_delegator'), uint('_endRound')],
    outputs: [uint('')],
  },
  {
    type: 'function',
    name: 'withdrawFees',
    stateMutability: 'nonpayable',
    inputs: [{ name: '_recipient', type: 'address', internalType: 'address payable' }, uint('_amount')],
    outputs: [],
  },
  {
    type: 'function',
    name: 'unbondingPeriod',
    stateMutability: 'view',
    inputs: [],
    outputs: [{ name: '', type: 'uint64', internalType: 'uint64' }],
  },
  {
    type: 'event',
    name: 'TranscoderUpdate',
    anonymous: false,
    inputs: [
      { name: 'transcoder', type: 'address', indexed: true, internalType: 'address' },
      { name: 'rewardCut', type: 'uint256', indexed: false, internalType: 'uint256' },
      { name: 'feeShare', type: 'uint256', indexed: false, internalType: 'uint256' },
    ],
  },
  {
    type: 'event',
    name: 'TranscoderActivated',
    anonymous: false,
    inputs: [
      { name: 'transcoder', type: 'address', indexed: true, internalType: 'address' },
      { name: 'activationRound', type: 'uint256', indexed: false, internalType: 'uint256' },
    ],
  },
  {
    type: 'event',
    name: 'TranscoderDeactivated',
    anonymous: false,
    inputs: [
      { name: 'transcoder', type: 'address', indexed: true, internalType: 'address' },
      { name: 'deactivationRound', type: 'uint256', indexed: false, internalType: 'uint256' },
    ],
  },
] as const;
