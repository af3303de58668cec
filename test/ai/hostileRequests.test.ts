// Hostile clients: every bad body is a 400 (or 413) with a message that says what is wrong, answered
// before any orchestrator is asked or paid; nothing crashes the gateway.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../e2e/helpers.ts';
import { INPUT_PNG, INPUT_WAV, multipart, post } from './aiTestKit.ts';

describe('AI routes against hostile requests (no orchestrator needed)', () => {
  let gw: TestGateway;
  let base: string;
  before(async () => {
    gw = await startTestGateway({});
    base = gw.gateway.httpUrl;
  });
  after(async () => {
    await gw?.stop();
  });

  const message = (j: Record<string, unknown>) => (j.error as { message: string }).message;
  const png = { field: 'image', name: 'a.png', type: 'image/png', data: INPUT_PNG };

  const jsonCases: [string, string, RegExp][] = [
    ['text-to-image', '{"prompt": "x"', /not valid JSON/],
    ['text-to-image', '[1,2]', /JSON object/],
    ['text-to-image', '{"model_id": "m"}', /missing required field prompt/],
    ['text-to-image', '{"prompt": 5}', /prompt must be a string/],
    ['text-to-image', '{"prompt": "x", "width": 1.5}', /width must be an integer/],
    ['text-to-image', '{"prompt": "x", "height": 100000}', /height must be ≤ 4096/],
    ['text-to-image', '{"prompt": "x", "num_images_per_prompt": 1000}', /num_images_per_prompt must be ≤ 16/],
    ['text-to-image', `{"prompt": "x", "model_id": "${'m'.repeat(300)}"}`, /model_id is longer/],
    ['text-to-image', '{"prompt": "x", "model_id": "a\\u0000b"}', /control characters/],
    ['text-to-image', `{"prompt": "${'p'.repeat(70_000)}"}`, /prompt is longer than/],
    ['text-to-image', '{"prompt": "x", "safety_check": "yes"}', /safety_check must be true or false/],
    ['llm', '{"messages": []}', /messages must hold at least one/],
    ['llm', '{"messages": "hi"}', /messages must be a list/],
    ['llm', '{"messages": [{"role": 1, "content": "x"}]}', /role and content must be strings/],
    ['llm', '{"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}', /max_tokens must be ≥ 1/],
    ['text-to-speech', '{"description": "calm"}', /missing required field text/],
    ['text-to-speech', '{"text": ""}', /missing required field text/],
  ];
  for (const [pipeline, body, expected] of jsonCases) {
    it(`${pipeline} ${body.slice(0, 60)} → 400 ${expected}`, async () => {
      const r = await post(base, pipeline, { body, headers: { 'Content-Type': 'application/json' } });
      assert.equal(r.status, 400, JSON.stringify(r.json).slice(0, 200));
      assert.match(message(r.json), expected);
    });
  }

  it('a valid request with no orchestrator is a 503, not a 200 with an empty body', async () => {
    const r = await post(base, 'text-to-image', { body: '{"prompt": "x", "PROMPT": "y", "Width": 64, "unknown": [1]}' });
    assert.equal(r.status, 503);
    assert.match(message(r.json), /no orchestrator serves model stabilityai\/sdxl-turbo/);
  });

  it('bodies above the limit: 413 from the declared length, and when the length lies', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 0x20);
    const r = await fetch(`${base}/text-to-image`, { method: 'POST', body: big });
    assert.equal(r.status, 413);
    // chunked, no length declared
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/llm`, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 6; i++) req.write(Buffer.alloc(1024 * 1024, 0x20));
      req.end();
    }).catch(() => 413);
    assert.equal(status, 413);
  });

  const multipartCases: [string, () => FormData | string, RegExp, number?][] = [
    ['image-to-image', () => multipart({ prompt: 'x' }), /missing required field image/],
    ['image-to-image', () => multipart({}, png), /missing required field prompt/],
    ['image-to-image', () => multipart({ prompt: 'x' }, { ...png, data: Buffer.from('<svg></svg>') }), /not a PNG, JPEG or GIF/],
    ['upscale', () => multipart({ prompt: 'x', seed: 'abc' }, png), /seed must be an integer/],
    ['image-to-video', () => multipart({ fps: '1e9' }, png), /fps must be an integer/],
    ['segment-anything-2', () => multipart({ multimask_output: 'maybe' }, png), /multimask_output must be true or false/],
    [
      'audio-to-text',
      () => multipart({}, { field: 'audio', name: 'a.wav', type: 'audio/wav', data: Buffer.from('not audio at all') }),
      /audio file cannot be read/,
    ],
    ['audio-to-text', () => multipart({}, { field: 'audio', name: 'a.wav', type: 'audio/wav', data: INPUT_WAV.subarray(0, 44) }), /audio/],
    ['image-to-text', () => '{"image": "x"}', /multipart\/form-data/],
  ];
  for (const [pipeline, body, expected, status] of multipartCases) {
    it(`${pipeline} multipart → ${status ?? 400} ${expected}`, async () => {
      const r = await post(base, pipeline, { body: body() });
      assert.equal(r.status, status ?? 400, JSON.stringify(r.json).slice(0, 300));
      assert.match(message(r.json), expected);
    });
  }

  it('multipart: two files, too many fields, an oversized file, a truncated body', async () => {
    const two = multipart({ prompt: 'x' }, png);
    two.append('image', new Blob([new Uint8Array(INPUT_PNG)]), 'b.png');
    let r = await post(base, 'image-to-image', { body: two });
    assert.equal(r.status, 400);
    assert.match(message(r.json), /only one file/);

    const many = multipart({ prompt: 'x' }, png);
    for (let i = 0; i < 40; i++) many.append(`f${i}`, 'v');
    r = await post(base, 'image-to-image', { body: many });
    assert.equal(r.status, 400);

    // The 413 can arrive while the client is still uploading; a client that then sees the connection end
    // instead is fine too: what matters is that the upload is refused and the gateway stays up.
    r = await post(base, 'upscale', { body: multipart({ prompt: 'x' }, { ...png, data: Buffer.alloc(21 * 1024 * 1024) }) }).catch(() => ({
      status: 413,
      json: {},
    }));
    assert.equal(r.status, 413);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);

    const cut = await fetch(`${base}/image-to-text`, {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/form-data; boundary=XYZ' },
      body: '--XYZ\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\nabc',
    });
    assert.equal(cut.status, 400);
  });

  it('still healthy afterwards', async () => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/stream/deadbeef/nothing.png`)).status, 404);
  });
});
