// Typed ABIs (for viem) of the Livepeer contract functions and events a broadcaster uses on Arbitrum One.
// They describe the real network; the devnet contracts implement exactly these signatures (a test compares
// them with the compiled devnet artifacts). Devnet-only functions are not listed here.

const ticketTuple = {
  type: 'tuple',
  internalType: 'struct MTicketBrokerCore.Ticket',
  components: [
    { name: 'recipient', type: 'address', internalType: 'address' },
    { name: 'sender', type: 'address', internalType: 'address' },
    { name: 'faceValue', type: 'uint256', internalType: 'uint256' },
    { name: 'winProb', type: 'uint256', internalType: 'uint256' },
    { name: 'senderNonce', type: 'uint256', internalType: 'uint256' },
    { name: 'recipientRandHash', type: 'bytes32', internalType: 'bytes32' },
    { name: 'auxData', type: 'bytes', internalType: 'bytes' },
  ],
} as const;

const reserveInfoComponents = [
  { name: 'fundsRemaining', type: 'uint256', internalType: 'uint256' },
  { name: 'claimedInCurrentRound', type: 'uint256', internalType: 'uint256' },
] as const;

const parameterUpdateEvent = {
  type: 'event',
  name: 'ParameterUpdate',
  anonymous: false,
  inputs: [{ name: 'param', type: 'string', indexed: false, internalType: 'string' }],
} as const;

export const controllerAbi = [
  {
    type: 'function',
    name: 'getContract',
    stateMutability: 'view',
    inputs: [{ name: '_id', type: 'bytes32', internalType: 'bytes32' }],
    outputs: [{ name: '', type: 'address', internalType: 'address' }],
  },
  {
    type: 'function',
    name: 'getContractInfo',
    stateMutability: 'view',
    inputs: [{ name: '_id', type: 'bytes32', internalType: 'bytes32' }],
    outputs: [
      { name: '', type: 'address', internalType: 'address' },
      { name: '', type: 'bytes20', internalType: 'bytes20' },
    ],
  },
  {
    type: 'function',
    name: 'setContractInfo',
    stateMutability: 'nonpayable',
    inputs: [
      { name: '_id', type: 'bytes32', internalType: 'bytes32' },
      { name: '_contractAddress', type: 'address', internalType: 'address' },
      { name: '_gitCommitHash', type: 'bytes20', internalType: 'bytes20' },
    ],
    outputs: [],
  },
  {
    type: 'function',
    name: 'paused',
    stateMutability: 'view',
    inputs: [],
    outputs: [{ name: '', type: 'bool', internalType: 'bool' }],
  },
  {
    type: 'function',
    name: 'owner',
    stateMutability: 'view',
    inputs: [],
    outputs: [{ name: '', type: 'address', internalType: 'address' }],
  },
  { type: 'function', name: 'pause', stateMutability: 'nonpayable', inputs: [], outputs: [] },
  { type: 'function', name: 'unpause', stateMutability: 'nonpayable', inputs: [], outputs: [] },
  {
    type: 'event',
    name: 'SetContractInfo',
    anonymous: false,
    inputs: [
      { name: 'id', type: 'bytes32', indexed: false, internalType: 'bytes32' },
      { name: 'contractAddress', type: 'address', indexed: false, internalType: 'address' },
      { name: 'gitCommitHash', type: 'bytes20', indexed: false, internalType: 'bytes20' },
    ],
  },
  { type: 'event', name: 'Pause', anonymous: false, inputs: [] },
  { type: 'event', name: 'Unpause', anonymous: false, inputs: [] },
] as const;

