// Controller registry, orchestrator pool, rounds and Multicall3 of the devnet, read the way a
// broadcaster reads them on Arbitrum One.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeEventLog,
  getAddress,
  keccak256,
  toEventSelector,
  toFunctionSelector,
  toHex,
  zeroAddress,
  type Abi,
  type AbiEvent,
  type AbiFunction,
  type Address,
} from 'viem';
import { readdir, readFile } from 'node:fs/promises';
import { devnetWalletClient, MULTICALL3_ADDRESS, waitForSuccess } from '../../scripts/devnet/chain.ts';
import { compileDevnetContracts, type DevnetArtifacts } from '../../scripts/devnet/compile.ts';
import {
  contractId,
  deactivateOrchestrator,
  initializeRound,
  mineBlocks,
  mineToNextRound,
  readTranscoderPool,
  registerOrchestrator,
} from '../../scripts/devnet/deploy.ts';
import { devBondingManagerAbi, devControllerAbi, devRoundsManagerAbi, devServiceRegistryAbi, devTicketBrokerAbi } from '../../scripts/devnet/devAbi.ts';
import {
  bondingManagerAbi,
  controllerAbi,
  livepeerTokenAbi,
  minterAbi,
  multicall3Abi,
  priceFeedAbi,
  roundsManagerAbi,
  serviceRegistryAbi,
  ticketBrokerAbi,
} from '../../src/eth/abi/index.ts';
import { CONTRACT_NAMES } from '../../src/eth/contracts.ts';
import { expectRevert, withDevnet } from '../helpers/devnet.ts';

const LPT = 10n ** 18n;
const MAX_ROUND = 2n ** 256n - 1n;

const devnet = withDevnet({ resetEach: true });

function read<const abi extends Abi>(address: Address, abi: abi, functionName: string, args: readonly unknown[] = []) {
  // biome-ignore lint/suspicious/noExplicitAny: the tests read many result shapes through this one helper
  return devnet.publicClient.readContract({ address, abi: abi as Abi, functionName, args }) as Promise<any>;
}

describe('Controller registry', () => {
  test('every registry name resolves through getContract(keccak256(name))', async () => {
    const c = devnet.contracts;
    const expected: Record<(typeof CONTRACT_NAMES)[number], Address> = {
      TicketBroker: c.ticketBroker,
      BondingManager: c.bondingManager,
      RoundsManager: c.roundsManager,
      ServiceRegistry: c.serviceRegistry,
      LivepeerToken: c.livepeerToken,
      Minter: c.minter,
    };
    // Ids as listed in the protocol reference.
    assert.equal(contractId('TicketBroker'), '0xbd1aa3e8d2464256d7fd3dcf645c16418d5d8c51d971f1ad7d57e7b1b5eee239');
    assert.equal(contractId('Minter'), '0x6e58ad548d72b425ea94c15f453bf26caddb061d82b2551db7fdd3cefe0e9940');
    for (const name of CONTRACT_NAMES) {
      const addr = await read(c.controller, controllerAbi, 'getContract', [keccak256(toHex(name))]);
      assert.equal(addr, expected[name], name);
      const [infoAddr, commit] = await read(c.controller, controllerAbi, 'getContractInfo', [contractId(name)]);
      assert.equal(infoAddr, expected[name]);
      assert.match(commit, /^0x[0-9a-f]{40}$/);
      assert.notEqual(await devnet.publicClient.getCode({ address: addr }), undefined, `${name} has code`);
    }
    assert.equal(await read(c.controller, controllerAbi, 'getContract', [contractId('JobsManager')]), c.ticketBroker);
    assert.equal(await read(c.controller, controllerAbi, 'getContract', [contractId('NoSuchContract')]), zeroAddress);
    assert.equal(await read(c.controller, controllerAbi, 'paused'), false);
    assert.equal(await read(c.controller, controllerAbi, 'owner'), devnet.accounts.deployer.address);
  });

  test('only the owner may register; SetContractInfo is emitted; pausing stops the broker', async () => {
    const c = devnet.contracts;
    const stranger = devnetWalletClient(devnet.rpcUrl, devnet.accounts.spare[0]!.privateKey);
    await expectRevert(
      stranger.writeContract({
        address: c.controller,
        abi: devControllerAbi,
        functionName: 'setContractInfo',
        args: [contractId('Minter'), zeroAddress, '0x0000000000000000000000000000000000000000'],
      }),
      undefined,
    );

    const owner = devnetWalletClient(devnet.rpcUrl, devnet.accounts.deployer.privateKey);
    const id = contractId('Treasury');
    const hash = await owner.writeContract({
      address: c.controller,
      abi: devControllerAbi,
      functionName: 'setContractInfo',
      args: [id, c.minter, '0x1111111111111111111111111111111111111111'],
    });
    const receipt = await waitForSuccess(devnet.publicClient, hash, 'setContractInfo');
    const ev = decodeEventLog({ abi: controllerAbi, ...receipt.logs[0]! });
    assert.equal(ev.eventName, 'SetContractInfo');
    assert.deepEqual(ev.args, { id, contractAddress: c.minter, gitCommitHash: '0x1111111111111111111111111111111111111111' });

    await waitForSuccess(devnet.publicClient, await owner.writeContract({ address: c.controller, abi: devControllerAbi, functionName: 'pause' }), 'pause');
    const b = devnetWalletClient(devnet.rpcUrl, devnet.accounts.broadcaster.privateKey);
    await expectRevert(b.writeContract({ address: c.ticketBroker, abi: ticketBrokerAbi, functionName: 'fundDeposit', value: 1n }), 'system is paused');
  });
});

