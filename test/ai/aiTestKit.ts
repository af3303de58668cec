// Helpers for AI tests: request bodies for each pipeline (real PNG and WAV inputs) and checks of
// what comes back.
import assert from 'node:assert/strict';
import { drawImage, speak } from '../../scripts/devnet/orchestrator/ai/standIns.ts';

export const INPUT_PNG = drawImage('input picture', 64, 48);
export const INPUT_WAV = speak('three seconds of speech to transcribe, more or less, for the test'.repeat(1));

export function multipart(fields: Record<string, string>, file?: { field: string; name: string; type: string; data: Buffer }): FormData {
  const form = new FormData();
  if (file) form.append(file.field, new Blob([new Uint8Array(file.data)], { type: file.type }), file.name);
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return form;
}

export interface PipelineCase {
  pipeline: string;
  body: () => { body: string | FormData; headers?: Record<string, string> };
  /** units the orchestrator debits for it (docs/ai.md) */
  units: bigint;
  model: string;
  cap: number;
  check: (json: Record<string, unknown>, base: string) => Promise<void>;
}

const json = (o: unknown) => ({ body: JSON.stringify(o), headers: { 'Content-Type': 'application/json' } });
const image = (fields: Record<string, string> = {}) => ({ body: multipart(fields, { field: 'image', name: 'in.png', type: 'image/png', data: INPUT_PNG }) });

export async function fetchMedia(url: string, base: string): Promise<{ type: string; data: Buffer }> {
  assert.match(url, /^\/stream\/[0-9a-f]{8}\/[A-Za-z0-9._-]+$/, 'a relative URL re-hosted by the gateway');
  const r = await fetch(new URL(url, base));
  assert.equal(r.status, 200);
  return { type: r.headers.get('content-type') ?? '', data: Buffer.from(await r.arrayBuffer()) };
}

export async function checkImages(j: Record<string, unknown>, base: string, count = 1): Promise<Buffer[]> {
  const images = j.images as { url: string; seed: number; nsfw: boolean }[];
  assert.equal(images.length, count);
  const out = [];
  for (const img of images) {
    assert.equal(typeof img.seed, 'number');
    assert.equal(typeof img.nsfw, 'boolean');
    const m = await fetchMedia(img.url, base);
    assert.equal(m.type, 'image/png');
    assert.equal(m.data.subarray(1, 4).toString('latin1'), 'PNG');
    out.push(m.data);
  }
  return out;
}

const pngSize = (b: Buffer) => ({ width: b.readUInt32BE(16), height: b.readUInt32BE(20) });

export const PIPELINE_CASES: PipelineCase[] = [
  {
    pipeline: 'text-to-image',
    body: () => json({ prompt: 'a mountain at dawn', model_id: 'SG161222/RealVisXL_V4.0_Lightning', width: 256, height: 128, num_images_per_prompt: 2 }),
    units: 256n * 128n * 2n,
    model: 'SG161222/RealVisXL_V4.0_Lightning',
    cap: 27,
    check: async (j, base) => {
      const imgs = await checkImages(j, base, 2);
      assert.deepEqual(pngSize(imgs[0]!), { width: 256, height: 128 });
    },
  },
  {
    pipeline: 'image-to-image',
    body: () => image({ prompt: 'make it blue', strength: '0.5' }),
    units: 64n * 48n,
    model: 'stabilityai/sdxl-turbo',
    cap: 28,
    check: async (j, base) => {
      const [img] = await checkImages(j, base);
      assert.deepEqual(pngSize(img!), { width: 64, height: 48 });
    },
  },
  {
    pipeline: 'image-to-video',
    body: () => image({ width: '128', height: '96' }),
    units: 128n * 96n * 25n,
    model: 'stabilityai/stable-video-diffusion-img2vid-xt',
    cap: 29,
    check: async (j, base) => {
      const images = j.images as { url: string }[];
      assert.equal(images.length, 1);
      assert.match(images[0]!.url, /\.mp4$/);
      const m = await fetchMedia(images[0]!.url, base);
      assert.equal(m.type, 'video/mp4');
      assert.equal(m.data.subarray(4, 8).toString('latin1'), 'ftyp');
    },
  },
  {
    pipeline: 'upscale',
    body: () => image({ prompt: 'sharper' }),
    units: 64n * 48n,
    model: 'stabilityai/stable-diffusion-x4-upscaler',
    cap: 30,
    check: async (j, base) => {
      const [img] = await checkImages(j, base);
      assert.deepEqual(pngSize(img!), { width: 128, height: 96 });
    },
  },
  {
    pipeline: 'audio-to-text',
    body: () => ({ body: multipart({ return_timestamps: 'true' }, { field: 'audio', name: 'speech.wav', type: 'audio/wav', data: INPUT_WAV }) }),
    units: 4000n,
    model: 'openai/whisper-large-v3',
    cap: 31,
    check: async (j) => {
      assert.equal(j.text, '4 seconds of audio');
      assert.deepEqual(j.chunks, [{ timestamp: [0, 4], text: '4 seconds of audio' }]);
    },
  },
  {
    pipeline: 'segment-anything-2',
    body: () => image({ point_coords: '[[10, 20]]', point_labels: '[1]', multimask_output: 'true' }),
    units: 64n * 48n,
    model: 'facebook/sam2-hiera-large',
    cap: 32,
    check: async (j) => {
      assert.equal(typeof j.masks, 'string');
      assert.equal(typeof j.scores, 'string');
      assert.equal(typeof j.logits, 'string');
    },
  },
  {
    pipeline: 'llm',
    body: () => json({ messages: [{ role: 'user', content: 'tell me about mountains' }], max_tokens: 50 }),
    units: 50n,
    model: 'meta-llama/llama-3.1-8B-Instruct',
    cap: 33,
    check: async (j) => {
      const choices = j.choices as { message: { role: string; content: string }; finish_reason: string }[];
      assert.equal(choices[0]!.message.content, 'You said: tell me about mountains');
      assert.equal(choices[0]!.finish_reason, 'stop');
    },
  },
  {
    pipeline: 'image-to-text',
    body: () => image({ prompt: 'what is it' }),
    units: 64n * 48n,
    model: 'Salesforce/blip-image-captioning-large',
    cap: 34,
    check: async (j) => {
      assert.equal(j.text, 'a picture of 64x48 pixels (what is it)');
    },
  },
  {
    pipeline: 'text-to-speech',
    body: () => json({ text: 'Hello, wörld' }),
    units: 12n * 1000n,
    model: 'parler-tts/parler-tts-large-v1',
    cap: 36,
    check: async (j, base) => {
      const url = (j.audio as { url: string }).url;
      assert.match(url, /\.wav$/);
      const m = await fetchMedia(url, base);
      assert.equal(m.type, 'audio/wav');
      assert.equal(m.data.subarray(8, 12).toString('latin1'), 'WAVE');
    },
  },
];

export async function post(
  base: string,
  pipeline: string,
  req: { body: string | FormData; headers?: Record<string, string> },
): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`${base}/${pipeline}`, { method: 'POST', body: req.body, ...(req.headers ? { headers: req.headers } : {}) });
  const text = await r.text();
  let j: Record<string, unknown> = {};
  try {
    j = JSON.parse(text);
  } catch {
    j = { raw: text };
  }
  return { status: r.status, json: j };
}