export const ticketBrokerAbi = [
  { type: 'function', name: 'fundDeposit', stateMutability: 'payable', inputs: [], outputs: [] },
  { type: 'function', name: 'fundReserve', stateMutability: 'payable', inputs: [], outputs: [] },
  {
    type: 'function',
    name: 'fundDepositAndReserve',
    stateMutability: 'payable',
    inputs: [
      { name: '_depositAmount', type: 'uint256', internalType: 'uint256' },
      { name: '_reserveAmount', type: 'uint256', internalType: 'uint256' },
    ],
    outputs: [],
  },
  {
    type: 'function',
    name: 'fundDepositAndReserveFor',
    stateMutability: 'payable',
    inputs: [
      { name: '_addr', type: 'address', internalType: 'address' },
      { name: '_depositAmount', type: 'uint256', internalType: 'uint256' },
      { name: '_reserveAmount', type: 'uint256', internalType: 'uint256' },
    ],
    outputs: [],
  },
  { type: 'function', name: 'unlock', stateMutability: 'nonpayable', inputs: [], outputs: [] },
  { type: 'function', name: 'cancelUnlock', stateMutability: 'nonpayable', inputs: [], outputs: [] },
  { type: 'function', name: 'withdraw', stateMutability: 'nonpayable', inputs: [], outputs: [] },
  {
    type: 'function',
    name: 'isUnlockInProgress',
    stateMutability: 'view',
    inputs: [{ name: '_sender', type: 'address', internalType: 'address' }],
    outputs: [{ name: '', type: 'bool', internalType: 'bool' }],
  },
  {
    type: 'function',
    name: 'getSenderInfo',
    stateMutability: 'view',
    inputs: [{ name: '_sender', type: 'address', internalType: 'address' }],
    outputs: [
      {
        name: 'sender',
        type: 'tuple',
        internalType: 'struct MixinTicketBrokerCore.Sender',
        components: [
          { name: 'deposit', type: 'uint256', internalType: 'uint256' },
          { name: 'withdrawRound', type: 'uint256', internalType: 'uint256' },
        ],
      },
      { name: 'reserve', type: 'tuple', internalType: 'struct MReserve.ReserveInfo', components: reserveInfoComponents },
    ],
  },
  {
    type: 'function',
    name: 'getReserveInfo',
    stateMutability: 'view',
    inputs: [{ name: '_reserveHolder', type: 'address', internalType: 'address' }],
    outputs: [{ name: 'info', type: 'tuple', internalType: 'struct MReserve.ReserveInfo', components: reserveInfoComponents }],
  },
  {
    type: 'function',
    name: 'claimableReserve',
    stateMutability: 'view',
    inputs: [
      { name: '_reserveHolder', type: 'address', internalType: 'address' },
      { name: '_claimant', type: 'address', internalType: 'address' },
    ],
    outputs: [{ name: '', type: 'uint256', internalType: 'uint256' }],
  },
  {
    type: 'function',
    name: 'claimedReserve',
    stateMutability: 'view',
    inputs: [
      { name: '_reserveHolder', type: 'address', internalType: 'address' },
      { name: '_claimant', type: 'address', internalType: 'address' },
    ],
    outputs: [{ name: '', type: 'uint256', internalType: 'uint256' }],
  },
  {
    type: 'function',
    name: 'usedTickets',
    stateMutability: 'view',
    inputs: [{ name: '', type: 'bytes32', internalType: 'bytes32' }],
    outputs: [{ name: '', type: 'bool', internalType: 'bool' }],
  },
  {
    type: 'function',
    name: 'getTicketHash',
    stateMutability: 'pure',
    inputs: [{ name: '_ticket', ...ticketTuple }],
    outputs: [{ name: '', type: 'bytes32', internalType: 'bytes32' }],
  },
  {
    type: 'function',
    name: 'redeemWinningTicket',
    stateMutability: 'nonpayable',
    inputs: [
      { name: '_ticket', ...ticketTuple },
      { name: '_sig', type: 'bytes', internalType: 'bytes' },
      { name: '_recipientRand', type: 'uint256', internalType: 'uint256' },
    ],
    outputs: [],
  },
  {
    type: 'function',
    name: 'batchRedeemWinningTickets',
    stateMutability: 'nonpayable',
    inputs: [
      { name: '_tickets', type: 'tuple[]', internalType: 'struct MTicketBrokerCore.Ticket[]', components: ticketTuple.components },
      { name: '_sigs', type: 'bytes[]', internalType: 'bytes[]' },
      { name: '_recipientRands', type: 'uint256[]', internalType: 'uint256[]' },
    ],
    outputs: [],
  },
  {
    type: 'function',
    name: 'unlockPeriod',
    stateMutability: 'view',
    inputs: [],
    outputs: [{ name: '', type: 'uint256', internalType: 'uint256' }],
  },
  {
    type: 'function',
    name: 'ticketValidityPeriod',
    stateMutability: 'view',
    inputs: [],
    outputs: [{ name: '', type: 'uint256', internalType: 'uint256' }],
  },
  {
    type: 'event',
    name: 'DepositFunded',
    anonymous: false,
    inputs: [
      { name: 'sender', type: 'address', indexed: true, internalType: 'address' },
      { name: 'amount', type: 'uint256', indexed: false, internalType: 'uint256' },
    ],
  },
  {
    type: 'event',
    name: 'ReserveFunded',
    anonymous: false,
    inputs: [
      { name: 'reserveHolder', type: 'address', indexed: true, internalType: 'address' },
      { name: 'amount', type: 'uint256', indexed: false, internalType: 'uint256' },
    ],
  },
  {
    type: 'event',
    name: 'ReserveClaimed',
    anonymous: false,
    inputs: [
      { name: 'reserveHolder', type: 'address', indexed: true, internalType: 'address' },
      { name: 'claimant', type: 'address', indexed: false, internalType: 'address' },
      { name: 'amount', type: 'uint256', indexed: false, internalType: 'uint256' },
    ],
  },
  {
    type: 'event',
    name: 'WinningTicketRedeemed',
    anonymous: false,
    inputs: [
      { name: 'sender', type: 'address', indexed: true, internalType: 'address' },
      { name: 'recipient', type: 'address', indexed: true, internalType: 'address' },
      { name: 'faceValue', type: 'uint256', indexed: false, internalType: 'uint256' },
      { name: 'winProb', type: 'uint256', indexed: false, internalType: 'uint256' },
      { name: 'senderNonce', type: 'uint256', indexed: false, internalType: 'uint256' },
      { name: 'recipientRand', type: 'uint256', indexed: false, internalType: 'uint256' },
      { name: 'auxData', type: 'bytes', indexed: false, internalType: 'bytes' },
    ],
  },
  {
    type: 'event',
    name: 'WinningTicketTransfer',
    anonymous: false,
    inputs: [
      { name: 'sender', type: 'address', indexed: true, internalType: 'address' },
      { name: 'recipient', type: 'address', indexed: true, internalType: 'address' },
      { name: 'amount', type: 'uint256', indexed: false, internalType: 'uint256' },
    ],
  },
  {
    type: 'event',
    name: 'Unlock',
    anonymous: false,
    inputs: [
      { name: 'sender', type: 'address', indexed: true, internalType: 'address' },
      { name: 'startRound', type: 'uint256', indexed: false, internalType: 'uint256' },
      { name: 'endRound', type: 'uint256', indexed: false, internalType: 'uint256' },
    ],
  },
  {
    type: 'event',
    name: 'UnlockCancelled',
    anonymous: false,
    inputs: [{ name: 'sender', type: 'address', indexed: true, internalType: 'address' }],
  },
  {
    type: 'event',
    name: 'Withdrawal',
    anonymous: false,
    inputs: [
      { name: 'sender', type: 'address', indexed: true, internalType: 'address' },
      { name: 'deposit', type: 'uint256', indexed: false, internalType: 'uint256' },
      { name: 'reserve', type: 'uint256', indexed: false, internalType: 'uint256' },
    ],
  },
  parameterUpdateEvent,
] as const;

