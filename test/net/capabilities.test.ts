import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ALL_VIDEO_CAPABILITIES,
  bitstringSubset,
  Capability,
  capabilitiesCompatible,
  capabilityBitstring,
  capabilityIds,
  profilesFromSegData,
  profilesToWire,
  streamCapabilities,
  streamCapabilityIds,
  versionCompatible,
  type WireVideoProfile,
} from '../../src/net/capabilities.ts';
import { PRESETS } from '../../src/media/profiles.ts';

const P240: WireVideoProfile = PRESETS.P240p30fps16x9!;
const P360: WireVideoProfile = PRESETS.P360p30fps16x9!;

describe('broadcaster capabilities (docs/wire.md §6.3)', () => {
  it('RTMP H.264 with MPEG-TS presets advertises [4099]', () => {
    assert.deepEqual(streamCapabilities({ profiles: [P240, P360] }).bitstring, [4099n]);
  });

  it('HTTP push (segment slicing) advertises [67112963]', () => {
    assert.deepEqual(streamCapabilities({ profiles: [P240], segmentSlicing: true }).bitstring, [67112963n]);
  });

  it('sets one bit per profile feature', () => {
    const ids = streamCapabilityIds({
      profiles: [{ ...P240, format: 'mp4', fpsDen: 1001, profile: 2, gopMs: 2000, encoder: 1 }],
      inputCodec: 'hevc',
      verification: true,
      storage: 's3',
    });
    assert.deepEqual(ids, [
      Capability.MP4,
      Capability.FractionalFramerates,
      Capability.StorageS3,
      Capability.ProfileH264Main,
      Capability.GOP,
      Capability.AuthToken,
      Capability.MPEG7VideoSignature,
      Capability.HEVCDecode,
      Capability.HEVCEncode,
    ]);
  });

  it('adds the H.264 pixel-format decode bit for non 4:2:0 8-bit input', () => {
    const ids = streamCapabilityIds({ profiles: [P240], inputPixelFormat: { chroma: '422', bitDepth: 10 } });
    assert.ok(ids.includes(Capability.H264Decode422_10bit));
    assert.ok(!streamCapabilityIds({ profiles: [P240], inputPixelFormat: { chroma: '420', bitDepth: 8 } }).includes(21));
  });

  it('carries the minimum orchestrator version in constraints', () => {
    assert.equal(streamCapabilities({ profiles: [P240], minVersion: '0.8.0' }).constraints?.minVersion, '0.8.0');
  });

  it('bitstrings round-trip and spill into a second word past id 63', () => {
    assert.deepEqual(capabilityBitstring([0, 64, 65]), [1n, 3n]);
    assert.deepEqual(capabilityIds([1n, 3n]), [0, 64, 65]);
  });
});

