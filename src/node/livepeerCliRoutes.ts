// The control API routes livepeer_cli calls on a gateway, answered as go-livepeer answers them: identity,
// chain reads, and the TicketBroker deposit transactions. Off-chain the Ethereum routes answer go-livepeer's
// 500 "missing ETH client".
import type { Address } from 'viem';
import type { OnchainPool } from '../discovery/onchainPool.ts';
import type { EthClient } from '../eth/client.ts';
import { contractAddressMap, type LivepeerContracts } from '../eth/contracts.ts';
import { describeEthError } from '../eth/errors.ts';
import { readCurrentRound } from '../eth/readCurrentRound.ts';
import { readEthBalance } from '../eth/readEthBalance.ts';
import { readProtocolParameters, type ProtocolParameters } from '../eth/readProtocolParameters.ts';
import { readTokenBalance } from '../eth/readTokenBalance.ts';
import { latestL1Block, type RoundsWatcher } from '../eth/rounds.ts';
import { readSenderInfo, readTicketBrokerParams } from '../eth/senderInfo.ts';
import type { BrokerAction } from '../eth/ticketBroker.ts';
import { TransactionQueue } from '../eth/transactionQueue.ts';
import { readTranscoderPool, type PoolOrchestrator } from '../eth/transcoderPool.ts';
import type { EthWallet, TxOptions } from '../eth/transactions.ts';
import { bigintToMinimalBytes } from '../lib/bytes.ts';
import type { Logger } from '../lib/log.ts';
import type { Rat } from '../lib/rat.ts';
import { bytesReply, ControlError, emptyReply, formWei, jsonReply, readRoute, requireForm, textReply, type ControlRoute } from '../server/control.ts';

/** What the control API needs on-chain; absent when the gateway runs off-chain. */
export interface ControlEth {
  client: EthClient;
  contracts: LivepeerContracts;
  /** The gateway's own account. */
  wallet: EthWallet;
  /** When given, /currentBlock answers from its snapshot instead of asking the RPC. */
  rounds?: RoundsWatcher;
  /** When given, /registeredOrchestrators answers from discovery's last read instead of reading the pool. */
  pool?: OnchainPool;
  /** -maxGasPrice / -transactionTimeout for the deposit endpoints. */
  tx?: TxOptions;
  /** Price per pixel last seen from an orchestrator, for /registeredOrchestrators (default 0/1). */
  pricePerPixel?: (orchestrator: Address) => Rat | undefined;
}

/** go-livepeer's eth/types Transcoder. */
function goTranscoder(o: PoolOrchestrator, price: Rat | undefined): Record<string, unknown> {
  return {
    Address: o.address.toLowerCase(),
    ServiceURI: o.serviceURI,
    LastRewardRound: o.lastRewardRound,
    RewardCut: o.rewardCut,
    FeeShare: o.feeShare,
    DelegatedStake: o.stake,
    ActivationRound: o.activationRound,
    DeactivationRound: o.deactivationRound,
    LastActiveStakeUpdateRound: o.lastActiveStakeUpdateRound,
    Active: o.active,
    Status: o.status,
    PricePerPixel: price ?? { num: 0n, den: 1n },
  };
}

/** go-livepeer's eth/types ProtocolParameters; the verification fields it no longer uses are constants. */
function goProtocolParameters(p: ProtocolParameters): Record<string, unknown> {
  return {
    NumActiveTranscoders: p.numActiveTranscoders,
    RoundLength: p.roundLength,
    RoundLockAmount: p.roundLockAmount,
    UnbondingPeriod: p.unbondingPeriod ?? 0n,
    VerificationRate: 0,
    VerificationPeriod: null,
    SlashingPeriod: null,
    FailedVerificationSlashAmount: null,
    MissedVerificationSlashAmount: null,
    DoubleClaimSegmentSlashAmount: null,
    FinderFee: null,
    Inflation: p.inflation,
    InflationChange: p.inflationChange,
    TargetBondingRate: p.targetBondingRate,
    VerificationCodeHash: '',
    TotalBonded: p.totalBonded,
    TotalSupply: p.totalSupply,
    Paused: p.paused === true,
  };
}

function lowerCaseValues(m: Record<string, Address>): Map<string, string> {
  return new Map(Object.entries(m).map(([k, v]) => [k, v.toLowerCase()]));
}

