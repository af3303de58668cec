// ABIs of the devnet-only administration functions (Controller owner) and of the protocol's owner setters.
// None of the dev* functions exist on the real network.

const uintIn = (name: string) => ({ name, type: 'uint256', internalType: 'uint256' }) as const;
const addressIn = (name: string) => ({ name, type: 'address', internalType: 'address' }) as const;

// Controller owner: register contracts, pause and unpause the protocol.
export const devControllerAbi = [
  {
    type: 'function',
    name: 'setContractInfo',
    stateMutability: 'nonpayable',
    inputs: [
      { name: '_id', type: 'bytes32', internalType: 'bytes32' },
      addressIn('_contractAddress'),
      { name: '_gitCommitHash', type: 'bytes20', internalType: 'bytes20' },
    ],
    outputs: [],
  },
  { type: 'function', name: 'pause', stateMutability: 'nonpayable', inputs: [], outputs: [] },
  { type: 'function', name: 'unpause', stateMutability: 'nonpayable', inputs: [], outputs: [] },
] as const;

export const devBondingManagerAbi = [
  {
    type: 'function',
    name: 'devRegisterTranscoder',
    stateMutability: 'nonpayable',
    inputs: [addressIn('_transcoder'), uintIn('_stake')],
    outputs: [],
  },
  {
    type: 'function',
    name: 'devDeactivateTranscoder',
    stateMutability: 'nonpayable',
    inputs: [addressIn('_transcoder')],
    outputs: [],
  },
  {
    type: 'function',
    name: 'devSetTranscoderRates',
    stateMutability: 'nonpayable',
    inputs: [addressIn('_transcoder'), uintIn('_rewardCut'), uintIn('_feeShare')],
    outputs: [],
  },
  {
    type: 'function',
    name: 'setNumActiveTranscoders',
    stateMutability: 'nonpayable',
    inputs: [uintIn('_numActiveTranscoders')],
    outputs: [],
  },
] as const;

export const devServiceRegistryAbi = [
  {
    type: 'function',
    name: 'devSetServiceURI',
    stateMutability: 'nonpayable',
    inputs: [addressIn('_addr'), { name: '_serviceURI', type: 'string', internalType: 'string' }],
    outputs: [],
  },
] as const;

export const devTicketBrokerAbi = [
  { type: 'function', name: 'setUnlockPeriod', stateMutability: 'nonpayable', inputs: [uintIn('_unlockPeriod')], outputs: [] },
  {
    type: 'function',
    name: 'setTicketValidityPeriod',
    stateMutability: 'nonpayable',
    inputs: [uintIn('_ticketValidityPeriod')],
    outputs: [],
  },
] as const;

export const devRoundsManagerAbi = [
  { type: 'function', name: 'setRoundLength', stateMutability: 'nonpayable', inputs: [uintIn('_roundLength')], outputs: [] },
  {
    type: 'function',
    name: 'setRoundLockAmount',
    stateMutability: 'nonpayable',
    inputs: [uintIn('_roundLockAmount')],
    outputs: [],
  },
] as const;

/** The devnet's ETH/USD feed: its owner sets the answer (tests of stale and hostile prices). */
export const devPriceFeedAbi = [
  { type: 'function', name: 'setAnswer', stateMutability: 'nonpayable', inputs: [{ name: '_answer', type: 'int256' }], outputs: [] },
] as const;
