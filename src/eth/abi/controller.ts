// Controller: the registry that maps keccak256(contract name) to each protocol contract's address.
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
  { type: 'function', name: 'paused', stateMutability: 'view', inputs: [], outputs: [{ name: '', type: 'bool', internalType: 'bool' }] },
  { type: 'function', name: 'owner', stateMutability: 'view', inputs: [], outputs: [{ name: '', type: 'address', internalType: 'address' }] },
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
] as const;
