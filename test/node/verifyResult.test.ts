// -localVerify's pixel check with the sampled decode on: renditions counted from the bitstream, each
// compared with what the orchestrator billed for it, then decoded together after the result is handed back.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ffmpegPath, mediaToolEnv } from '../../src/media/ffmpegBinaries.ts';
import type { SubmitResult } from '../../src/net/segment.ts';
import { VerificationError, verifyResult } from '../../src/node/verifyResult.ts';
import type { OrchestratorInfo } from '../../src/wire/lpRpc.ts';

const run = promisify(execFile);

async function rendition(size: string): Promise<Buffer> {
  const args = [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${size}:rate=30`,
    '-t',
    '1',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-f',
    'mpegts',
    'pipe:1',
  ];
  return (await run(ffmpegPath(), args, { env: mediaToolEnv('ffmpeg'), encoding: 'buffer', maxBuffer: 16 << 20 })).stdout;
}

// no ticket params: an off-chain orchestrator, whose results carry no signature to check
const info: OrchestratorInfo = { transcoder: 'https://o.example:8935' };

function result(renditions: Array<{ data: Buffer; pixels: bigint }>): SubmitResult {
  return {
    seq: 0n,
    renditions: renditions.map((r, i) => ({ url: `https://o.example/r${i}.ts`, ...r })),
    sig: new Uint8Array(0),
    pixels: renditions.reduce((n, r) => n + r.pixels, 0n),
    uploadMs: 0,
    transcodeMs: 0,
    downloadMs: 0,
  } as SubmitResult;
}

test('with every segment decoded, honest renditions pass and one over-billed rendition is named', async () => {
  const [a, b] = [await rendition('256x144'), await rendition('426x240')];
  const names = ['P144p30fps16x9', 'P240p30fps16x9'];
  const honest = [
    { data: a, pixels: 256n * 144n * 30n },
    { data: b, pixels: 426n * 240n * 30n },
  ];
  const passed = await verifyResult(result(honest), info, names, 1);
  assert.ok(passed.decodeCheck, 'every segment sampled');
  await passed.decodeCheck;
  assert.equal((await verifyResult(result(honest), info, names, 0)).decodeCheck, undefined, 'none sampled');
  const over = [honest[0]!, { data: b, pixels: 426n * 240n * 31n }];
  await assert.rejects(
    verifyResult(result(over), info, names, 1),
    (err: Error) => err instanceof VerificationError && /P240p30fps16x9: orchestrator billed/.test(err.message),
  );
  const broken = [honest[0]!, { data: b.subarray(0, 188 * 3), pixels: 426n * 240n * 30n }];
  await assert.rejects(verifyResult(result(broken), info, names, 1), VerificationError);
});

/**
 * Some P slices pointed at a PPS the stream never sends (the 7-bit slice header start rewritten in place):
 * the bitstream still holds a picture per slice, the decoder skips those pictures.
 */
function missingPps(ts: Buffer, slices: number): Buffer {
  const bad = Buffer.from(ts);
  let patched = 0;
  for (let i = 0; i + 4 < bad.length && patched < slices; i++) {
    // NAL type 1 whose header starts first_mb_in_slice 0, slice_type 5 (P), pps_id 0: 1 00110 1
    if (bad[i] === 0 && bad[i + 1] === 0 && bad[i + 2] === 1 && (bad[i + 3]! & 0x1f) === 1 && (bad[i + 4]! & 0xfe) === 0x9a) {
      bad[i + 4] = 0xca | (bad[i + 4]! & 1); // 1 1 00101 1: slice_type 0 (P), pps_id 4
      patched++;
    }
  }
  assert.equal(patched, slices);
  return bad;
}

test('hostile renditions that count right but do not decode: passed on, and the sampled decode then fails', async () => {
  const a = await rendition('256x144');
  const names = ['P144p30fps16x9'];
  const lying = [{ data: missingPps(a, 3), pixels: 256n * 144n * 30n }];
  const verified = await verifyResult(result(lying), info, names, 1);
  assert.ok(verified.decodeCheck);
  await assert.rejects(verified.decodeCheck, (err: Error) => err instanceof VerificationError && /bitstream holds .* but decodes to/.test(err.message));
});
