// The judge of GetOrchestrator replies: every refusal, off-chain and on-chain, and what an accepted reply
// becomes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getAddress, type Address } from 'viem';
import { bigintToMinimalBytes, hexToBytes } from '../../src/lib/bytes.ts';
import { rat } from '../../src/lib/rat.ts';
import { PRESETS } from '../../src/media/profiles.ts';
import { ALL_VIDEO_CAPABILITIES, capabilityBitstring, streamCapabilities } from '../../src/net/capabilities.ts';
import { judgeOrchestrator, type JudgeContext, type RefusalCode, type Verdict } from '../../src/node/judge.ts';
import { MAX_WIN_PROB } from '../../src/pm/ev.ts';
import type { SenderInfo } from '../../src/pm/senderInfo.ts';
import { DEFAULT_PAYMENT_LIMITS, type ChainView } from '../../src/pm/validate.ts';
import type { OrchestratorInfo, TicketParams } from '../../src/wire/lpRpc.ts';

const ORCH: Address = getAddress('0x00000000000000000000000000000000000000aa');
const RECIPIENT: Address = getAddress('0x00000000000000000000000000000000000000bb');
const ETH = 10n ** 18n;
const funded: SenderInfo = { deposit: ETH, withdrawRound: 0n, reserve: { fundsRemaining: ETH, claimedInCurrentRound: 0n } };
const chain: ChainView = { lastSeenL1Block: 1000n, lastInitializedRound: 50n, ticketValidityPeriod: 2n };

const capabilities = streamCapabilities({ profiles: [PRESETS.P240p30fps16x9!] });
const offchain: JudgeContext = { capabilities, blocklist: [] };
const onchain = (senderInfo: SenderInfo = funded): JudgeContext => ({
  capabilities,
  blocklist: [],
  payments: { limits: DEFAULT_PAYMENT_LIMITS, senderInfo: () => senderInfo, chain: () => chain },
});

// faceValue 1e15 wei, EV ≈ 1e9 wei: inside the default limits
const ticketParams = (over: Partial<TicketParams> = {}): TicketParams => ({
  recipient: hexToBytes(RECIPIENT),
  faceValue: bigintToMinimalBytes(10n ** 15n),
  winProb: bigintToMinimalBytes(MAX_WIN_PROB / 10n ** 6n),
  recipientRandHash: new Uint8Array(32).fill(0xab),
  seed: bigintToMinimalBytes(1n),
  expirationBlock: bigintToMinimalBytes(1040n),
  ...over,
});

const reply = (over: Partial<OrchestratorInfo> = {}): OrchestratorInfo => ({
  transcoder: 'https://o.example:8935/',
  address: hexToBytes(ORCH),
  capabilities: { bitstring: capabilityBitstring(ALL_VIDEO_CAPABILITIES), mandatories: [], version: '0.9.1' },
  authToken: { token: new Uint8Array([1, 2, 3]), sessionId: 'session-1', expiration: 9_999_999_999n },
  priceInfo: { pricePerUnit: 1200n, pixelsPerUnit: 1n },
  ticketParams: ticketParams(),
  ...over,
});

const candidate = { uri: 'https://o.example:8935', score: 1, stake: 7n };

function judge(ctx: JudgeContext, info: OrchestratorInfo): Verdict {
  return judgeOrchestrator(ctx, candidate, info, 42);
}

function refused(ctx: JudgeContext, info: OrchestratorInfo, code: RefusalCode, reason: RegExp): void {
  const v = judge(ctx, info);
  assert.equal(v.ok, false, `expected a refusal matching ${reason}`);
  if (v.ok) return;
  assert.equal(v.code, code, v.reason);
  assert.match(v.reason, reason);
}

