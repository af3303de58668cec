// The AI gateway off-chain (-orchAddr) against devnet AI orchestrators: every pipeline end to end, the
// docs' first example, the OpenAI client, selection per (capability, model), and hostile orchestrators.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { DEFAULT_AI_MODELS, type AiFault } from '../../scripts/devnet/orchestrator/ai/config.ts';
import { startOrchestrator, type RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { startTestGateway, type TestGateway } from '../e2e/helpers.ts';
import { checkImages, fetchMedia, INPUT_PNG, multipart, PIPELINE_CASES, post } from './aiTestKit.ts';

const CAPACITY_MODEL = 'test/capacity-model';
const COLD_MODEL = 'test/cold-only-model';

describe('AI gateway off-chain (-orchAddr)', () => {
  let o1: RunningOrchestrator;
  let o2: RunningOrchestrator;
  let gw: TestGateway;
  let base: string;
  before(async () => {
    o1 = await startOrchestrator({
      logLevel: 'silent',
      ai: { models: [...DEFAULT_AI_MODELS, { pipeline: 'text-to-image', modelId: CAPACITY_MODEL, warm: true, capacity: 4 }] },
    });
    o2 = await startOrchestrator({
      logLevel: 'silent',
      ai: {
        models: [
          { pipeline: 'text-to-image', modelId: CAPACITY_MODEL, warm: true, capacity: 0 },
          { pipeline: 'text-to-image', modelId: COLD_MODEL, warm: false },
        ],
      },
    });
    gw = await startTestGateway({ orchAddr: `${o1.uri},${o2.uri}` });
    base = gw.gateway.httpUrl;
  });
  after(async () => {
    await gw?.stop();
    await o1?.stop();
    await o2?.stop();
  });

  for (const c of PIPELINE_CASES) {
    it(`${c.pipeline}: 200 with the right output type`, async () => {
      const r = await post(base, c.pipeline, c.body());
      assert.equal(r.status, 200, JSON.stringify(r.json));
      await c.check(r.json, base);
    });
  }

  it("the docs' first request returns {images:[{url}]} whose URL serves a real PNG", async () => {
    const r = await post(base, 'text-to-image', {
      body: JSON.stringify({ prompt: 'a mountain at dawn', model_id: 'SG161222/RealVisXL_V4.0_Lightning' }),
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(r.status, 200);
    const [png] = await checkImages(r.json, base);
    assert.equal(png!.readUInt32BE(16), 512);
    assert.equal(png!.readUInt32BE(20), 512);
  });

  it('llm stream:true relays server-sent events token by token and ends after the finish reason', async () => {
    const r = await fetch(`${base}/llm`, { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: 'one two three' }], stream: true }) });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/event-stream');
    const events = (await r.text()).split('\n\n').filter(Boolean);
    assert.ok(events.every((e) => e.startsWith('data: ')));
    const chunks = events.map((e) => JSON.parse(e.slice(6)) as { choices: { delta: { content: string }; finish_reason: string }[] });
    assert.equal(chunks.map((c) => c.choices[0]!.delta.content).join(''), 'You said: one two three');
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'stop');
    assert.ok(chunks.slice(0, -1).every((c) => c.choices[0]!.finish_reason === ''));
  });

  it('image-to-video with Prefer: respond-async: 202, then the result route', async () => {
    const r = await fetch(`${base}/image-to-video`, {
      method: 'POST',
      headers: { Prefer: 'respond-async' },
      body: multipart({ width: '64', height: '64' }, { field: 'image', name: 'a.png', type: 'image/png', data: INPUT_PNG }),
    });
    assert.equal(r.status, 202);
    const { request_id } = (await r.json()) as { request_id: string };
    assert.match(request_id, /^[0-9a-f]{8}$/);
    let result: { status: string; result?: { images: { url: string }[] } } | undefined;
    for (let i = 0; i < 300; i++) {
      const p = await fetch(`${base}/image-to-video/result`, { method: 'POST', body: JSON.stringify({ request_id }) });
      result = (await p.json()) as typeof result;
      if (p.status === 200) break;
      assert.equal(p.status, 202);
      assert.equal(result!.status, 'processing');
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(result?.status, 'complete');
    const m = await fetchMedia(result!.result!.images[0]!.url, base);
    assert.equal(m.type, 'video/mp4');
    const bad = await fetch(`${base}/image-to-video/result`, { method: 'POST', body: JSON.stringify({ request_id: 'ffffffff' }) });
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { error: { message: 'invalid request ID' } });
  });

  it('the official openai client, only its base URL changed, streams a chat completion', async () => {
    const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'unused' });
    const stream = await client.chat.completions.create({
      model: 'meta-llama/llama-3.1-8B-Instruct',
      messages: [{ role: 'user', content: 'hello from the openai sdk' }],
      stream: true,
    });
    let text = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(text, 'You said: hello from the openai sdk');
    assert.equal(finish, 'stop');
    const once = await client.chat.completions.create({ model: 'meta-llama/llama-3.1-8B-Instruct', messages: [{ role: 'user', content: 'again' }] });
    assert.equal(once.choices[0]!.message.content, 'You said: again');
    const models = await client.models.list();
    assert.ok(models.data.some((m) => m.id === 'meta-llama/llama-3.1-8B-Instruct'));
  });

  it('a model nobody serves: 503 with a message that names it', async () => {
    const r = await post(base, 'text-to-image', { body: JSON.stringify({ prompt: 'x', model_id: 'nobody/serves-this' }) });
    assert.equal(r.status, 503);
    assert.match((r.json.error as { message: string }).message, /no orchestrator serves model nobody\/serves-this for text-to-image/);
    const status = (await gw.gateway.status()).AI as { model: string; candidates: { state: string; reason?: string }[] }[];
    const entry = status.find((s) => s.model === 'nobody/serves-this')!;
    assert.equal(entry.candidates.length, 2);
    assert.ok(entry.candidates.every((c) => c.state === 'excluded' && /nobody\/serves-this/.test(c.reason ?? '')));
  });

  it('a cold-only model is still served', async () => {
    const r = await post(base, 'text-to-image', { body: JSON.stringify({ prompt: 'cold', model_id: COLD_MODEL, width: 64, height: 64 }) });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    await checkImages(r.json, base);
    const status = (await gw.gateway.status()).AI as { model: string; candidates: { uri: string; state: string }[] }[];
    assert.deepEqual(
      status
        .find((s) => s.model === COLD_MODEL)!
        .candidates.filter((c) => c.state === 'cold')
        .map((c) => c.uri),
      [o2.uri],
    );
  });

  it('insufficient capacity moves the request to another orchestrator without suspending the first', async () => {
    const jobsBefore = o2.ai!.stats.jobs['text-to-image'] ?? 0;
    for (let i = 0; i < 6 && !o2.ai!.stats.refusals[503]; i++) {
      const r = await post(base, 'text-to-image', { body: JSON.stringify({ prompt: `cap ${i}`, model_id: CAPACITY_MODEL, width: 64, height: 64 }) });
      assert.equal(r.status, 200, JSON.stringify(r.json));
    }
    assert.ok((o2.ai!.stats.refusals[503] ?? 0) >= 1, 'the full orchestrator was tried');
    assert.equal(o2.ai!.stats.jobs['text-to-image'] ?? 0, jobsBefore, 'no job ran on the full orchestrator');
    const status = (await gw.gateway.status()).AI as { model: string; candidates: { uri: string; state: string; reason?: string }[] }[];
    const o2State = status.find((s) => s.model === CAPACITY_MODEL)!.candidates.find((c) => c.uri === o2.uri)!;
    assert.equal(o2State.state, 'set-aside');
    assert.match(o2State.reason ?? '', /insufficient capacity/);
  });

  it('state-changing routes are POST only', async () => {
    for (const path of ['/text-to-image', '/llm', '/image-to-video/result', '/v1/chat/completions']) {
      const r = await fetch(`${base}${path}`);
      assert.equal(r.status, 405, path);
      assert.equal(r.headers.get('allow'), 'POST');
    }
  });
});

