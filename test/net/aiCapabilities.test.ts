import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keccak_256 } from '@noble/hashes/sha3';
import { bytesToHex } from '../../src/lib/bytes.ts';
import { AiCapability, aiJobCapabilities, modelOffer } from '../../src/net/aiCapabilities.ts';
import { aiManifestId, buildAiSegData, EMPTY_SEGMENT_HASH } from '../../src/net/aiSegData.ts';
import { capabilitiesCompatible, capabilityIds } from '../../src/net/capabilities.ts';
import { segDataPreimage } from '../../src/pm/requestSignatures.ts';
import { personalDigest, privateKeySigner, recoverPersonalSigner } from '../../src/pm/signer.ts';
import { decodeMessage, encodeMessage } from '../../src/wire/lpRpc.ts';

describe('AI job capabilities (docs/ai.md, capabilities a gateway sends)', () => {
  it('text-to-image asks for the default bits plus 27: bitstring [201351167]', () => {
    const caps = aiJobCapabilities(AiCapability.TextToImage, 'stabilityai/sdxl-turbo', { version: '0.1.0' });
    assert.deepEqual(caps.bitstring, [201351167n]);
    assert.deepEqual(caps.bitstring, [0x4005fffn | (1n << 27n)]);
    assert.deepEqual(Object.keys(caps.capacities ?? {}).map(Number), capabilityIds(caps.bitstring));
    assert.ok(Object.values(caps.capacities ?? {}).every((c) => c === 1));
  });

  it('carries the model as a cold constraint with the runner version and survives the codec', () => {
    const caps = aiJobCapabilities(AiCapability.LLM, 'meta-llama/llama-3.1-8B-Instruct', { version: '0.1.0', minVersion: '0.8.0', runnerVersion: '0.13.0' });
    const back = decodeMessage('Capabilities', encodeMessage('Capabilities', caps));
    assert.equal(back.constraints?.minVersion, '0.8.0');
    assert.deepEqual(modelOffer(back, 33, 'meta-llama/llama-3.1-8B-Instruct'), { warm: false, capacity: 0, capacityInUse: 0, runnerVersion: '0.13.0' });
    assert.equal(modelOffer(back, 33, 'other'), undefined);
    assert.equal(modelOffer(back, 27, 'meta-llama/llama-3.1-8B-Instruct'), undefined);
  });

  it('an orchestrator without the model, or cold when warm is asked, is not compatible', () => {
    const b = aiJobCapabilities(27, 'm', { version: '0.1.0' });
    const o = (models: Record<string, unknown>) => ({
      bitstring: b.bitstring,
      version: '0.9.1',
      constraints: { PerCapability: { 27: { models } } },
    });
    assert.equal(capabilitiesCompatible(b, o({ m: { warm: false } })), true);
    assert.equal(capabilitiesCompatible(b, o({ other: { warm: true } })), false);
    const warm = aiJobCapabilities(27, 'm', { version: '0.1.0' });
    (warm.constraints!.PerCapability as Record<number, { models: Record<string, { warm: boolean }> }>)[27]!.models.m!.warm = true;
    assert.equal(capabilitiesCompatible(warm, o({ m: { warm: false } })), false);
  });

  it('modelOffer never throws on hostile shapes', () => {
    for (const per of [undefined, null, 5, 'x', { 27: null }, { 27: { models: 'x' } }, { 27: { models: { m: 7 } } }]) {
      assert.doesNotThrow(() => modelOffer({ constraints: { PerCapability: per as never } }, 27, 'm'));
    }
    assert.equal(modelOffer({ constraints: { PerCapability: { 27: { models: {} } } } }, 27, 'constructor'), undefined);
  });
});

describe('AI SegData (the manifest 27_stabilityai/sdxl-turbo vector)', () => {
  it('hashes the empty segment and signs manifest ‖ uint256(0) ‖ hash with no profiles', () => {
    assert.equal(bytesToHex(EMPTY_SEGMENT_HASH), '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
    const manifestId = aiManifestId(27, 'stabilityai/sdxl-turbo');
    assert.equal(manifestId, '27_stabilityai/sdxl-turbo');
    const flat = segDataPreimage({ manifestId, seq: 0n, hash: EMPTY_SEGMENT_HASH, profileNames: [] });
    assert.equal(flat.length, 89);
    const digest = keccak_256(flat);
    assert.equal(bytesToHex(digest), '0x2c573d58a1d9cf460f70d6a90dede7cc9b16dd000b66c184eda70c70d1583f85');
    assert.equal(bytesToHex(personalDigest(digest)), '0xf1ee98beb6d30241528e08a6033e12c15d07dcb497c4e3b2a21c1be64d5f662c');

    const signer = privateKeySigner(`0x${'01'.padStart(64, '0')}`);
    const caps = aiJobCapabilities(27, 'stabilityai/sdxl-turbo', { version: '0.1.0' });
    const seg = buildAiSegData({ cap: 27, modelId: 'stabilityai/sdxl-turbo', authToken: { sessionId: 'abc' }, capabilities: caps, signer });
    const back = decodeMessage('SegData', encodeMessage('SegData', seg));
    assert.equal(new TextDecoder().decode(back.manifestId), manifestId);
    assert.equal(back.seq ?? 0n, 0n);
    assert.equal(back.duration ?? 0, 0);
    assert.equal(new TextDecoder().decode(back.profiles), 'invalid');
    assert.equal(recoverPersonalSigner(digest, back.sig!), signer.address);
    assert.deepEqual(back.capabilities?.bitstring, [201351167n]);
  });

  it('off-chain: empty signature', () => {
    const seg = buildAiSegData({ cap: 33, modelId: 'm', authToken: {}, capabilities: {} });
    assert.equal(seg.sig?.length, 0);
  });
});