describe('compatibility rule (docs/wire.md §6.4)', () => {
  const orch = { bitstring: capabilityBitstring(ALL_VIDEO_CAPABILITIES), mandatories: [], version: '0.9.1' };
  const b = streamCapabilities({ profiles: [P240] });

  it('accepts an orchestrator that has every requested bit', () => {
    assert.equal(capabilitiesCompatible(b, orch), true);
  });

  it('refuses when the orchestrator lacks a bit', () => {
    assert.equal(capabilitiesCompatible(b, { ...orch, bitstring: [4098n] }), false);
  });

  it('refuses when the broadcaster lacks an orchestrator mandatory', () => {
    assert.equal(capabilitiesCompatible(b, { ...orch, mandatories: capabilityBitstring([Capability.GOP]) }), false);
    assert.equal(capabilitiesCompatible(b, { ...orch, mandatories: capabilityBitstring([Capability.AuthToken]) }), true);
  });

  it('refuses when the broadcaster has more words than the orchestrator', () => {
    assert.equal(bitstringSubset([1n, 1n], [1n]), false);
    assert.equal(bitstringSubset([1n, 0n], [1n]), false);
    assert.equal(bitstringSubset([1n], [3n, 7n]), true);
  });

  it('judges an orchestrator without capabilities by the legacy set (never true with the auth-token bit)', () => {
    assert.equal(capabilitiesCompatible(b, undefined), false);
    assert.equal(capabilitiesCompatible({ bitstring: [3n] }, undefined), true);
  });

  it('applies the minimum version, ignoring pre-release suffixes', () => {
    const withMin = streamCapabilities({ profiles: [P240], minVersion: '0.9.0' });
    assert.equal(capabilitiesCompatible(withMin, orch), true);
    assert.equal(capabilitiesCompatible(withMin, { ...orch, version: '0.8.9' }), false);
    assert.equal(capabilitiesCompatible(withMin, { ...orch, version: '' }), false);
    assert.equal(capabilitiesCompatible(withMin, { ...orch, version: 'undefined' }), false);
    assert.equal(versionCompatible('0.9.0', '0.9.0-rc1'), true);
    assert.equal(versionCompatible('0.9.1', 'v0.10.0'), true);
    assert.equal(versionCompatible('', 'anything'), true);
    assert.equal(versionCompatible('0.9.0', 'garbage'), false);
  });

  it('checks AI model constraints only where both sides have them', () => {
    const bAI = { bitstring: [1n], constraints: { PerCapability: { 27: { models: { m1: { warm: true } } } } } };
    const oAI = { bitstring: [1n], version: '1.0.0', constraints: { PerCapability: { 27: { models: { m1: { warm: false } } } } } };
    assert.equal(capabilitiesCompatible(bAI, oAI), false);
    assert.equal(capabilitiesCompatible(bAI, { ...oAI, constraints: { PerCapability: { 27: { models: { m1: { warm: true } } } } } }), true);
    assert.equal(capabilitiesCompatible(bAI, { ...oAI, constraints: { PerCapability: {} } }), true);
  });
});

describe('profilesToWire (docs/wire.md §4.8, which list)', () => {
  it('uses fullProfiles for plain MPEG-TS presets', () => {
    const { field, profiles } = profilesToWire([P240, P360]);
    assert.equal(field, 'fullProfiles');
    assert.deepEqual(profiles[0], {
      name: 'P240p30fps16x9',
      width: 426,
      height: 240,
      bitrate: 600000,
      fps: 30,
      format: 0,
      fpsDen: 0,
      profile: 0,
      gop: 0,
      encoder: 0,
      colorDepth: 0,
      chromaFormat: 0,
      quality: 0,
    });
  });

  it('uses fullProfiles2 when an output is MP4 and nothing needs 3', () => {
    const { field, profiles } = profilesToWire([P240, { ...P360, format: 'mp4' }]);
    assert.equal(field, 'fullProfiles2');
    assert.equal(profiles[1]!.format, 1);
  });

  it('uses fullProfiles3 for fractional rates, H.264 profiles or GOPs', () => {
    assert.equal(profilesToWire([P240, { ...P360, fpsDen: 1001 }]).field, 'fullProfiles3');
    assert.equal(profilesToWire([{ ...P240, profile: 1 }]).field, 'fullProfiles3');
    assert.equal(profilesToWire([{ ...P240, gopMs: -1, format: 'mp4' }]).field, 'fullProfiles3');
  });

  it('refuses an unnamed profile (the segment signature covers names)', () => {
    assert.throws(() => profilesToWire([{ ...P240, name: '' }]), /non-empty name/);
  });

  it('orchestrators read 3, then 2, then 1', () => {
    const [a, b2, c] = [{ name: 'a' }, { name: 'b' }, { name: 'c' }];
    assert.deepEqual(profilesFromSegData({ fullProfiles: [a], fullProfiles2: [b2], fullProfiles3: [c] }), [c]);
    assert.deepEqual(profilesFromSegData({ fullProfiles: [a], fullProfiles2: [b2], fullProfiles3: [] }), [b2]);
    assert.deepEqual(profilesFromSegData({ fullProfiles: [a] }), [a]);
    assert.deepEqual(profilesFromSegData({}), []);
  });
});
