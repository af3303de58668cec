// The last hour's spend, the deposit's runway at that pace, and deposit.low once per crossing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChainServices } from '../../src/node/chain.ts';
import { GatewayEventBus, type GatewayEvents } from '../../src/node/events.ts';
import { describeRunway, SpendMeter, watchDeposit } from '../../src/node/spend.ts';
import { moneyStatus } from '../../src/node/status.ts';

const payment = (evWei: string): GatewayEvents['payment.sent'] => ({ manifestId: 'm', seq: 0, orchestrator: 'o', tickets: 1, evWei, faceValueWei: '1' });

describe('spend and runway', () => {
  it('sums the payments of the last hour and forgets older ones', () => {
    let now = 0;
    const events = new GatewayEventBus();
    const meter = new SpendMeter(events, () => now);
    assert.equal(meter.runwaySeconds(10n ** 18n), undefined, 'nothing spent: no estimate');
    now = 30 * 60_000;
    events.emit('payment.sent', payment('1000'));
    now = 60 * 60_000;
    events.emit('payment.sent', payment('2000'));
    assert.equal(meter.lastHourWei(), 3000n);
    assert.equal(meter.weiPerHour(), 3000n);
    // 3000 wei an hour: 6000 wei last two hours
    assert.equal(meter.runwaySeconds(6000n), 7200);
    now = 91 * 60_000;
    assert.equal(meter.lastHourWei(), 2000n, 'the payment at 30 min has left the window');
  });

  it('keeps one sum per minute, not one entry per payment (bounded whatever the stream count)', () => {
    let now = 0;
    const events = new GatewayEventBus();
    const meter = new SpendMeter(events, () => now);
    // two hours of 50 payments a second
    for (let t = 0; t < 2 * 3600_000; t += 20) {
      now = t;
      meter.record(1n);
    }
    const wei = meter.lastHourWei();
    assert.ok(wei >= 3000n * 60n && wei <= 3000n * 61n, `the last hour, to the minute: ${wei}`);
    assert.equal(meter.minutesKept, 61, '360,000 payments, 61 sums');
  });

  it('scales a short run up to an hourly pace (not below a minute)', () => {
    let now = 0;
    const events = new GatewayEventBus();
    const meter = new SpendMeter(events, () => now);
    now = 1000;
    meter.record(100n);
    assert.equal(meter.weiPerHour(), 6000n, '100 wei in the first minute = 6000 an hour');
    now = 10 * 60_000;
    assert.equal(meter.weiPerHour(), 600n);
  });

  it('describes a runway for people', () => {
    assert.equal(describeRunway(undefined), 'nothing spent in the last hour');
    assert.equal(describeRunway(30), "about 30 seconds at the last hour's spend");
    assert.equal(describeRunway(1800), "about 30 minutes at the last hour's spend");
    assert.equal(describeRunway(3.5 * 3600), "about 3.5 hours at the last hour's spend");
    assert.equal(describeRunway(10 * 86_400), "about 10 days at the last hour's spend");
  });

  it('reports deposit.low once when the runway gets short, again only after it recovered', () => {
    let deposit = 10_000n;
    const chain = { senderInfo: () => ({ deposit, reserve: { fundsRemaining: 500n } }) } as unknown as ChainServices;
    const events = new GatewayEventBus();
    const lows: GatewayEvents['deposit.low'][] = [];
    events.on('deposit.low', (e) => lows.push(e));
    let now = 60 * 60_000;
    const meter = new SpendMeter(events, () => now);
    const stop = watchDeposit(chain, meter, events, { lowRunwaySeconds: 3600, intervalMs: 60_000 });
    assert.equal(lows.length, 0, 'nothing spent yet: no estimate, not low');
    now += 60 * 60_000;
    meter.record(20_000n); // 20000 wei an hour: 10000 wei last half an hour
    // the watch runs on a timer; drive the check by hand through a second watcher
    const stop2 = watchDeposit(chain, meter, events, { lowRunwaySeconds: 3600, intervalMs: 60_000 });
    assert.deepEqual(lows, [{ depositWei: '10000', reserveWei: '500', runwaySeconds: 1800 }]);
    const money = moneyStatus(meter, chain);
    assert.deepEqual(money, {
      LastHourSpentWei: '20000',
      PerHourWei: '20000',
      DepositWei: '10000',
      ReserveWei: '500',
      DepositRunwaySeconds: 1800,
      DepositRunway: "about 30 minutes at the last hour's spend",
    });
    deposit = 0n;
    stop();
    stop2();
    watchDeposit(chain, meter, events, {})();
    assert.equal(lows.length, 2, 'a new watcher sees an empty deposit');
    assert.equal(lows[1]!.depositWei, '0');
  });

  it('off-chain: the money block says nothing is paid', () => {
    const meter = new SpendMeter(new GatewayEventBus());
    assert.deepEqual(moneyStatus(meter, undefined), { LastHourSpentWei: '0', PerHourWei: '0', DepositRunway: 'off-chain: nothing is paid' });
  });
});