const addressIn = (name: string) => ({ name, type: 'address', internalType: 'address' }) as const;
const uintOut = (name: string) => ({ name, type: 'uint256', internalType: 'uint256' }) as const;

export const bondingManagerAbi = [
  {
    type: 'function',
    name: 'getFirstTranscoderInPool',
    stateMutability: 'view',
    inputs: [],
    outputs: [{ name: '', type: 'address', internalType: 'address' }],
  },
  {
    type: 'function',
    name: 'getNextTranscoderInPool',
    stateMutability: 'view',
    inputs: [addressIn('_transcoder')],
    outputs: [{ name: '', type: 'address', internalType: 'address' }],
  },
  { type: 'function', name: 'getTranscoderPoolSize', stateMutability: 'view', inputs: [], outputs: [uintOut('')] },
  { type: 'function', name: 'getTranscoderPoolMaxSize', stateMutability: 'view', inputs: [], outputs: [uintOut('')] },
  {
    type: 'function',
    name: 'transcoderTotalStake',
    stateMutability: 'view',
    inputs: [addressIn('_transcoder')],
    outputs: [uintOut('')],
  },
  {
    type: 'function',
    name: 'isActiveTranscoder',
    stateMutability: 'view',
    inputs: [addressIn('_transcoder')],
    outputs: [{ name: '', type: 'bool', internalType: 'bool' }],
  },
  {
    type: 'function',
    name: 'isRegisteredTranscoder',
    stateMutability: 'view',
    inputs: [addressIn('_transcoder')],
    outputs: [{ name: '', type: 'bool', internalType: 'bool' }],
  },
  {
    type: 'function',
    name: 'transcoderStatus',
    stateMutability: 'view',
    inputs: [addressIn('_transcoder')],
    outputs: [{ name: '', type: 'uint8', internalType: 'enum BondingManager.TranscoderStatus' }],
  },
  {
    type: 'function',
    name: 'getTranscoder',
    stateMutability: 'view',
    inputs: [addressIn('_transcoder')],
    outputs: [
      uintOut('lastRewardRound'),
      uintOut('rewardCut'),
      uintOut('feeShare'),
      uintOut('lastActiveStakeUpdateRound'),
      uintOut('activationRound'),
      uintOut('deactivationRound'),
      uintOut('activeCumulativeRewards'),
      uintOut('cumulativeRewards'),
      uintOut('cumulativeFees'),
      uintOut('lastFeeRound'),
    ],
  },
  {
    type: 'function',
    name: 'getTranscoderEarningsPoolForRound',
    stateMutability: 'view',
    inputs: [addressIn('_transcoder'), { name: '_round', type: 'uint256', internalType: 'uint256' }],
    outputs: [
      uintOut('totalStake'),
      uintOut('transcoderRewardCut'),
      uintOut('transcoderFeeShare'),
      uintOut('cumulativeRewardFactor'),
      uintOut('cumulativeFeeFactor'),
    ],
  },
  {
    type: 'function',
    name: 'getDelegator',
    stateMutability: 'view',
    inputs: [addressIn('_delegator')],
    outputs: [
      uintOut('bondedAmount'),
      uintOut('fees'),
      { name: 'delegateAddress', type: 'address', internalType: 'address' },
      uintOut('delegatedAmount'),
      uintOut('startRound'),
      uintOut('lastClaimRound'),
      uintOut('nextUnbondingLockId'),
    ],
  },
  { type: 'function', name: 'getTotalBonded', stateMutability: 'view', inputs: [], outputs: [uintOut('')] },
  {
    type: 'function',
    name: 'pendingFees',
    stateMutability: 'view',
    inputs: [addressIn('_delegator'), { name: '_endRound', type: 'uint256', internalType: 'uint256' }],
    outputs: [uintOut('')],
  },
  {
    type: 'function',
    name: 'transcoder',
    stateMutability: 'nonpayable',
    inputs: [
      { name: '_rewardCut', type: 'uint256', internalType: 'uint256' },
      { name: '_feeShare', type: 'uint256', internalType: 'uint256' },
    ],
    outputs: [],
  },
  {
    type: 'function',
    name: 'withdrawFees',
    stateMutability: 'nonpayable',
    inputs: [
      { name: '_recipient', type: 'address', internalType: 'address payable' },
      { name: '_amount', type: 'uint256', internalType: 'uint256' },
    ],
    outputs: [],
  },
  {
    type: 'function',
    name: 'updateTranscoderWithFees',
    stateMutability: 'nonpayable',
    inputs: [
      addressIn('_transcoder'),
      { name: '_fees', type: 'uint256', internalType: 'uint256' },
      { name: '_round', type: 'uint256', internalType: 'uint256' },
    ],
    outputs: [],
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
  {
    type: 'event',
    name: 'WithdrawFees',
    anonymous: false,
    inputs: [
      { name: 'delegator', type: 'address', indexed: true, internalType: 'address' },
      { name: 'recipient', type: 'address', indexed: false, internalType: 'address' },
      { name: 'amount', type: 'uint256', indexed: false, internalType: 'uint256' },
    ],
  },
  parameterUpdateEvent,
] as const;

export const serviceRegistryAbi = [
  {
    type: 'function',
    name: 'setServiceURI',
    stateMutability: 'nonpayable',
    inputs: [{ name: '_serviceURI', type: 'string', internalType: 'string' }],
    outputs: [],
  },
  {
    type: 'function',
    name: 'getServiceURI',
    stateMutability: 'view',
    inputs: [addressIn('_addr')],
    outputs: [{ name: '', type: 'string', internalType: 'string' }],
  },
  {
    type: 'event',
    name: 'ServiceURIUpdate',
    anonymous: false,
    inputs: [
      { name: 'addr', type: 'address', indexed: true, internalType: 'address' },
      { name: 'serviceURI', type: 'string', indexed: false, internalType: 'string' },
    ],
  },
] as const;

export const roundsManagerAbi = [
  { type: 'function', name: 'currentRound', stateMutability: 'view', inputs: [], outputs: [uintOut('')] },
  {
    type: 'function',
    name: 'currentRoundInitialized',
    stateMutability: 'view',
    inputs: [],
    outputs: [{ name: '', type: 'bool', internalType: 'bool' }],
  },
  { type: 'function', name: 'lastInitializedRound', stateMutability: 'view', inputs: [], outputs: [uintOut('')] },
  {
    type: 'function',
    name: 'blockHashForRound',
    stateMutability: 'view',
    inputs: [{ name: '_round', type: 'uint256', internalType: 'uint256' }],
    outputs: [{ name: '', type: 'bytes32', internalType: 'bytes32' }],
  },
  { type: 'function', name: 'roundLength', stateMutability: 'view', inputs: [], outputs: [uintOut('')] },
  { type: 'function', name: 'roundLockAmount', stateMutability: 'view', inputs: [], outputs: [uintOut('')] },
  { type: 'function', name: 'currentRoundStartBlock', stateMutability: 'view', inputs: [], outputs: [uintOut('')] },
  {
    type: 'function',
    name: 'currentRoundLocked',
    stateMutability: 'view',
    inputs: [],
    outputs: [{ name: '', type: 'bool', internalType: 'bool' }],
  },
  { type: 'function', name: 'initializeRound', stateMutability: 'nonpayable', inputs: [], outputs: [] },
  { type: 'function', name: 'blockNum', stateMutability: 'view', inputs: [], outputs: [uintOut('')] },
  {
    type: 'function',
    name: 'blockHash',
    stateMutability: 'view',
    inputs: [{ name: '_block', type: 'uint256', internalType: 'uint256' }],
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
  parameterUpdateEvent,
] as const;

export const minterAbi = [
  {
    type: 'function',
    name: 'depositETH',
    stateMutability: 'payable',
    inputs: [],
    outputs: [{ name: '', type: 'bool', internalType: 'bool' }],
  },
  {
    type: 'function',
    name: 'trustedWithdrawETH',
    stateMutability: 'nonpayable',
    inputs: [
      { name: '_to', type: 'address', internalType: 'address payable' },
      { name: '_amount', type: 'uint256', internalType: 'uint256' },
    ],
    outputs: [],
  },
] as const;

export const livepeerTokenAbi = [
  { type: 'function', name: 'totalSupply', stateMutability: 'view', inputs: [], outputs: [uintOut('')] },
  { type: 'function', name: 'balanceOf', stateMutability: 'view', inputs: [addressIn('')], outputs: [uintOut('')] },
  {
    type: 'function',
    name: 'transfer',
    stateMutability: 'nonpayable',
    inputs: [addressIn('_to'), { name: '_value', type: 'uint256', internalType: 'uint256' }],
    outputs: [{ name: '', type: 'bool', internalType: 'bool' }],
  },
  {
    type: 'event',
    name: 'Transfer',
    anonymous: false,
    inputs: [
      { name: 'from', type: 'address', indexed: true, internalType: 'address' },
      { name: 'to', type: 'address', indexed: true, internalType: 'address' },
      { name: 'value', type: 'uint256', indexed: false, internalType: 'uint256' },
    ],
  },
] as const;

export const multicall3Abi = [
  {
    type: 'function',
    name: 'aggregate3',
    stateMutability: 'payable',
    inputs: [
      {
        name: 'calls',
        type: 'tuple[]',
        internalType: 'struct Multicall3.Call3[]',
        components: [
          { name: 'target', type: 'address', internalType: 'address' },
          { name: 'allowFailure', type: 'bool', internalType: 'bool' },
          { name: 'callData', type: 'bytes', internalType: 'bytes' },
        ],
      },
    ],
    outputs: [
      {
        name: 'returnData',
        type: 'tuple[]',
        internalType: 'struct Multicall3.Result[]',
        components: [
          { name: 'success', type: 'bool', internalType: 'bool' },
          { name: 'returnData', type: 'bytes', internalType: 'bytes' },
        ],
      },
    ],
  },
  {
    type: 'function',
    name: 'getBlockNumber',
    stateMutability: 'view',
    inputs: [],
    outputs: [{ name: 'blockNumber', type: 'uint256', internalType: 'uint256' }],
  },
] as const;

/** Controller registry names (the id is keccak256 of the UTF-8 name). */
export const CONTRACT_NAMES = [
  'TicketBroker',
  'BondingManager',
  'RoundsManager',
  'ServiceRegistry',
  'LivepeerToken',
  'Minter',
] as const;
export type ContractName = (typeof CONTRACT_NAMES)[number];