describe('AI gateway against hostile orchestrators', () => {
  const cases: { fault: AiFault; status: number }[] = [
    { fault: 'foreign-output-url', status: 500 },
    { fault: 'not-json', status: 500 },
    { fault: 'wrong-output-type', status: 500 },
    { fault: 'huge-answer', status: 503 },
    { fault: 'job-failure', status: 503 },
  ];
  const running: { stop(): Promise<void> }[] = [];
  after(async () => {
    for (const r of running.reverse()) await r.stop();
  });
  for (const c of cases) {
    it(`${c.fault}: ${c.status}, nothing re-hosted, and the gateway keeps serving`, async () => {
      const o = await startOrchestrator({ logLevel: 'silent', ai: { models: DEFAULT_AI_MODELS, fault: c.fault } });
      running.push(o);
      const gw = await startTestGateway({ orchAddr: o.uri, aiProcessingRetryTimeout: '300ms' });
      running.push(gw);
      for (const pipeline of ['text-to-image', 'text-to-speech']) {
        const body = pipeline === 'text-to-image' ? { prompt: 'x', width: 64, height: 64 } : { text: 'hi' };
        const r = await post(gw.gateway.httpUrl, pipeline, { body: JSON.stringify(body) });
        assert.equal(r.status, c.status, `${pipeline}: ${JSON.stringify(r.json)}`);
        assert.equal(typeof (r.json.error as { message?: unknown }).message, 'string');
      }
      assert.equal(gw.gateway.ai.media.size.bytes, 0);
      const status = (await gw.gateway.status()).AI as { candidates: { state: string }[] }[];
      assert.ok(status.every((s) => s.candidates.every((x) => x.state === 'suspended' || x.state === 'warm')));
      assert.equal((await fetch(`${gw.gateway.httpUrl}/healthz`)).status, 200);
    });
  }
});
