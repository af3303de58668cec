// The AI side of a devnet orchestrator, mounted on its TLS server: advertises AI capabilities and
// models, prices GetOrchestrator for the (capability, model) a gateway asks about, and serves the batch
// pipeline routes with go-livepeer's order of checks (docs/ai.md, the orchestrator call):
// payment decode (402), SegData/signature/capabilities/auth token (403), input (400), model capacity
// (503), tickets credited to (sender, "<cap>_<model>") (400), balance (400), job (500), debit units × price (200).
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { randomBytes } from 'node:crypto';
import { keccak256 } from '../../../../src/lib/keccak.ts';
import busboy from 'busboy';
import { imageSize } from 'image-size';
import type { Logger } from 'pino';
import type { Address } from 'viem';
import { DEFAULT_NODE_CAPABILITIES } from '../../../../src/net/aiCapabilities.ts';
import { capabilitiesCompatible } from '../../../../src/net/capabilities.ts';
import { probeBuffer } from '../../../../src/media/probe.ts';
import { concatBytes, be32 } from '../../../../src/lib/bytes.ts';
import { add, cmp, mul, rat, type Rat } from '../../../../src/lib/rat.ts';
import { verifyPersonalSignature } from '../../../../src/pm/signer.ts';
import { decodeMessage, type Capabilities, type Payment, type SegData } from '../../../../src/wire/lpRpc.ts';
import type { AuthTokens } from '../authToken.ts';
import type { CapabilityContribution } from '../capabilities.ts';
import { type Accounts, PaymentError, paymentSender, type PaymentOutcome } from '../payments.ts';
import { capabilityOf, type AiModelSpec, type AiWorkerOptions } from './config.ts';
import { drawImage, llmTokens, makeVideo, speak } from './standIns.ts';

/** What the worker needs from the orchestrator it is mounted on. */
export interface AiHost {
  uri(): string;
  /** everything the orchestrator advertises now (video and AI): jobs are checked against it */
  capabilities(): Capabilities;
  onChain: boolean;
  ticketEV: bigint;
  tokens: AuthTokens;
  accounts: Accounts;
  /** tickets taken (stats, redemption) */
  onPayment(outcome: PaymentOutcome): void;
  log: Logger;
  signal: AbortSignal;
}

export interface AiWorkerStats {
  /** successful jobs per pipeline */
  jobs: Record<string, number>;
  /** refusals by status */
  refusals: Record<number, number>;
  ticketsReceived: number;
  /** units debited per "<cap>_<model>" */
  unitsDebited: Record<string, bigint>;
}

export interface AiWorker {
  stats: AiWorkerStats;
  /** the AI capabilities and models the orchestrator advertises, read again on every GetOrchestrator */
  contribution(): CapabilityContribution;
  /** the price a GetOrchestrator with these capabilities is quoted (undefined: not an AI request) */
  priceFor(request: Capabilities | undefined): Rat | undefined;
  /** handles an AI route; false when the path is not one */
  handle(req: Http2ServerRequest, res: Http2ServerResponse, path: string): Promise<boolean>;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Served {
  spec: AiModelSpec;
  cap: number;
  price: Rat;
  inUse: number;
}

interface Input {
  fields: Record<string, string>;
  json?: Record<string, unknown>;
  file?: Buffer;
}

const MAX_BODY = 60 * 1024 * 1024;
const OUTPUT_TTL_MS = 10 * 60_000;
const EMPTY_HASH = keccak256(new Uint8Array(0));

function strictBase64(text: string): Buffer {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new Error('illegal base64 data');
  return Buffer.from(text, 'base64');
}

function readJson(req: Http2ServerRequest): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Refusal(413, 'request too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function readMultipart(req: Http2ServerRequest): Promise<Input> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers as Record<string, string>, limits: { fileSize: MAX_BODY, files: 1, fields: 40 } });
    } catch (err) {
      reject(new Refusal(400, (err as Error).message));
      return;
    }
    const fields: Record<string, string> = {};
    let file: Buffer | undefined;
    bb.on('field', (name, value) => {
      fields[name] = value;
    });
    bb.on('file', (_name, stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        file = Buffer.concat(chunks);
      });
    });
    bb.on('error', (err: Error) => reject(new Refusal(400, err.message)));
    bb.on('close', () => resolve({ fields, ...(file ? { file } : {}) }));
    req.pipe(bb);
  });
}

