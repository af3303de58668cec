// ServiceRegistry (proxy): each orchestrator's advertised service URI (free-form, untrusted), set by the
// orchestrator itself.
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
    inputs: [{ name: '_addr', type: 'address', internalType: 'address' }],
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
