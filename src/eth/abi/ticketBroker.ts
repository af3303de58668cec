// TicketBroker (proxy): the broadcaster's deposit and reserve, unlock/withdraw, and ticket redemption.
const ticketComponents = [
  { name: 'recipient', type: 'address', internalType: 'address' },
  { name: 'sender', type: 'address', internalType: 'address' },
  { name: 'faceValue', type: 'uint256', internalType: 'uint256' },
  { name: 'winProb', type: 'uint256', internalType: 'uint256' },
  { name: 'senderNonce', type: 'uint256', internalType: 'uint256' },
  { name: 'recipientRandHash', type: 'bytes32', internalType: 'bytes32' },
  { name: 'auxData', type: 'bytes', internalType: 'bytes' },
] as const;

const reserveInfoComponents = [
  { name: 'fundsRemaining', type: 'uint256', internalType: 'uint256' },
  { name: 'claimedInCurrentRound', type: 'uint256', internalType: 'uint256' },
] as const;

const address = <const N extends string>(name: N) => ({ name, type: 'address', internalType: 'address' }) as const;
const uint = <const N extends string>(name: N) => ({ name, type: 'uint256', internalType: 'uint256' }) as const;

export const ticketBrokerAbi = [
  { type: 'function', name: 'fundDeposit', stateMutability: 'payable', inputs: [], outputs: [] },
  { type: 'function', name: 'fundReserve', stateMutability: 'payable', inputs: [], outputs: [] },
  {
    type: 'function',
    name: 'fundDepositAndReserve',
    stateMutability: 'payable',
    inputs: [uint('_depositAmount'), uint('_reserveAmount')],
    outputs: [],
  },
  {
    type: 'function',
    name: 'fundDepositAndReserveFor',
    stateMutability: 'payable',
    inputs: [address('_addr'), uint('_depositAmount'), uint('_reserveAmount')],
    outputs: [],
  },
  { type: 'function', name: 'unlock', stateMutability: 'nonpayable', inputs: [], outputs: [] },
  { type: 'function', name: 'cancelUnlock', stateMutability: 'nonpayable', inputs: [], outputs: [] },
  { type: 'function', name: 'withdraw', stateMutability: 'nonpayable', inputs: [], outputs: [] },
  {
    type: 'function',
    name: 'isUnlockInProgress',
    stateMutability: 'view',
    inputs: [address('_sender')],
    outputs: [{ name: '', type: 'bool', internalType: 'bool' }],
  },
  {
    type: 'function',
    name: 'getSenderInfo',
    stateMutability: 'view',
    inputs: [address('_sender')],
    outputs: [
      {
        name: 'sender',
        type: 'tuple',
        internalType: 'struct MixinTicketBrokerCore.Sender',
        components: [uint('deposit'), uint('withdrawRound')],
      },
      { name: 'reserve', type: 'tuple', internalType: 'struct MReserve.ReserveInfo', components: reserveInfoComponents },
    ],
  },
  {
    type: 'function',
    name: 'getReserveInfo',
    stateMutability: 'view',
    inputs: [address('_reserveHolder')],
    outputs: [{ name: 'info', type: 'tuple', internalType: 'struct MReserve.ReserveInfo', components: reserveInfoComponents }],
  },
  {
    type: 'function',
    name: 'claimableReserve',
    stateMutability: 'view',
    inputs: [address('_reserveHolder'), address('_claimant')],
    outputs: [uint('')],
  },
  {
    type: 'function',
    name: 'claimedReserve',
    stateMutability: 'view',
    inputs: [address('_reserveHolder'), address('_claimant')],
    outputs: [uint('')],
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
    inputs: [{ name: '_ticket', type: 'tuple', internalType: 'struct MTicketBrokerCore.Ticket', components: ticketComponents }],
    outputs: [{ name: '', type: 'bytes32', internalType: 'bytes32' }],
  },
  {
    type: 'function',
    name: 'redeemWinningTicket',
    stateMutability: 'nonpayable',
    inputs: [
      { name: '_ticket', type: 'tuple', internalType: 'struct MTicketBrokerCore.Ticket', components: ticketComponents },
      { name: '_sig', type: 'bytes', internalType: 'bytes' },
      uint('_recipientRand'),
    ],
    outputs: [],
  },
  {
    type: 'function',
    name: 'batchRedeemWinningTickets',
    stateMutability: 'nonpayable',
    inputs: [
      { name: '_tickets', type: 'tuple[]', internalType: 'struct MTicketBrokerCore.Ticket[]', components: ticketComponents },
      { name: '_sigs', type: 'bytes[]', internalType: 'bytes[]' },
      { name: '_recipientRands', type: 'uint256[]', internalType: 'uint256[]' },
    ],
    outputs: [],
  },
  { type: 'function', name: 'unlockPeriod', stateMutability: 'view', inputs: [], outputs: [uint('')] },
  { type: 'function', name: 'ticketValidityPeriod', stateMutability: 'view', inputs: [], outputs: [uint('')] },
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
  {
    type: 'event',
    name: 'ParameterUpdate',
    anonymous: false,
    inputs: [{ name: 'param', type: 'string', indexed: false, internalType: 'string' }],
  },
] as const;