function fixed32(b: Uint8Array | undefined): Uint8Array {
  const out = new Uint8Array(32);
  if (b) out.set(b.length > 32 ? b.subarray(b.length - 32) : b, 32 - Math.min(32, b.length));
  return out;
}

function imageDims(file: Buffer | undefined): { width: number; height: number } {
  if (!file) throw new Refusal(400, 'missing image');
  try {
    const s = imageSize(file);
    if (!['png', 'jpg', 'gif'].includes(s.type ?? '') || !s.width || !s.height) throw new Error();
    return { width: s.width, height: s.height };
  } catch {
    throw new Refusal(400, 'image: unknown format');
  }
}

const intOf = (v: unknown, fallback: number): number => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? Math.trunc(n) : fallback;
};

export function createAiWorker(opts: AiWorkerOptions, host: AiHost): AiWorker {
  const runnerVersion = opts.runnerVersion ?? '0.14.0';
  const served = new Map<string, Served>();
  for (const spec of opts.models) {
    const cap = capabilityOf(spec.pipeline);
    served.set(`${cap}_${spec.modelId}`, { spec, cap, price: rat(spec.pricePerUnit ?? 1n, spec.pixelsPerUnit ?? 1n), inUse: 0 });
  }
  const stats: AiWorkerStats = { jobs: {}, refusals: {}, ticketsReceived: 0, unitsDebited: {} };
  const outputs = new Map<string, { data: Buffer; type: string; at: number }>();

  function perCapability(): Record<number, { models: Record<string, unknown> }> {
    const per: Record<number, { models: Record<string, unknown> }> = {};
    for (const s of served.values()) {
      per[s.cap] ??= { models: {} };
      per[s.cap]!.models[s.spec.modelId] = { warm: s.spec.warm ?? true, capacity: s.spec.capacity ?? 4, runnerVersion, capacityInUse: s.inUse };
    }
    return per;
  }

  function contribution(): CapabilityContribution {
    const ids = [...new Set([...DEFAULT_NODE_CAPABILITIES, ...[...served.values()].map((s) => s.cap)])];
    const capacities: Record<number, number> = Object.fromEntries(ids.map((id) => [id, 1]));
    for (const s of served.values()) capacities[s.cap] = Math.max(capacities[s.cap] ?? 0, s.spec.capacity ?? 4);
    return { ids, capacities, perCapability: perCapability() };
  }

  // go-livepeer prices only capabilities that are keys of `capacities` and carry model constraints: the sum of those models' prices
  function priceFor(request: Capabilities | undefined): Rat | undefined {
    const per = request?.constraints?.PerCapability as Record<string, { models?: Record<string, unknown> }> | undefined;
    if (!per) return undefined;
    let total: Rat | undefined;
    for (const [capText, c] of Object.entries(per)) {
      if (request?.capacities?.[Number(capText)] === undefined) continue;
      for (const model of Object.keys(c?.models ?? {})) {
        const s = served.get(`${capText}_${model}`);
        if (s) total = total ? add(total, s.price) : s.price;
      }
    }
    return total;
  }

  function storeOutput(data: Buffer, ext: string, type: string): string {
    const now = Date.now();
    for (const [k, v] of outputs) if (now - v.at > OUTPUT_TTL_MS) outputs.delete(k);
    const path = `/stream/${randomBytes(4).toString('hex')}/${randomBytes(4).toString('hex')}.${ext}`;
    outputs.set(path, { data, type, at: now });
    return path;
  }

  /** An output reference: a URL on this orchestrator, or a data: URL for clients that are not gateways. */
  function outputUrl(req: Http2ServerRequest, data: Buffer, ext: string, type: string): string {
    if (opts.fault === 'foreign-output-url') return `https://example.invalid${storeOutput(data, ext, type)}`;
    if (req.headers.authorization !== 'Livepeer-AI-Worker-1.0' && ext === 'png') return `data:image/png;base64,${data.toString('base64')}`;
    return `${host.uri()}${storeOutput(data, ext, type)}`;
  }

  function checkHeaders(req: Http2ServerRequest): { payment: Payment; seg: SegData; sender: Address; manifestId: string } {
    let payment: Payment;
    try {
      payment = decodeMessage('Payment', strictBase64(String(req.headers['livepeer-payment'] ?? '')));
    } catch (err) {
      throw new Refusal(402, `could not decode payment: ${(err as Error).message}`);
    }
    const sender = paymentSender(payment);
    let seg: SegData;
    try {
      seg = decodeMessage('SegData', strictBase64(String(req.headers['livepeer-segment'] ?? '')));
    } catch {
      throw new Refusal(403, 'ErrorSegEncoding');
    }
    const manifestId = new TextDecoder().decode(seg.manifestId ?? new Uint8Array(0));
    if (host.onChain) {
      const flat = concatBytes(seg.manifestId ?? new Uint8Array(0), be32(seg.seq ?? 0n), fixed32(seg.hash ?? EMPTY_HASH));
      if (!verifyPersonalSignature(sender, keccak256(flat), seg.sig ?? new Uint8Array(0))) throw new Refusal(403, 'ErrSegSig');
    }
    if (!capabilitiesCompatible(seg.capabilities ?? { bitstring: [] }, host.capabilities())) throw new Refusal(403, 'incompatible capabilities');
    const token = seg.authToken;
    if (!token || !host.tokens.valid(token)) throw new Refusal(403, 'invalid auth token');
    if (host.tokens.expired(token)) throw new Refusal(403, 'expired auth token');
    return { payment, seg, sender, manifestId };
  }

  interface Job {
    modelId: string;
    units: bigint;
    run(): Promise<unknown>;
  }

  /** Input checks (400) and the units of a job. */
  async function prepare(pipeline: string, req: Http2ServerRequest, input: Input): Promise<Job> {
    const f = input.fields;
    const j = input.json ?? {};
    const modelId = String((pipeline === 'llm' ? j.model : (j.model_id ?? f.model_id)) ?? '');
    if (!modelId) throw new Refusal(400, 'missing model_id');
    const seed = intOf(j.seed ?? f.seed, 0);
    const prompt = String(j.prompt ?? f.prompt ?? '');
    const image = (img: Buffer) => ({ url: outputUrl(req, img, 'png', 'image/png'), seed, nsfw: false });
    switch (pipeline) {
      case 'text-to-image': {
        const h = intOf(j.height, 512);
        const w = intOf(j.width, 512);
        const n = Math.max(1, intOf(j.num_images_per_prompt, 1));
        if (h < 1 || w < 1 || h > 2048 || w > 2048 || n > 8) throw new Refusal(400, 'image size out of range');
        return {
          modelId,
          units: BigInt(h * w * n),
          run: async () => ({ images: Array.from({ length: n }, (_, i) => image(drawImage(prompt, w, h, seed + i))) }),
        };
      }
      case 'image-to-image': {
        const { width, height } = imageDims(input.file);
        const n = Math.max(1, intOf(f.num_images_per_prompt, 1));
        return {
          modelId,
          units: BigInt(width * height * n),
          run: async () => ({ images: Array.from({ length: n }, (_, i) => image(drawImage(prompt, width, height, seed + i))) }),
        };
      }
      case 'upscale': {
        const { width, height } = imageDims(input.file);
        const [w, h] = [Math.min(width * 2, 2048), Math.min(height * 2, 2048)];
        return { modelId, units: BigInt(width * height), run: async () => ({ images: [image(drawImage(prompt, w, h, seed))] }) };
      }
      case 'image-to-video': {
        imageDims(input.file);
        const h = intOf(f.height, 576);
        const w = intOf(f.width, 1024);
        if (h < 16 || w < 16 || h > 2048 || w > 2048) throw new Refusal(400, 'video size out of range');
        const fps = Math.min(30, Math.max(1, intOf(f.fps, 7)));
        return {
          modelId,
          units: BigInt(h * w * 25),
          run: async () => {
            const mp4 = await makeVideo(w - (w % 2), h - (h % 2), 14, fps, host.signal);
            return { images: [{ url: outputUrl(req, mp4, 'mp4', 'video/mp4'), seed, nsfw: false }] };
          },
        };
      }
      case 'audio-to-text': {
        if (!input.file) throw new Refusal(400, 'missing audio');
        let seconds: number;
        try {
          seconds = Math.ceil((await probeBuffer(input.file, 15_000)).durationMs / 1000);
        } catch {
          throw new Refusal(400, 'audio: cannot read duration');
        }
        if (seconds <= 0) throw new Refusal(400, 'audio duration is 0');
        return {
          modelId,
          units: BigInt(seconds) * 1000n,
          run: async () => ({ text: `${seconds} seconds of audio`, chunks: [{ timestamp: [0, seconds], text: `${seconds} seconds of audio` }] }),
        };
      }
      case 'segment-anything-2': {
        const { width, height } = imageDims(input.file);
        return { modelId, units: BigInt(width * height), run: async () => ({ masks: '[[[0, 1], [1, 0]]]', scores: '[0.93]', logits: '[[[0.1, 0.9]]]' }) };
      }
      case 'image-to-text': {
        const { width, height } = imageDims(input.file);
        return { modelId, units: BigInt(width * height), run: async () => ({ text: `a picture of ${width}x${height} pixels${prompt ? ` (${prompt})` : ''}` }) };
      }
      case 'text-to-speech': {
        const text = String(j.text ?? '');
        if (!text) throw new Refusal(400, 'text is required');
        return { modelId, units: BigInt([...text].length) * 1000n, run: async () => ({ audio: { url: outputUrl(req, speak(text), 'wav', 'audio/wav') } }) };
      }
      case 'llm': {
        const maxTokens = intOf(j.max_tokens, 0);
        if (maxTokens <= 0) throw new Refusal(400, 'max_tokens is required');
        const messages = Array.isArray(j.messages) ? (j.messages as { role: string; content: string }[]) : [];
        return { modelId, units: BigInt(maxTokens), run: async () => llmTokens(messages, maxTokens) };
      }
      default:
        throw new Refusal(404, 'unknown pipeline');
    }
  }

  async function serveLlm(res: Http2ServerResponse, modelId: string, tokens: string[], stream: boolean): Promise<void> {
    const id = `chatcmpl-${randomBytes(6).toString('hex')}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = { prompt_tokens: 10, completion_tokens: tokens.length, total_tokens: 10 + tokens.length };
    if (!stream) {
      const body = {
        id,
        model: modelId,
        created,
        usage,
        choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: tokens.join('') } }],
      };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(body)}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const [i, t] of tokens.entries()) {
      if (res.destroyed) return;
      const last = i === tokens.length - 1;
      const chunk = {
        id,
        model: modelId,
        created,
        usage,
        choices: [{ index: 0, finish_reason: last ? 'stop' : '', delta: { role: 'assistant', content: t } }],
      };
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      await new Promise((r) => setTimeout(r, 5));
    }
    res.end('data: [DONE]\n\n');
  }

  async function handleJob(pipeline: string, req: Http2ServerRequest, res: Http2ServerResponse): Promise<void> {
    const cap = capabilityOf(pipeline);
    let slot: Served | undefined;
    try {
      const { payment, sender, manifestId } = checkHeaders(req);
      const multipart = /^multipart\/form-data/i.test(String(req.headers['content-type'] ?? ''));
      let input: Input;
      if (multipart) input = await readMultipart(req);
      else {
        try {
          const parsed: unknown = JSON.parse((await readJson(req)).toString('utf8'));
          input = { fields: {}, json: parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {} };
        } catch (err) {
          throw err instanceof Refusal ? err : new Refusal(400, 'invalid JSON');
        }
      }
      const job = await prepare(pipeline, req, input);
      const key = `${cap}_${job.modelId}`;
      if (manifestId !== key) throw new Refusal(400, `manifest ${manifestId.slice(0, 80)} does not match ${key}`);
      const s = served.get(key);
      if (!s) throw new Refusal(400, `model ${job.modelId} is not served here`);
      if (s.inUse >= (s.spec.capacity ?? 4)) throw new Refusal(503, 'insufficient capacity');
      s.inUse++;
      slot = s;

      let outcome: PaymentOutcome | undefined;
      try {
        outcome = await host.accounts.process(payment, key);
      } catch (err) {
        const partial = (err as { outcome?: PaymentOutcome }).outcome;
        if (partial) outcome = partial;
        throw new Refusal(400, err instanceof PaymentError ? err.message : `payment error: ${(err as Error).message}`);
      } finally {
        if (outcome) {
          stats.ticketsReceived += outcome.tickets;
          host.onPayment(outcome);
        }
      }
      const expected = payment.expectedPrice;
      if (host.onChain && (expected?.pricePerUnit ?? 0n) > 0n && cmp(host.accounts.balance(sender, key), rat(host.ticketEV)) < 0) {
        throw new Refusal(400, 'Insufficient balance');
      }
      if (opts.fault === 'job-failure') throw new Refusal(500, 'model crashed (fault injection)');
      let result: unknown;
      try {
        result = await job.run();
      } catch (err) {
        throw new Refusal(500, (err as Error).message);
      }
      if (host.onChain && expected) {
        const price = rat(expected.pricePerUnit ?? 0n, expected.pixelsPerUnit || 1n);
        host.accounts.debit(sender, key, price, job.units);
        stats.unitsDebited[key] = (stats.unitsDebited[key] ?? 0n) + job.units;
        host.log.info({ event: 'ai-job', pipeline, key, units: String(job.units), fee: String(mul(price, rat(job.units)).num) }, 'AI job');
      }
      stats.jobs[pipeline] = (stats.jobs[pipeline] ?? 0) + 1;
      if (opts.fault === 'not-json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('<html>not json');
        return;
      }
      if (opts.fault === 'huge-answer') {
        res.writeHead(200, { 'content-type': 'application/json' });
        const junk = Buffer.alloc(1024 * 1024, 0x20);
        for (let i = 0; i < 300 && !res.destroyed; i++) if (!res.write(junk)) await new Promise((r) => res.once('drain', r));
        res.end('{}');
        return;
      }
      if (opts.fault === 'wrong-output-type' && pipeline !== 'llm') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            images: [{ url: `${host.uri()}${storeOutput(Buffer.from('<script>alert(1)</script>'), 'png', 'text/html')}`, seed: 0, nsfw: false }],
            audio: { url: `${host.uri()}${storeOutput(Buffer.from('<html>'), 'wav', 'text/html')}` },
          }),
        );
        return;
      }
      if (pipeline === 'llm') {
        const j = input.json ?? {};
        await serveLlm(res, job.modelId, result as string[], j.stream === true);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(result)}\n`);
    } catch (err) {
      const r = err instanceof Refusal ? err : new Refusal(500, (err as Error).message);
      stats.refusals[r.status] = (stats.refusals[r.status] ?? 0) + 1;
      host.log.info({ event: 'ai-refusal', pipeline, status: r.status, reason: r.message }, 'AI job refused');
      req.resume();
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(r.status, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`${r.message}\n`);
      }
    } finally {
      if (slot) {
        slot.inUse--;
      }
    }
  }

  const ROUTES = new Set([...served.values()].map((s) => s.spec.pipeline));
  const ALL = ['text-to-image', 'image-to-image', 'image-to-video', 'upscale', 'audio-to-text', 'segment-anything-2', 'llm', 'image-to-text', 'text-to-speech'];

  return {
    stats,
    contribution,
    priceFor,
    async handle(req, res, path) {
      const name = path.slice(1);
      if (req.method === 'POST' && ALL.includes(name)) {
        if (!ROUTES.has(name)) {
          req.resume();
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end('404 page not found\n');
          return true;
        }
        await handleJob(name, req, res);
        return true;
      }
      const out =
        (req.method === 'GET' || req.method === 'HEAD') && /^\/stream\/[0-9a-f]{8}\/[0-9a-f]{8}\.[a-z0-9]+$/.test(path) ? outputs.get(path) : undefined;
      if (out) {
        res.writeHead(200, { 'content-type': out.type, 'content-length': String(out.data.length) });
        if (req.method === 'HEAD') res.end();
        else res.end(out.data);
        return true;
      }
      return false;
    },
  };
}
