import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Balances } from '../../src/pm/balance.ts';
import { rat, ZERO } from '../../src/lib/rat.ts';

describe('per-session balance', () => {
  const key = Balances.key('0xAbC0000000000000000000000000000000000001', 'sess1');
  const ev = rat(100n);

  it('carries credit across segments exactly', () => {
    const b = new Balances();
    // segment 1: fee 250 → 3 tickets (300 credit), orchestrator debits 240 → 60 left
    const u1 = b.stage(key, rat(250n), ev);
    assert.equal(u1.numTickets, 3);
    assert.deepEqual(u1.newCredit, rat(300n));
    assert.deepEqual(b.get(key), ZERO, 'credit is in flight while staged');
    u1.sent = true;
    b.complete(u1, rat(240n));
    assert.deepEqual(b.get(key), rat(60n));
    // segment 2: fee 250, credit 60 → 2 tickets; debit 260 → 0
    const u2 = b.stage(key, rat(250n), ev);
    assert.equal(u2.numTickets, 2);
    b.complete(u2, rat(260n));
    assert.deepEqual(b.get(key), ZERO);
    // segment 3: credit covers nothing → 3 tickets; debit more than paid → negative credit
    const u3 = b.stage(key, rat(250n), ev);
    b.complete(u3, rat(350n));
    assert.deepEqual(b.get(key), rat(-50n));
    const u4 = b.stage(key, rat(250n), ev);
    assert.equal(u4.numTickets, 3, 'a negative balance is paid back');
  });

  it('restores credit when the payment never left, writes it off when it did', () => {
    const b = new Balances();
    const u = b.stage(key, rat(50n), ev);
    b.complete(u, ZERO); // 100 credit
    const notSent = b.stage(key, rat(150n), ev);
    b.fail(notSent);
    assert.deepEqual(b.get(key), rat(100n));
    const sent = b.stage(key, rat(150n), ev);
    sent.sent = true;
    b.fail(sent);
    assert.deepEqual(b.get(key), ZERO);
  });

  it('keys by recipient (case-insensitive) and orchestrator session', () => {
    assert.equal(Balances.key('0xABC', 's'), Balances.key('0xabc', 's'));
    assert.notEqual(Balances.key('0xabc', 's1'), Balances.key('0xabc', 's2'));
  });
});