describe('hand-written ABIs', () => {
  // Drop internalType (it names the Solidity source, which differs) and compare everything else.
  const normalize = (item: unknown): unknown => JSON.parse(JSON.stringify(item, (k, v) => (k === 'internalType' ? undefined : v)));

  // The real network's ABIs (src/eth/abi), by devnet contract.
  const CANONICAL: [string, Abi][] = [
    ['Controller', controllerAbi],
    ['TicketBroker', ticketBrokerAbi],
    ['BondingManager', bondingManagerAbi],
    ['RoundsManager', roundsManagerAbi],
    ['ServiceRegistry', serviceRegistryAbi],
    ['Minter', minterAbi],
    ['LivepeerToken', livepeerTokenAbi],
    ['Multicall3', multicall3Abi],
    ['PriceFeed', priceFeedAbi],
  ];
  // Owner administration and devnet-only setters (scripts/devnet/devAbi.ts).
  const DEV: [string, Abi][] = [
    ['Controller', devControllerAbi],
    ['TicketBroker', devTicketBrokerAbi],
    ['BondingManager', devBondingManagerAbi],
    ['RoundsManager', devRoundsManagerAbi],
    ['ServiceRegistry', devServiceRegistryAbi],
  ];
  // Reads of the control API's /protocolParameters that the devnet leaves out on purpose (the gateway
  // reports them as null/0 there); nothing on the broadcaster path.
  const KNOWN_GAPS = [
    'BondingManager.unbondingPeriod',
    'Minter.getGlobalTotalSupply',
    'Minter.inflation',
    'Minter.inflationChange',
    'Minter.targetBondingRate',
  ];
  // What the broadcaster path calls: src/eth (contract lookup, rounds, sender info, deposit/reserve
  // transactions, orchestrator pool) and viem's multicall.
  const BROADCASTER_PATH: Record<string, string[]> = {
    Controller: ['getContract'],
    TicketBroker: [
      'fundDeposit',
      'fundReserve',
      'fundDepositAndReserve',
      'unlock',
      'cancelUnlock',
      'withdraw',
      'getSenderInfo',
      'claimableReserve',
      'claimedReserve',
      'unlockPeriod',
      'ticketValidityPeriod',
    ],
    BondingManager: [
      'getFirstTranscoderInPool',
      'getNextTranscoderInPool',
      'getTranscoderPoolSize',
      'transcoderTotalStake',
      'isActiveTranscoder',
      'transcoderStatus',
      'getTranscoder',
    ],
    RoundsManager: [
      'currentRound',
      'currentRoundInitialized',
      'lastInitializedRound',
      'currentRoundStartBlock',
      'roundLength',
      'blockHashForRound',
      'blockNum',
    ],
    ServiceRegistry: ['getServiceURI'],
    Multicall3: ['aggregate3', 'getEthBalance'],
    PriceFeed: ['decimals', 'latestRoundData'],
  };
  // The control API's reads beyond the broadcaster path (/protocolParameters, /tokenBalance): each may fail
  // on its own (those the devnet lacks are the known gaps above, answered as null).
  const CONTROL_API_READS = [
    'getTranscoderPoolMaxSize',
    'roundLockAmount',
    'unbondingPeriod',
    'getTotalBonded',
    'inflation',
    'inflationChange',
    'targetBondingRate',
    'getGlobalTotalSupply',
    'paused',
    'balanceOf',
  ];

  const compiledItem = (artifacts: DevnetArtifacts, contract: string, type: string, name: string) =>
    artifacts.contracts[contract]!.abi.find((c) => c.type === type && 'name' in c && c.name === name);

  test('every src/eth/abi item the devnet implements matches the compiled contract exactly; the rest are the known gaps', async () => {
    const { artifacts } = await compileDevnetContracts();
    const missing: string[] = [];
    let matched = 0;
    for (const [name, abi] of CANONICAL) {
      for (const item of abi) {
        if (item.type !== 'function' && item.type !== 'event') continue;
        const match = compiledItem(artifacts, name, item.type, item.name);
        if (!match) {
          missing.push(`${name}.${item.name}`);
          continue;
        }
        assert.deepEqual(normalize(match), normalize(item), `${name}.${item.name}`);
        matched++;
      }
    }
    assert.deepEqual(missing.sort(), KNOWN_GAPS, 'src/eth/abi items the devnet lacks');
    assert.ok(matched > 50, `${matched} items compared`);
  });

  test('the devnet-only and owner ABIs match the compiled contracts item by item', async () => {
    const { artifacts } = await compileDevnetContracts();
    for (const [name, abi] of DEV) {
      for (const item of abi) {
        if (item.type !== 'function' && item.type !== 'event') continue;
        const match = compiledItem(artifacts, name, item.type, item.name);
        assert.ok(match, `${name}.${item.name} exists`);
        assert.deepEqual(normalize(match), normalize(item), `${name}.${item.name}`);
        const canonical = CANONICAL.find(([n]) => n === name)![1];
        assert.ok(!canonical.some((i) => i.type === item.type && i.name === item.name), `${name}.${item.name} is stated once`);
      }
    }
  });

  test('the devnet implements every function the broadcaster path calls', async () => {
    const { artifacts } = await compileDevnetContracts();
    for (const [name, functions] of Object.entries(BROADCASTER_PATH)) {
      const canonical = CANONICAL.find(([n]) => n === name)![1];
      for (const fn of functions) {
        const item = canonical.find((i) => i.type === 'function' && i.name === fn);
        assert.ok(item, `${name}.${fn} is in src/eth/abi`);
        assert.ok(!KNOWN_GAPS.includes(`${name}.${fn}`), `${name}.${fn} is not a known gap`);
        const match = compiledItem(artifacts, name, 'function', fn);
        assert.ok(match, `the devnet's ${name} implements ${fn}`);
        assert.deepEqual(normalize(match), normalize(item), `${name}.${fn}`);
      }
    }
    // The lists above cover every contract function src/eth names.
    const listed = new Set([...Object.values(BROADCASTER_PATH).flat(), ...CONTROL_API_READS]);
    const dir = new URL('../../src/eth/', import.meta.url);
    for (const file of (await readdir(dir)).filter((f) => f.endsWith('.ts'))) {
      const text = await readFile(new URL(file, dir), 'utf8');
      for (const [, fn] of text.matchAll(/functionName: '(\w+)'/g)) {
        assert.ok(listed.has(fn!), `${fn} (called in src/eth/${file}) is listed in BROADCASTER_PATH or CONTROL_API_READS`);
      }
    }
  });

  test('selectors and topics equal those of the real contracts', () => {
    const fn = (abi: Abi, name: string) => toFunctionSelector(abi.find((i) => i.type === 'function' && i.name === name) as AbiFunction);
    const ev = (abi: Abi, name: string) => toEventSelector(abi.find((i) => i.type === 'event' && i.name === name) as AbiEvent);
    const functions: [Abi, string, string][] = [
      [ticketBrokerAbi, 'fundDeposit', '0x6caa736b'],
      [ticketBrokerAbi, 'fundReserve', '0x6f9c3c8f'],
      [ticketBrokerAbi, 'fundDepositAndReserve', '0x511f4073'],
      [ticketBrokerAbi, 'fundDepositAndReserveFor', '0x989f789c'],
      [ticketBrokerAbi, 'unlock', '0xa69df4b5'],
      [ticketBrokerAbi, 'cancelUnlock', '0xc2c4c2c8'],
      [ticketBrokerAbi, 'withdraw', '0x3ccfd60b'],
      [ticketBrokerAbi, 'isUnlockInProgress', '0x121cdcc2'],
      [ticketBrokerAbi, 'getSenderInfo', '0xe1a589da'],
      [ticketBrokerAbi, 'getReserveInfo', '0x5b6333eb'],
      [ticketBrokerAbi, 'claimableReserve', '0x81779f38'],
      [ticketBrokerAbi, 'claimedReserve', '0x4ac826da'],
      [ticketBrokerAbi, 'usedTickets', '0x59a515ba'],
      [ticketBrokerAbi, 'getTicketHash', '0xb03fa864'],
      [ticketBrokerAbi, 'redeemWinningTicket', '0xec8b3cb6'],
      [ticketBrokerAbi, 'batchRedeemWinningTickets', '0xd01b808e'],
      [ticketBrokerAbi, 'unlockPeriod', '0x20d3a0b4'],
      [ticketBrokerAbi, 'ticketValidityPeriod', '0x856a2cf8'],
      [bondingManagerAbi, 'getFirstTranscoderInPool', '0x88a6c749'],
      [bondingManagerAbi, 'getNextTranscoderInPool', '0x235c9603'],
      [bondingManagerAbi, 'getTranscoderPoolSize', '0x2a4e0d55'],
      [bondingManagerAbi, 'getTranscoderPoolMaxSize', '0x5a2a75a9'],
      [bondingManagerAbi, 'transcoderTotalStake', '0x9ef9df94'],
      [bondingManagerAbi, 'isActiveTranscoder', '0x08802374'],
      [bondingManagerAbi, 'isRegisteredTranscoder', '0x68ba170c'],
      [bondingManagerAbi, 'transcoderStatus', '0x8b2f1652'],
      [bondingManagerAbi, 'getTranscoder', '0x5dce9948'],
      [bondingManagerAbi, 'getTranscoderEarningsPoolForRound', '0x24454fc4'],
      [bondingManagerAbi, 'getTotalBonded', '0x5c50c356'],
      [bondingManagerAbi, 'pendingFees', '0xf595f1cc'],
      [serviceRegistryAbi, 'setServiceURI', '0x5f11301b'],
      [serviceRegistryAbi, 'getServiceURI', '0x214c2a4b'],
      [roundsManagerAbi, 'currentRound', '0x8a19c8bc'],
      [roundsManagerAbi, 'currentRoundInitialized', '0x219bc76c'],
      [roundsManagerAbi, 'lastInitializedRound', '0x8807f36e'],
      [roundsManagerAbi, 'blockHashForRound', '0x3aa4add4'],
      [roundsManagerAbi, 'roundLength', '0x8b649b94'],
      [roundsManagerAbi, 'currentRoundStartBlock', '0x8fa148f2'],
      [roundsManagerAbi, 'currentRoundLocked', '0x6841f253'],
      [roundsManagerAbi, 'initializeRound', '0xd4807fb2'],
      [roundsManagerAbi, 'blockNum', '0x8ae63d6d'],
      [roundsManagerAbi, 'blockHash', '0x85df51fd'],
      [controllerAbi, 'getContract', '0xe16c7d98'],
      [controllerAbi, 'getContractInfo', '0x613e2de2'],
      [controllerAbi, 'paused', '0x5c975abb'],
      [controllerAbi, 'owner', '0x8da5cb5b'],
      [multicall3Abi, 'aggregate3', '0x82ad56cb'],
      [multicall3Abi, 'getBlockNumber', '0x42cbb15c'],
    ];
    for (const [abi, name, selector] of functions) assert.equal(fn(abi, name), selector, name);

    const events: [Abi, string, string][] = [
      [ticketBrokerAbi, 'DepositFunded', '0x5159e237d952190e68d5215430f305831be7c9c8776d1377c76679ae4773413f'],
      [ticketBrokerAbi, 'ReserveFunded', '0xb52b99b9e83551fcbd069b559cc3e823e2a1a3bad8ece46561ea77524394c850'],
      [ticketBrokerAbi, 'WinningTicketRedeemed', '0xc389eb51ed006dbf2528507f010efdf5225ea596e1e1741d74f550dab1925ee7'],
      [ticketBrokerAbi, 'WinningTicketTransfer', '0x8b87351a208c06e3ceee59d80725fd77a23b4129e1b51ca231fc89b40712649c'],
      [ticketBrokerAbi, 'Unlock', '0xf7870c5b224cbc19873599e46ccfc7103934650509b1af0c3ce90138377c2004'],
      [ticketBrokerAbi, 'UnlockCancelled', '0xfa044b7b93a40365dc68049797c2eb06918523d694e5d56e406cac3eb35578e5'],
      [ticketBrokerAbi, 'Withdrawal', '0xdf273cb619d95419a9cd0ec88123a0538c85064229baa6363788f743fff90deb'],
      [ticketBrokerAbi, 'ReserveClaimed', '0x5c2b394723f408a40a60335e24b71829642e35f350cebe2036a96a66e895ea98'],
      [ticketBrokerAbi, 'ParameterUpdate', '0x9f5033568d78ae30f29f01e944f97b2216493bd19d1b46d429673acff3dcd674'],
      [serviceRegistryAbi, 'ServiceURIUpdate', '0xfbb63068732c85741c9f8e61caffaabe038d577bfafd2d2dcc0e352a4f653a4c'],
      [roundsManagerAbi, 'NewRound', '0x22f2fc17c5daf07db2379b3a03a8ef20a183f761097a58fce219c8a14619e786'],
      [controllerAbi, 'SetContractInfo', '0xf9a6cf519167d81bc5cb3d26c60c0c9a19704aa908c148e82a861b570f4cd2d7'],
    ];
    for (const [abi, name, topic] of events) assert.equal(ev(abi, name), topic, name);
    assert.ok(ev(bondingManagerAbi, 'TranscoderActivated').startsWith('0x65d72d78'));
    assert.ok(ev(bondingManagerAbi, 'TranscoderActivated').endsWith('65e9'));
    assert.ok(ev(bondingManagerAbi, 'TranscoderDeactivated').startsWith('0xfee3e693'));
    assert.ok(ev(bondingManagerAbi, 'TranscoderUpdate').startsWith('0x73468544'));
  });
});

