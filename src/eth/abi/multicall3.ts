// Multicall3 at its canonical address: many reads in one eth_call.
export const MULTICALL3_ADDRESS = '0xcA11bde05977b3631167028862bE2a173976CA11' as const;

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
  {
    type: 'function',
    name: 'getEthBalance',
    stateMutability: 'view',
    inputs: [{ name: 'addr', type: 'address', internalType: 'address' }],
    outputs: [{ name: 'balance', type: 'uint256', internalType: 'uint256' }],
  },
] as const;
