// What a devnet AI orchestrator serves: pipelines and models, warm or cold, capacity, price per unit.
import { AI_PIPELINE_CAPABILITY } from '../../../../src/net/aiCapabilities.ts';

export interface AiModelSpec {
  pipeline: string;
  modelId: string;
  /** loaded and ready (warm) or loaded on demand (cold) */
  warm?: boolean;
  /** jobs at once; more get 503 insufficient capacity (default 4) */
  capacity?: number;
  /** wei per pricing unit (default 1) */
  pricePerUnit?: bigint;
  /** units per price (default 1) */
  pixelsPerUnit?: bigint;
}

/** Ways a devnet AI orchestrator can misbehave, for testing gateways. */
export type AiFault =
  /** output URLs on another origin */
  | 'foreign-output-url'
  /** 200 with a body that is not JSON */
  | 'not-json'
  /** an image pipeline answering with bytes that are not an image */
  | 'wrong-output-type'
  /** a 200 answer far larger than any pipeline allows */
  | 'huge-answer'
  /** 500 with a job failure */
  | 'job-failure';

export interface AiWorkerOptions {
  models: readonly AiModelSpec[];
  /** runner version reported per model (default 0.14.0) */
  runnerVersion?: string;
  fault?: AiFault;
}

/** The first model is the one the docs' first example asks for. */
export const DOCS_EXAMPLE_MODEL = 'SG161222/RealVisXL_V4.0_Lightning';

/** Each pipeline's default model, warm, plus the docs' example model. */
export const DEFAULT_AI_MODELS: readonly AiModelSpec[] = [
  { pipeline: 'text-to-image', modelId: DOCS_EXAMPLE_MODEL, warm: true },
  { pipeline: 'text-to-image', modelId: 'stabilityai/sdxl-turbo', warm: true },
  { pipeline: 'image-to-image', modelId: 'stabilityai/sdxl-turbo', warm: true },
  { pipeline: 'image-to-video', modelId: 'stabilityai/stable-video-diffusion-img2vid-xt', warm: true },
  { pipeline: 'upscale', modelId: 'stabilityai/stable-diffusion-x4-upscaler', warm: true },
  { pipeline: 'audio-to-text', modelId: 'openai/whisper-large-v3', warm: true },
  { pipeline: 'segment-anything-2', modelId: 'facebook/sam2-hiera-large', warm: true },
  { pipeline: 'llm', modelId: 'meta-llama/llama-3.1-8B-Instruct', warm: true },
  { pipeline: 'image-to-text', modelId: 'Salesforce/blip-image-captioning-large', warm: true },
  { pipeline: 'text-to-speech', modelId: 'parler-tts/parler-tts-large-v1', warm: true },
];

export function capabilityOf(pipeline: string): number {
  const cap = AI_PIPELINE_CAPABILITY[pipeline];
  if (cap === undefined || !Object.hasOwn(AI_PIPELINE_CAPABILITY, pipeline)) throw new Error(`unknown AI pipeline "${pipeline}"`);
  return cap;
}
