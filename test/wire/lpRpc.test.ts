// Golden encodings of every message a broadcaster builds or parses. The expected bytes are written out
// by hand from the field tables (tag = field number << 3 | wire type), not produced by our encoder.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeMessage, encodeMessage, WireDecodeError, type MessageName, type Messages } from '../../src/wire/lpRpc.ts';

const hex = (...parts: string[]): string => parts.join('').replace(/\s+/g, '');
const b = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const addr = '11'.repeat(20);
const hash32 = 'ab'.repeat(32);

function golden<N extends MessageName>(name: N, value: Messages[N], expected: string): void {
  it(`${name} encodes to the hand-derived bytes and decodes back`, () => {
    assert.equal(Buffer.from(encodeMessage(name, value)).toString('hex'), expected);
    assert.deepEqual(normalize(decodeMessage(name, b(expected))), normalize(value));
  });
}

// Compare decoded messages ignoring protobufjs's oneof discriminator and Buffer vs Uint8Array.
function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => k !== 'result')
        .map(([k, x]) => [k, normalize(x)]),
    );
  }
  return v;
}

describe('lp_rpc wire format', () => {
  golden(
    'OrchestratorRequest',
    { address: b(addr), sig: b('aabb'), capabilities: { bitstring: [4099n] }, ignoreCapacityCheck: true },
    hex(
      '0a14',
      addr, // 1 address: bytes, 20
      '1202aabb', // 2 sig
      '1a04',
      '0a028320', // 3 capabilities { 1 bitstring packed [4099 = varint 83 20] }
      '2001', // 4 ignoreCapacityCheck = true
    ),
  );

  golden('PriceInfo', { pricePerUnit: 1200n, pixelsPerUnit: 1n, capability: 27, constraint: 'm' }, hex('08b009', '1001', '181b', '22016d'));

  golden(
    'Capabilities',
    { bitstring: [67112963n, 1n], mandatories: [4096n], capacities: { 1: 10 }, version: '0.9.1', constraints: { minVersion: '0.8.0' } },
    hex(
      '0a05',
      '83a08020',
      '01', // 1 bitstring packed: 67112963 = 83 a0 80 20, then 1
      '12028020', // 2 mandatories packed [4096 = 80 20]
      '1a04',
      '0801100a', // 3 capacities map entry { 1 key 1, 2 value 10 }
      '2205',
      Buffer.from('0.9.1').toString('hex'), // 4 version
      '2a07',
      '0a05',
      Buffer.from('0.8.0').toString('hex'), // 5 constraints { 1 minVersion }
    ),
  );

  golden(
    'AuthToken',
    { token: b('0102'), sessionId: 'abcd1234', expiration: 1700000000n },
    hex('0a020102', '1208', Buffer.from('abcd1234').toString('hex'), '18', '80e2cfaa06'),
  );

  const ticketParamsHex = hex(
    '0a14',
    addr, // 1 recipient
    '1203',
    '0f4240', // 2 face_value = 1,000,000 (minimal big-endian)
    '1a01',
    '05', // 3 win_prob = 5
    '2220',
    hash32, // 4 recipient_rand_hash
    '2a02',
    '0102', // 5 seed
    '3202',
    '0100', // 6 expiration_block = 256
    '3a24',
    '080a',
    '1220',
    hash32, // 7 expiration_params { 1 creation_round 10, 2 block hash }
  );
  const ticketParams = {
    recipient: b(addr),
    faceValue: b('0f4240'),
    winProb: b('05'),
    recipientRandHash: b(hash32),
    seed: b('0102'),
    expirationBlock: b('0100'),
    expirationParams: { creationRound: 10n, creationRoundBlockHash: b(hash32) },
  };
  golden('TicketParams', ticketParams, ticketParamsHex);
  golden('TicketExpirationParams', { creationRound: 300n, creationRoundBlockHash: b(hash32) }, hex('08ac02', '1220', hash32));
  golden('TicketSenderParams', { senderNonce: 600, sig: b('cc'.repeat(65)) }, hex('08d804', '1241', 'cc'.repeat(65)));

  golden(
    'Payment',
    {
      ticketParams: { recipient: b(addr), faceValue: b('0f4240'), winProb: b('05'), recipientRandHash: b(hash32), seed: b('0102'), expirationBlock: b('0100') },
      sender: b('22'.repeat(20)),
      expirationParams: { creationRound: 10n, creationRoundBlockHash: b(hash32) },
      ticketSenderParams: [
        { senderNonce: 1, sig: b('dd') },
        { senderNonce: 2, sig: b('ee') },
      ],
      expectedPrice: { pricePerUnit: 1n, pixelsPerUnit: 1n },
    },
    hex(
      '0a48',
      '0a14',
      addr,
      '12030f4240',
      '1a0105',
      '2220',
      hash32,
      '2a020102',
      '32020100', // 1 ticket_params (fields 1-6 only)
      '1214',
      '22'.repeat(20), // 2 sender
      '1a24',
      '080a',
      '1220',
      hash32, // 3 expiration_params
      '2205',
      '0801',
      '1201dd', // 4 ticket_sender_params[0]
      '2205',
      '0802',
      '1201ee', // 4 ticket_sender_params[1]
      '2a04',
      '08011001', // 5 expected_price
    ),
  );

  golden(
    'OrchestratorInfo',
    {
      transcoder: 'https://o:8935',
      priceInfo: { pricePerUnit: 3n, pixelsPerUnit: 1n },
      address: b(addr),
      authToken: { sessionId: 's' },
      storage: [{ storageType: 1 }],
      capabilitiesPrices: [{ pricePerUnit: 7n }],
      nodes: ['https://n:1'],
    },
    hex(
      '0a0e',
      Buffer.from('https://o:8935').toString('hex'), // 1 transcoder
      '1a04',
      '08031001', // 3 price_info
      '2214',
      addr, // 4 address
      '3203',
      '120173', // 6 auth_token { 2 session_id "s" }
      '820202',
      '0801', // 32 storage (tag 258 = 82 02) { 1 storageType S3 }
      '8a0202',
      '0807', // 33 capabilities_prices (tag 266 = 8a 02)
      '92020b',
      Buffer.from('https://n:1').toString('hex'), // 34 nodes (tag 274 = 92 02)
    ),
  );

  golden(
    'VideoProfile',
    {
      name: 'P',
      width: 426,
      height: 240,
      bitrate: 600000,
      fps: 30,
      format: 1,
      fpsDen: 1,
      profile: 2,
      gop: -1,
      encoder: 1,
      colorDepth: 2,
      chromaFormat: 1,
      quality: 23,
    },
    hex(
      '820101',
      '50', // 16 name (tag 130 = 82 01)
      '8801',
      'aa03', // 17 width 426
      '9001',
      'f001', // 18 height 240
      '9801',
      'c0cf24', // 19 bitrate 600000
      'a001',
      '1e', // 20 fps 30
      'a801',
      '01', // 21 format MP4
      'b001',
      '01', // 22 fpsDen
      'b801',
      '02', // 23 profile H264_MAIN
      'c001',
      'ffffffffffffffffff01', // 24 gop -1 (int32 negative: 10-byte varint)
      'c801',
      '01', // 25 encoder H265
      'd001',
      '02', // 26 colorDepth
      'd801',
      '01', // 27 chromaFormat 4:2:2
      'e001',
      '17', // 28 quality 23
    ),
  );

  golden(
    'SegData',
    {
      manifestId: b('616263'),
      seq: 5n,
      hash: b(hash32),
      profiles: b('696e76616c6964'),
      sig: b('aa'),
      duration: 2000,
      capabilities: { bitstring: [4099n] },
      authToken: { sessionId: 's' },
      calcPerceptualHash: true,
      fullProfiles: [{ name: 'a' }],
      fullProfiles2: [{ name: 'b' }],
      fullProfiles3: [{ name: 'c' }],
      segmentParameters: { from: 1n, to: 2n },
      ForceSessionReinit: true,
    },
    hex(
      '0a03616263', // 1 manifestId "abc"
      '1005', // 2 seq
      '1a20',
      hash32, // 3 hash
      '2207',
      '696e76616c6964', // 4 profiles "invalid"
      '2a01aa', // 5 sig
      '30d00f', // 6 duration 2000 ms
      '3a04',
      '0a028320', // 7 capabilities
      '4203',
      '120173', // 8 auth_token
      '5001', // 10 calc_perceptual_hash
      '8a0204',
      '82010161', // 33 fullProfiles [{ 16 name "a" }]
      '920204',
      '82010162', // 34 fullProfiles2
      '9a0204',
      '82010163', // 35 fullProfiles3
      'aa0204',
      '08011002', // 37 segment_parameters {from 1, to 2}
      'b00201', // 38 ForceSessionReinit
    ),
  );

  golden(
    'TranscodeResult',
    {
      seq: 7n,
      data: { segments: [{ url: 'u', pixels: 1000n, perceptualHashUrl: 'p' }], sig: b('99') },
      info: { transcoder: 't' },
    },
    hex(
      '0807', // 1 seq
      '1a0e',
      '0a09',
      '0a0175',
      '10e807',
      '1a0170',
      '120199', // 3 data { 1 segments[{url, pixels 1000, phash}], 2 sig }
      '820103',
      '0a0174', // 16 info { transcoder "t" }
    ),
  );
  golden('TranscodeResult', { seq: 1n, error: 'OrchestratorBusy' }, hex('0801', '1210', Buffer.from('OrchestratorBusy').toString('hex')));
  golden('EndTranscodingSessionRequest', { authToken: { sessionId: 's', expiration: 1n } }, hex('0a05', '120173', '1801'));
  golden('OSInfo', { storageType: 1, s3info: { host: 'h' } }, hex('0801', '820103', '0a0168'));

  it('skips fields it does not know (newer orchestrators) instead of failing', () => {
    // OrchestratorInfo { 1 transcoder "t", 99 unknown varint 5 }
    const info = decodeMessage('OrchestratorInfo', b(hex('0a0174', '98060' + '5')));
    assert.equal(info.transcoder, 't');
  });

  it('parses hardware info (parse-only message)', () => {
    // OrchestratorInfo { 7 hardware [{ 1 pipeline "x", 3 gpu_info { "0": { 2 name "g", 7 memory_total 8 } } }] }
    const gpu = hex('1201', '67', '3808'); // GPUComputeInfo { 2 name "g", 7 memory_total 8 }
    const entry = hex('0a0130', `12${(gpu.length / 2).toString(16).padStart(2, '0')}`, gpu); // map entry { key "0", value }
    const hw = hex('0a0178', `1a${(entry.length / 2).toString(16).padStart(2, '0')}`, entry);
    const info = decodeMessage('OrchestratorInfo', b(hex(`3a${(hw.length / 2).toString(16).padStart(2, '0')}`, hw)));
    assert.deepEqual(normalize(info.hardware), [{ pipeline: 'x', gpuInfo: { '0': { name: 'g', memoryTotal: 8n } } }]);
  });

  it('turns hostile bytes into a WireDecodeError, never a crash', () => {
    for (const bad of ['ff', '0a05aa', '1a0a0a', '08ffffffffffffffffffff01', '0a']) {
      assert.throws(() => decodeMessage('TranscodeResult', b(bad)), WireDecodeError);
    }
  });
});
