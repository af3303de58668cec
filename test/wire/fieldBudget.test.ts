// The framing check made before any peer message is decoded: real messages pass, messages with more
// elements than decoding should ever build are refused cheaply, and framing that protobufjs would read
// differently from the walk (wrong wire types on known fields, 32-bit-overflowing lengths) is refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkFraming, MAX_DECODED_ELEMENTS } from '../../src/wire/fieldBudget.ts';
import { decodeMessage, encodeMessage, messageType, WireDecodeError, type OrchestratorInfo } from '../../src/wire/lpRpc.ts';
import { encodeVarint } from '../hostile/protoMutator.ts';

const info: OrchestratorInfo = {
  transcoder: 'https://o.example:8935',
  capabilities: {
    bitstring: [1n, 2n ** 63n],
    mandatories: [0n],
    capacities: { 1: 4, 7: 2 },
    version: '0.9.1',
    constraints: { minVersion: '0.8.0', PerCapability: { 27: { models: { m: { warm: true, capacity: 1 } } } } },
  },
  priceInfo: { pricePerUnit: 1200n, pixelsPerUnit: 1n },
  capabilitiesPrices: Array.from({ length: 50 }, (_, i) => ({ pricePerUnit: BigInt(i), pixelsPerUnit: 1n, capability: 27, constraint: `model-${i}` })),
  storage: [{ storageType: 1, s3info: { host: 'h', key: 'k' } }],
  nodes: ['https://a.example', 'https://b.example'],
  authToken: { token: new Uint8Array(32), sessionId: 's', expiration: 1n },
};

const concat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);
const key = (field: number, wire: number): Uint8Array => encodeVarint(BigInt(field * 8 + wire));

describe('framing check before decode', () => {
  it('passes real messages: nested messages, maps of messages, packed and repeated fields', () => {
    const bytes = encodeMessage('OrchestratorInfo', info);
    assert.equal(checkFraming(messageType('OrchestratorInfo'), bytes), 'ok');
    const back = decodeMessage('OrchestratorInfo', bytes);
    assert.equal(back.capabilitiesPrices?.length, 50);
    const tr = encodeMessage('TranscodeResult', { seq: 1n, data: { segments: [{ url: 'u', pixels: 5n }], sig: new Uint8Array(65) }, info });
    assert.equal(checkFraming(messageType('TranscodeResult'), tr), 'ok');
  });

  it('refuses 1 MiB of tiny repeated entries before building them (a second of CPU and 75 MiB when decoded)', () => {
    const one = encodeMessage('OrchestratorInfo', { capabilitiesPrices: [{ pricePerUnit: 1n, pixelsPerUnit: 1n }] });
    const bytes = Buffer.concat(Array.from({ length: Math.floor(2 ** 20 / one.length) }, () => one));
    const cpu = process.cpuUsage();
    assert.throws(
      () => decodeMessage('OrchestratorInfo', bytes),
      (err) => err instanceof WireDecodeError && /more than 20000 fields/.test(err.message),
    );
    const used = process.cpuUsage(cpu);
    // the walk stops at the budget: a few thousand bytes in, whatever follows
    assert.ok(used.user + used.system < 2_000_000, `refused in ${(used.user + used.system) / 1000} ms of CPU`);
  });

  it('counts packed values: a bitstring of a million uint64s is refused', () => {
    const capabilities = concat(key(1, 2), encodeVarint(1_000_000n), new Uint8Array(1_000_000).fill(1));
    const bytes = concat(key(5, 2), encodeVarint(BigInt(capabilities.length)), capabilities);
    assert.equal(checkFraming(messageType('OrchestratorInfo'), bytes, 2_000_000), 'ok', 'well-formed');
    assert.equal(checkFraming(messageType('OrchestratorInfo'), bytes), 'over-budget');
  });

  it('refuses a known field with the wrong wire type, which would hide a nested message from the count', () => {
    // info (field 16 of TranscodeResult) as a varint: protobufjs reads it as a length anyway
    const bytes = concat(key(16, 0), encodeVarint(3n), key(1, 2), encodeVarint(1n), Uint8Array.of(0x41));
    assert.equal(checkFraming(messageType('TranscodeResult'), bytes), 'unreadable');
    assert.throws(() => decodeMessage('TranscodeResult', bytes), WireDecodeError);
  });

  it('refuses lengths of 2^32 and above (protobufjs would read them modulo 2^32)', () => {
    const bytes = concat(key(1, 2), encodeVarint(2n ** 32n + 1n), Uint8Array.of(0x41));
    assert.equal(checkFraming(messageType('OrchestratorInfo'), bytes), 'unreadable');
  });

  it('counts unknown groups, and refuses a group left open or closed without opening', () => {
    const group = (n: number): Uint8Array => concat(key(99, 3), ...Array.from({ length: n }, () => concat(key(1, 0), Uint8Array.of(1))), key(99, 4));
    assert.equal(checkFraming(messageType('OrchestratorInfo'), group(10)), 'ok');
    assert.equal(checkFraming(messageType('OrchestratorInfo'), group(MAX_DECODED_ELEMENTS + 1)), 'over-budget');
    assert.equal(checkFraming(messageType('OrchestratorInfo'), concat(key(99, 3), key(1, 0), Uint8Array.of(1))), 'unreadable');
    assert.equal(checkFraming(messageType('OrchestratorInfo'), key(99, 4)), 'unreadable');
  });

  it('refuses groups nested 100,000 deep (a stack overflow in a recursive walk or decoder)', () => {
    const deep = new Uint8Array(100_000).fill(0x1b); // field 3, start group, again and again
    assert.equal(checkFraming(messageType('OrchestratorInfo'), deep), 'unreadable');
    assert.throws(() => decodeMessage('OrchestratorInfo', deep), WireDecodeError);
  });
});