describe('orchestrator pool', () => {
  test('lists the 3 orchestrators largest stake first, with stakes, URIs and active status', async () => {
    const bm = devnet.contracts.bondingManager;
    const byStake = [...devnet.orchestrators].sort((a, b) => (a.stake > b.stake ? -1 : 1));
    assert.deepEqual(
      await readTranscoderPool(devnet.rpcUrl, devnet.contracts),
      byStake.map((o) => o.address),
    );
    assert.equal(await read(bm, bondingManagerAbi, 'getTranscoderPoolSize'), 3n);
    assert.equal(await read(bm, bondingManagerAbi, 'getTranscoderPoolMaxSize'), 100n);
    const lastRound = await read(devnet.contracts.roundsManager, roundsManagerAbi, 'lastInitializedRound');
    let total = 0n;
    for (const o of devnet.orchestrators) {
      total += o.stake;
      assert.equal(await read(bm, bondingManagerAbi, 'transcoderTotalStake', [o.address]), o.stake);
      assert.equal(await read(devnet.contracts.serviceRegistry, serviceRegistryAbi, 'getServiceURI', [o.address]), o.serviceURI);
      assert.equal(await read(bm, bondingManagerAbi, 'isActiveTranscoder', [o.address]), true);
      assert.equal(await read(bm, bondingManagerAbi, 'isRegisteredTranscoder', [o.address]), true);
      assert.equal(await read(bm, bondingManagerAbi, 'transcoderStatus', [o.address]), 1);
      const t = await read(bm, bondingManagerAbi, 'getTranscoder', [o.address]);
      assert.equal(t.length, 10);
      assert.ok(t[4] <= devnet.round, 'activationRound');
      assert.equal(t[5], MAX_ROUND, 'deactivationRound');
      const pool = await read(bm, bondingManagerAbi, 'getTranscoderEarningsPoolForRound', [o.address, lastRound]);
      assert.equal(pool[0], o.stake, 'earnings pool totalStake for lastInitializedRound');
    }
    assert.equal(await read(bm, bondingManagerAbi, 'getTotalBonded'), total);
    assert.equal(await read(bm, bondingManagerAbi, 'getNextTranscoderInPool', [byStake[2]!.address]), zeroAddress);

    const stranger = devnet.accounts.spare[0]!.address;
    assert.equal(await read(bm, bondingManagerAbi, 'isActiveTranscoder', [stranger]), false);
    assert.equal(await read(bm, bondingManagerAbi, 'isRegisteredTranscoder', [stranger]), false);
    assert.equal(await read(bm, bondingManagerAbi, 'transcoderStatus', [stranger]), 0);
    assert.equal(await read(devnet.contracts.serviceRegistry, serviceRegistryAbi, 'getServiceURI', [stranger]), '');
  });

  test('re-staking moves an orchestrator; deactivation leaves the pool and ends activity; re-registering restores it', async () => {
    const bm = devnet.contracts.bondingManager;
    const [o1, o2, o3] = devnet.orchestrators as [(typeof devnet.orchestrators)[0], (typeof devnet.orchestrators)[0], (typeof devnet.orchestrators)[0]];
    await registerOrchestrator(devnet.rpcUrl, devnet.contracts, { address: o3.address, stake: 5_000n * LPT });
    assert.deepEqual(await readTranscoderPool(devnet.rpcUrl, devnet.contracts), [o3.address, o2.address, o1.address]);

    await deactivateOrchestrator(devnet.rpcUrl, devnet.contracts, o2.address);
    assert.deepEqual(await readTranscoderPool(devnet.rpcUrl, devnet.contracts), [o3.address, o1.address]);
    assert.equal(await read(bm, bondingManagerAbi, 'getTranscoderPoolSize'), 2n);
    assert.equal(await read(bm, bondingManagerAbi, 'isActiveTranscoder', [o2.address]), false);
    assert.equal(await read(bm, bondingManagerAbi, 'isRegisteredTranscoder', [o2.address]), true);
    assert.equal(await read(bm, bondingManagerAbi, 'getTotalBonded'), 5_000n * LPT + o1.stake);
    const logs = await devnet.publicClient.getContractEvents({
      address: bm,
      abi: bondingManagerAbi,
      eventName: 'TranscoderDeactivated',
      fromBlock: 0n,
    });
    assert.equal(logs.length, 1);
    assert.equal(logs[0]!.args.transcoder, o2.address);

    // Still out of the pool and inactive in later rounds.
    await initializeRound(devnet.rpcUrl, devnet.contracts);
    assert.equal(await read(bm, bondingManagerAbi, 'isActiveTranscoder', [o2.address]), false);
    await registerOrchestrator(devnet.rpcUrl, devnet.contracts, { address: o2.address, stake: o2.stake });
    assert.equal(await read(bm, bondingManagerAbi, 'isActiveTranscoder', [o2.address]), true);
    assert.deepEqual(await readTranscoderPool(devnet.rpcUrl, devnet.contracts), [o3.address, o2.address, o1.address]);
    await expectRevert(deactivateOrchestrator(devnet.rpcUrl, devnet.contracts, devnet.accounts.spare[0]!.address), 'transcoder is not in the pool');
  });

  test('a full pool admits only a larger stake, evicting the smallest', async () => {
    const owner = devnetWalletClient(devnet.rpcUrl, devnet.accounts.deployer.privateKey);
    const bm = devnet.contracts.bondingManager;
    await waitForSuccess(
      devnet.publicClient,
      await owner.writeContract({ address: bm, abi: devBondingManagerAbi, functionName: 'setNumActiveTranscoders', args: [3n] }),
      'setNumActiveTranscoders',
    );
    const [small, big] = devnet.accounts.spare as [(typeof devnet.accounts.spare)[0], (typeof devnet.accounts.spare)[0]];
    await registerOrchestrator(devnet.rpcUrl, devnet.contracts, { address: small.address, stake: 10n * LPT });
    assert.equal(await read(bm, bondingManagerAbi, 'isRegisteredTranscoder', [small.address]), true);
    assert.equal(await read(bm, bondingManagerAbi, 'isActiveTranscoder', [small.address]), false);
    assert.equal(await read(bm, bondingManagerAbi, 'getTranscoderPoolSize'), 3n);

    await registerOrchestrator(devnet.rpcUrl, devnet.contracts, { address: big.address, stake: 10_000n * LPT });
    const smallest = [...devnet.orchestrators].sort((a, b) => (a.stake < b.stake ? -1 : 1))[0]!;
    const pool = await readTranscoderPool(devnet.rpcUrl, devnet.contracts);
    assert.equal(pool.length, 3);
    assert.equal(pool[0], big.address);
    assert.ok(!pool.includes(smallest.address));
    assert.equal(await read(bm, bondingManagerAbi, 'isActiveTranscoder', [smallest.address]), false);
  });

  test('100 orchestrators: URIs set without their keys, pool sorted, read in one multicall', async () => {
    const extra = 97;
    const added: { address: Address; stake: bigint }[] = [];
    for (let i = 0; i < extra; i++) {
      // Deterministic pseudo-random addresses and stakes (some equal), no keys needed.
      const address = getAddress(keccak256(toHex(`orchestrator ${i}`)).slice(0, 42));
      const stake = BigInt(((i * 7919) % 500) + 1) * LPT;
      added.push({ address, stake });
      await registerOrchestrator(devnet.rpcUrl, devnet.contracts, { address, stake, serviceURI: `https://o${i}.devnet.invalid:8935` });
    }
    // initializeRound walks the whole pool to record each stake for the new round: it must stay affordable.
    const round = await initializeRound(devnet.rpcUrl, devnet.contracts);
    const [log] = await devnet.publicClient.getContractEvents({
      address: devnet.contracts.roundsManager,
      abi: roundsManagerAbi,
      eventName: 'NewRound',
      args: { round },
      fromBlock: 0n,
    });
    const { gasUsed } = await devnet.publicClient.getTransactionReceipt({ hash: log!.transactionHash });
    assert.ok(gasUsed < 10_000_000n, `initializeRound gas ${gasUsed}`);

    const pool = await readTranscoderPool(devnet.rpcUrl, devnet.contracts);
    assert.equal(pool.length, 100);
    const results = await devnet.publicClient.multicall({
      contracts: pool.flatMap((a) => [
        { address: devnet.contracts.bondingManager, abi: bondingManagerAbi, functionName: 'transcoderTotalStake', args: [a] } as const,
        { address: devnet.contracts.serviceRegistry, abi: serviceRegistryAbi, functionName: 'getServiceURI', args: [a] } as const,
      ]),
      allowFailure: false,
    });
    const stakes = results.filter((_, i) => i % 2 === 0) as bigint[];
    for (let i = 1; i < stakes.length; i++) assert.ok(stakes[i - 1]! >= stakes[i]!, 'sorted by stake');
    const uris = results.filter((_, i) => i % 2 === 1) as string[];
    assert.ok(uris.every((u) => u.startsWith('https://')));
  });

  test('an orchestrator sets its own URI with its key', async () => {
    const o = devnet.orchestrators[0]!;
    const wallet = devnetWalletClient(devnet.rpcUrl, o.privateKey);
    const hash = await wallet.writeContract({
      address: devnet.contracts.serviceRegistry,
      abi: serviceRegistryAbi,
      functionName: 'setServiceURI',
      args: ['https://127.0.0.1:18935'],
    });
    const receipt = await waitForSuccess(devnet.publicClient, hash, 'setServiceURI');
    const ev = decodeEventLog({ abi: serviceRegistryAbi, ...receipt.logs[0]! });
    assert.deepEqual(ev, { eventName: 'ServiceURIUpdate', args: { addr: o.address, serviceURI: 'https://127.0.0.1:18935' } });
    assert.equal(await read(devnet.contracts.serviceRegistry, serviceRegistryAbi, 'getServiceURI', [o.address]), 'https://127.0.0.1:18935');
    // The devnet-only setter is for the Controller owner only.
    await expectRevert(
      wallet.writeContract({
        address: devnet.contracts.serviceRegistry,
        abi: devServiceRegistryAbi,
        functionName: 'devSetServiceURI',
        args: [o.address, 'x'],
      }),
      'caller must be Controller owner',
    );
  });
});