/** The livepeer_cli routes; `eth` undefined = off-chain. */
export function livepeerCliRoutes(eth: ControlEth | undefined, log: Logger): Record<string, ControlRoute> {
  // Writes share one queue, so two requests never race for the account's nonce.
  const chain = eth && { ...eth, transactions: new TransactionQueue({ eth: eth.client, contracts: eth.contracts, wallet: eth.wallet }, eth.tx ?? {}) };
  type Chain = NonNullable<typeof chain>;
  /** Endpoints that need Ethereum; off-chain they answer go-livepeer's 500. */
  const onchain =
    (handler: (e: Chain, form: URLSearchParams) => ReturnType<ControlRoute>): ControlRoute =>
    (form) => {
      if (!chain) throw new ControlError(500, 'missing ETH client');
      return handler(chain, form);
    };
  const write = (name: string, action: (form: URLSearchParams) => BrokerAction): ControlRoute =>
    onchain(async (e, form) => {
      const a = action(form);
      try {
        const result = await e.transactions.send(a);
        log.info({ tx: result.hash, action: name }, 'Control API transaction mined');
      } catch (err) {
        throw new ControlError(500, `could not execute ${name}: ${describeEthError(err, e.client.urls)}`);
      }
      return textReply(`${name} success`);
    });

  return {
    '/EthChainID': readRoute(() => textReply(String(eth?.client.chainId ?? 0))),
    '/IsOrchestrator': readRoute(() => textReply('false')),
    '/IsRedeemer': readRoute(() => textReply('false')),
    '/currentBlock': readRoute(async () => {
      if (!eth) return emptyReply();
      const block = eth.rounds?.snapshot()?.lastSeenL1Block ?? (await latestL1Block(eth.client));
      return bytesReply(bigintToMinimalBytes(block));
    }),
    '/currentRound': readRoute(onchain(async (e) => textReply((await readCurrentRound(e.client, e.contracts)).toString()))),
    '/ethAddr': readRoute(onchain((e) => textReply(e.wallet.address))),
    '/tokenBalance': readRoute(onchain(async (e) => textReply((await readTokenBalance(e.client, e.contracts, e.wallet.address)).toString()))),
    // -maxGasPrice: empty when there is no cap, as go-livepeer answers.
    '/maxGasPrice': readRoute(onchain((e) => (e.tx?.maxGasPrice ? textReply(e.tx.maxGasPrice.toString()) : emptyReply()))),
    '/minGasPrice': readRoute(onchain(() => textReply('0'))),
    '/ethBalance': readRoute(onchain(async (e) => textReply((await readEthBalance(e.client, e.wallet.address)).toString()))),
    '/senderInfo': readRoute(
      onchain(async (e) => {
        const info = await readSenderInfo(e.client, e.contracts, e.wallet.address);
        return jsonReply({
          Deposit: info.deposit,
          WithdrawRound: info.withdrawRound,
          Reserve: { FundsRemaining: info.reserve.fundsRemaining, ClaimedInCurrentRound: info.reserve.claimedInCurrentRound },
        });
      }),
    ),
    '/ticketBrokerParams': readRoute(onchain(async (e) => jsonReply({ UnlockPeriod: (await readTicketBrokerParams(e.client, e.contracts)).unlockPeriod }))),
    '/contractAddresses': readRoute(onchain((e) => jsonReply(lowerCaseValues(contractAddressMap(e.contracts))))),
    '/protocolParameters': readRoute(onchain(async (e) => jsonReply(goProtocolParameters(await readProtocolParameters(e.client, e.contracts))))),
    '/registeredOrchestrators': readRoute(
      onchain(async (e) => {
        const pool = e.pool && e.pool.status().source !== 'none' ? e.pool.orchestrators() : await readTranscoderPool(e.client, e.contracts);
        return jsonReply(pool.map((o) => goTranscoder(o, e.pricePerPixel?.(o.address))));
      }),
    ),
    '/fundDepositAndReserve': requireForm(
      ['depositAmount', 'reserveAmount'],
      write('fundDepositAndReserve', (f) => ({ kind: 'fundDepositAndReserve', deposit: formWei(f, 'depositAmount'), reserve: formWei(f, 'reserveAmount') })),
    ),
    '/fundDeposit': requireForm(
      ['amount'],
      write('fundDeposit', (f) => ({ kind: 'fundDeposit', amount: formWei(f, 'amount') })),
    ),
    '/unlock': write('unlock', () => ({ kind: 'unlock' })),
    '/cancelUnlock': write('cancelUnlock', () => ({ kind: 'cancelUnlock' })),
    '/withdraw': write('withdraw', () => ({ kind: 'withdraw' })),
  };
}