describe('orchestrator judge', () => {
  it('accepts a good reply off-chain: the session keeps the reply, its price and the candidate stake', () => {
    const v = judge(offchain, reply({ ticketParams: undefined }));
    assert.ok(v.ok);
    assert.equal(v.session.uri, candidate.uri);
    assert.equal(v.session.transcoder, 'https://o.example:8935', 'trailing slash dropped');
    assert.equal(v.session.address, ORCH, 'off-chain the reply address is kept for logs');
    assert.deepEqual([v.session.price, v.session.initialPrice], [rat(1200n), rat(1200n)]);
    assert.deepEqual([v.session.stake, v.session.trusted, v.session.latencyMs], [7n, true, 42]);
  });

  it('accepts a good reply on-chain and weighs the ticket recipient', () => {
    const v = judge(onchain(), reply());
    assert.ok(v.ok);
    assert.equal(v.session.address, RECIPIENT);
  });

  for (const [name, ctx] of [
    ['off-chain', offchain],
    ['on-chain', onchain()],
  ] as const) {
    describe(`refuses, ${name}`, () => {
      it('a reply without a usable transcoder URI', () => {
        refused(ctx, reply({ transcoder: '' }), 'transcoder', /no transcoder URI/);
        refused(ctx, reply({ transcoder: 'not a url' }), 'transcoder', /is not http\(s\)/);
        refused(ctx, reply({ transcoder: 'ftp://o.example/' }), 'transcoder', /"ftp:\/\/o\.example\/" is not http\(s\)/);
        refused(ctx, reply({ transcoder: `gopher://${'x'.repeat(500)}` }), 'transcoder', /^transcoder URI "gopher:\/\/x{91}" is not/);
      });

      it('an orchestrator on -orchBlocklist (any letter case)', () => {
        refused({ ...ctx, blocklist: [ORCH.toLowerCase() as Address] }, reply(), 'blocklisted', /orchestrator 0x0+aa is in -orchBlocklist/i);
      });

      it('an orchestrator that lacks a capability the stream needs, or is older than -orchMinLivepeerVersion', () => {
        refused(ctx, reply({ capabilities: { bitstring: [1n], mandatories: [], version: '0.9.1' } }), 'capabilities', /lacks capabilities/);
        const newer = { ...ctx, capabilities: streamCapabilities({ profiles: [PRESETS.P240p30fps16x9!], minVersion: '1.0.0' }) };
        refused(newer, reply(), 'capabilities', /lacks capabilities/);
      });

      it('a reply without an auth token', () => {
        refused(ctx, reply({ authToken: undefined }), 'auth-token', /no auth token/);
        refused(ctx, reply({ authToken: { token: new Uint8Array(0), sessionId: 's' } }), 'auth-token', /no auth token/);
        refused(ctx, reply({ authToken: { token: new Uint8Array([1]), sessionId: '' } }), 'auth-token', /no auth token/);
      });

      it('a negative price', () => {
        refused(ctx, reply({ priceInfo: { pricePerUnit: -1n, pixelsPerUnit: 1n } }), 'price', /negative price/);
      });
    });
  }

  describe('refuses on-chain only', () => {
    it('a reply without an orchestrator address (off-chain it is fine)', () => {
      refused(onchain(), reply({ address: undefined }), 'address', /no orchestrator address/);
      assert.ok(judge(offchain, reply({ address: undefined, ticketParams: undefined })).ok);
    });

    it('a reply without price info, or with pixels per unit 0', () => {
      refused(onchain(), reply({ priceInfo: undefined }), 'price', /no price info/);
      refused(onchain(), reply({ priceInfo: { pricePerUnit: 1n, pixelsPerUnit: 0n } }), 'price', /pixels per unit is 0/);
      assert.ok(judge(offchain, reply({ priceInfo: undefined })).ok);
    });

    it('missing, malformed or unacceptable ticket params', () => {
      refused(onchain(), reply({ ticketParams: undefined }), 'ticket-params', /no ticket params/);
      refused(onchain(), reply({ ticketParams: ticketParams({ recipient: new Uint8Array(3) }) }), 'ticket-params', /recipient is not a 20-byte address/);
      refused(onchain(), reply({ ticketParams: ticketParams({ expirationBlock: bigintToMinimalBytes(1001n) }) }), 'ticket-params', /ticket params expired/);
      refused(onchain(), reply({ ticketParams: ticketParams({ faceValue: bigintToMinimalBytes(2n * ETH) }) }), 'ticket-params', /faceValue .* > max faceValue/);
      refused(onchain(), reply({ ticketParams: ticketParams({ winProb: bigintToMinimalBytes(MAX_WIN_PROB / 10n) }) }), 'ticket-params', /-maxTicketEV/);
    });

    it('anyone while our own deposit cannot pay (a different code: no orchestrator can fix it)', () => {
      const broke: SenderInfo = { deposit: 0n, withdrawRound: 0n, reserve: { fundsRemaining: ETH, claimedInCurrentRound: 0n } };
      refused(onchain(broke), reply(), 'sender', /no sender deposit/);
    });
  });
});
