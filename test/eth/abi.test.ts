// The canonical ABIs match the selectors and topics of the real Arbitrum One contracts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toEventSelector, toFunctionSelector, type AbiEvent, type AbiFunction } from 'viem';
import { bondingManagerAbi, controllerAbi, minterAbi, multicall3Abi, roundsManagerAbi, serviceRegistryAbi, ticketBrokerAbi } from '../../src/eth/abi/index.ts';
import { CONTRACT_NAMES, contractId } from '../../src/eth/contracts.ts';

// Selectors and topics as published for the deployed contracts.
const FUNCTIONS: Record<string, string> = {
  fundDeposit: '0x6caa736b',
  fundReserve: '0x6f9c3c8f',
  fundDepositAndReserve: '0x511f4073',
  fundDepositAndReserveFor: '0x989f789c',
  unlock: '0xa69df4b5',
  cancelUnlock: '0xc2c4c2c8',
  withdraw: '0x3ccfd60b',
  isUnlockInProgress: '0x121cdcc2',
  getSenderInfo: '0xe1a589da',
  getReserveInfo: '0x5b6333eb',
  claimableReserve: '0x81779f38',
  claimedReserve: '0x4ac826da',
  usedTickets: '0x59a515ba',
  getTicketHash: '0xb03fa864',
  unlockPeriod: '0x20d3a0b4',
  ticketValidityPeriod: '0x856a2cf8',
  getFirstTranscoderInPool: '0x88a6c749',
  getNextTranscoderInPool: '0x235c9603',
  getTranscoderPoolSize: '0x2a4e0d55',
  getTranscoderPoolMaxSize: '0x5a2a75a9',
  transcoderTotalStake: '0x9ef9df94',
  isActiveTranscoder: '0x08802374',
  isRegisteredTranscoder: '0x68ba170c',
  transcoderStatus: '0x8b2f1652',
  getTranscoder: '0x5dce9948',
  getTranscoderEarningsPoolForRound: '0x24454fc4',
  getTotalBonded: '0x5c50c356',
  getServiceURI: '0x214c2a4b',
  currentRound: '0x8a19c8bc',
  currentRoundInitialized: '0x219bc76c',
  lastInitializedRound: '0x8807f36e',
  blockHashForRound: '0x3aa4add4',
  roundLength: '0x8b649b94',
  currentRoundStartBlock: '0x8fa148f2',
  currentRoundLocked: '0x6841f253',
  blockNum: '0x8ae63d6d',
  getContract: '0xe16c7d98',
  getContractInfo: '0x613e2de2',
  paused: '0x5c975abb',
  owner: '0x8da5cb5b',
  aggregate3: '0x82ad56cb',
  getBlockNumber: '0x42cbb15c',
};

const EVENTS: Record<string, string> = {
  DepositFunded: '0x5159e237d952190e68d5215430f305831be7c9c8776d1377c76679ae4773413f',
  ReserveFunded: '0xb52b99b9e83551fcbd069b559cc3e823e2a1a3bad8ece46561ea77524394c850',
  WinningTicketTransfer: '0x8b87351a208c06e3ceee59d80725fd77a23b4129e1b51ca231fc89b40712649c',
  Unlock: '0xf7870c5b224cbc19873599e46ccfc7103934650509b1af0c3ce90138377c2004',
  UnlockCancelled: '0xfa044b7b93a40365dc68049797c2eb06918523d694e5d56e406cac3eb35578e5',
  Withdrawal: '0xdf273cb619d95419a9cd0ec88123a0538c85064229baa6363788f743fff90deb',
  ReserveClaimed: '0x5c2b394723f408a40a60335e24b71829642e35f350cebe2036a96a66e895ea98',
  ServiceURIUpdate: '0xfbb63068732c85741c9f8e61caffaabe038d577bfafd2d2dcc0e352a4f653a4c',
  NewRound: '0x22f2fc17c5daf07db2379b3a03a8ef20a183f761097a58fce219c8a14619e786',
  SetContractInfo: '0xf9a6cf519167d81bc5cb3d26c60c0c9a19704aa908c148e82a861b570f4cd2d7',
};

const ALL = [ticketBrokerAbi, bondingManagerAbi, serviceRegistryAbi, roundsManagerAbi, controllerAbi, multicall3Abi, minterAbi];

describe('canonical ABIs', () => {
  test('function selectors match the deployed contracts', () => {
    let checked = 0;
    for (const abi of ALL) {
      for (const item of abi) {
        if (item.type !== 'function') continue;
        const want = FUNCTIONS[item.name];
        if (want === undefined) continue;
        assert.equal(toFunctionSelector(item as AbiFunction), want, item.name);
        checked++;
      }
    }
    assert.equal(checked, Object.keys(FUNCTIONS).length);
  });

  test('event topics match', () => {
    let checked = 0;
    for (const abi of ALL) {
      for (const item of abi) {
        if (item.type !== 'event' || EVENTS[item.name] === undefined) continue;
        assert.equal(toEventSelector(item as AbiEvent), EVENTS[item.name], item.name);
        checked++;
      }
    }
    assert.equal(checked, Object.keys(EVENTS).length);
  });

  test('Controller ids are keccak256 of the names', () => {
    assert.deepEqual(CONTRACT_NAMES, ['TicketBroker', 'BondingManager', 'RoundsManager', 'ServiceRegistry', 'LivepeerToken', 'Minter']);
    assert.equal(contractId('TicketBroker'), '0xbd1aa3e8d2464256d7fd3dcf645c16418d5d8c51d971f1ad7d57e7b1b5eee239');
    assert.equal(contractId('BondingManager'), '0x2517d59a36a86548e38734e8ab416f42afff4bca78706a66ad65750dae7f9e37');
    assert.equal(contractId('RoundsManager'), '0xe8438ea868df48e3fc21f2f087b993c9b1837dc0f6135064161ce7d7a1701fe8');
    assert.equal(contractId('ServiceRegistry'), '0x79c5d2a4a07754f4bacb0ffba18ac516030ee589ebc89db8627680c4d4cdb230');
    assert.equal(contractId('LivepeerToken'), '0x3443e257065fe41dd0e4d1f5a1b73a22a62e300962b57f30cddf41d0f8273ba7');
    assert.equal(contractId('Minter'), '0x6e58ad548d72b425ea94c15f453bf26caddb061d82b2551db7fdd3cefe0e9940');
  });
});
