// Minter: holds the broadcasters' ETH; its inflation parameters appear in /protocolParameters.
const uint = { name: '', type: 'uint256', internalType: 'uint256' } as const;

export const minterAbi = [
  { type: 'function', name: 'inflation', stateMutability: 'view', inputs: [], outputs: [uint] },
  { type: 'function', name: 'inflationChange', stateMutability: 'view', inputs: [], outputs: [uint] },
  { type: 'function', name: 'targetBondingRate', stateMutability: 'view', inputs: [], outputs: [uint] },
  { type: 'function', name: 'getGlobalTotalSupply', stateMutability: 'view', inputs: [], outputs: [uint] },
] as const;