describe('rounds', () => {
  test('round state, block hash of the round, and initializeRound rules', async () => {
    const rm = devnet.contracts.roundsManager;
    assert.equal(await read(rm, roundsManagerAbi, 'roundLength'), 20n);
    assert.equal(await read(rm, roundsManagerAbi, 'currentRound'), devnet.round);
    assert.equal(await read(rm, roundsManagerAbi, 'currentRoundInitialized'), true);
    assert.equal(await read(rm, roundsManagerAbi, 'lastInitializedRound'), devnet.round);
    assert.equal(await read(rm, roundsManagerAbi, 'currentRoundStartBlock'), devnet.round * 20n);
    const latest = await devnet.publicClient.getBlockNumber({ cacheTime: 0 });
    assert.equal(await read(rm, roundsManagerAbi, 'blockNum'), latest);

    const [newRound] = await devnet.publicClient.getContractEvents({ address: rm, abi: roundsManagerAbi, eventName: 'NewRound', fromBlock: 0n });
    assert.ok(newRound);
    assert.equal(newRound.args.round, devnet.round);
    const stored = await read(rm, roundsManagerAbi, 'blockHashForRound', [devnet.round]);
    assert.equal(stored, newRound.args.blockHash);
    const prev = await devnet.publicClient.getBlock({ blockNumber: newRound.blockNumber - 1n });
    assert.equal(stored, prev.hash, 'blockhash(block.number - 1) of the initializing block');
    assert.equal(await read(rm, roundsManagerAbi, 'blockHashForRound', [devnet.round + 1n]), `0x${'0'.repeat(64)}`);

    await expectRevert(
      devnetWalletClient(devnet.rpcUrl, devnet.accounts.broadcaster.privateKey).writeContract({
        address: rm,
        abi: roundsManagerAbi,
        functionName: 'initializeRound',
      }),
      'round already initialized',
    );
    await expectRevert(read(rm, roundsManagerAbi, 'blockHash', [latest]), 'can only retrieve past block hashes');

    const next = await mineToNextRound(devnet.rpcUrl, devnet.contracts);
    assert.equal(next, devnet.round + 1n);
    assert.equal(await read(rm, roundsManagerAbi, 'currentRound'), next);
    assert.equal(await read(rm, roundsManagerAbi, 'currentRoundInitialized'), false);
    assert.equal(await read(rm, roundsManagerAbi, 'lastInitializedRound'), devnet.round);
    assert.equal(await read(rm, roundsManagerAbi, 'currentRoundLocked'), false);
    await mineBlocks(devnet.rpcUrl, 18); // last 10 % of a 20-block round = 2 blocks locked
    assert.equal(await read(rm, roundsManagerAbi, 'currentRoundLocked'), true);
    assert.equal(await initializeRound(devnet.rpcUrl, devnet.contracts), next);
  });
});

describe('Multicall3', () => {
  test('is installed at the canonical address and serves viem multicall', async () => {
    const code = await devnet.publicClient.getCode({ address: MULTICALL3_ADDRESS });
    assert.ok(code && code.length > 100);
    const [blockNumber, round, bad] = await devnet.publicClient.multicall({
      contracts: [
        { address: MULTICALL3_ADDRESS, abi: multicall3Abi, functionName: 'getBlockNumber' },
        { address: devnet.contracts.roundsManager, abi: roundsManagerAbi, functionName: 'currentRound' },
        { address: devnet.contracts.roundsManager, abi: roundsManagerAbi, functionName: 'blockHash', args: [10n ** 9n] },
      ],
    });
    assert.equal(blockNumber.status, 'success');
    assert.equal(blockNumber.result, await devnet.publicClient.getBlockNumber({ cacheTime: 0 }));
    assert.deepEqual(round, { status: 'success', result: devnet.round });
    assert.equal(bad.status, 'failure');
  });
});
