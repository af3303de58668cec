// The batch AI pipelines a gateway serves: route, capability id, default model, request fields and the
// bounds this gateway puts on each (docs/ai.md, public routes).
import { AiCapability } from '../net/aiCapabilities.ts';

export type FieldType = 'string' | 'int' | 'float' | 'bool';

export interface FieldSpec {
  type: FieldType;
  /** inclusive bounds for numbers; a value outside is a 400 */
  min?: number;
  max?: number;
}

export type OutputKind = 'images' | 'video' | 'speech' | 'transcript' | 'masks' | 'caption' | 'llm';

export interface PipelineSpec {
  name: string;
  /** the public POST route, also the orchestrator's */
  route: string;
  cap: number;
  defaultModel: string;
  input: 'json' | 'multipart';
  /** multipart: the file part */
  fileField?: 'image' | 'audio';
  /** fields besides the file, with their wire names */
  fields: Readonly<Record<string, FieldSpec>>;
  required: readonly string[];
  output: OutputKind;
  /** the largest uploaded file */
  maxFileBytes: number;
  /** the largest answer read from the orchestrator (JSON or one output file) */
  maxOutputBytes: number;
  /** the deadline of one attempt on one orchestrator */
  timeoutMs: number;
  /** image pipelines: inference steps assumed when the request gives none (latency score) */
  defaultSteps?: number;
}

const MiB = 1024 * 1024;
const DIMENSION: FieldSpec = { type: 'int', min: 1, max: 4096 };
const SEED: FieldSpec = { type: 'int', min: 0, max: 2 ** 53 - 1 };
const STEPS: FieldSpec = { type: 'int', min: 1, max: 1000 };
const SCALE: FieldSpec = { type: 'float', min: 0, max: 100 };

const IMAGE_GEN_FIELDS = {
  prompt: { type: 'string' },
  model_id: { type: 'string' },
  loras: { type: 'string' },
  guidance_scale: SCALE,
  negative_prompt: { type: 'string' },
  safety_check: { type: 'bool' },
  seed: SEED,
  num_inference_steps: STEPS,
  num_images_per_prompt: { type: 'int', min: -1000, max: 16 },
} as const satisfies Record<string, FieldSpec>;

export const PIPELINES: readonly PipelineSpec[] = [
  {
    name: 'text-to-image',
    route: '/text-to-image',
    cap: AiCapability.TextToImage,
    defaultModel: 'stabilityai/sdxl-turbo',
    input: 'json',
    fields: { ...IMAGE_GEN_FIELDS, height: DIMENSION, width: DIMENSION },
    required: ['prompt'],
    output: 'images',
    maxFileBytes: 0,
    maxOutputBytes: 32 * MiB,
    timeoutMs: 5 * 60_000,
    defaultSteps: 50,
  },
  {
    name: 'image-to-image',
    route: '/image-to-image',
    cap: AiCapability.ImageToImage,
    defaultModel: 'stabilityai/sdxl-turbo',
    input: 'multipart',
    fileField: 'image',
    fields: { ...IMAGE_GEN_FIELDS, strength: { type: 'float', min: 0, max: 1 }, image_guidance_scale: SCALE },
    required: ['prompt'],
    output: 'images',
    maxFileBytes: 20 * MiB,
    maxOutputBytes: 32 * MiB,
    timeoutMs: 5 * 60_000,
    defaultSteps: 100,
  },
  {
    name: 'image-to-video',
    route: '/image-to-video',
    cap: AiCapability.ImageToVideo,
    defaultModel: 'stabilityai/stable-video-diffusion-img2vid-xt',
    input: 'multipart',
    fileField: 'image',
    fields: {
      model_id: { type: 'string' },
      height: DIMENSION,
      width: DIMENSION,
      fps: { type: 'int', min: 1, max: 120 },
      motion_bucket_id: { type: 'int', min: 0, max: 1023 },
      noise_aug_strength: { type: 'float', min: 0, max: 10 },
      num_inference_steps: STEPS,
      safety_check: { type: 'bool' },
      seed: SEED,
    },
    required: [],
    output: 'video',
    maxFileBytes: 20 * MiB,
    maxOutputBytes: 100 * MiB,
    timeoutMs: 10 * 60_000,
    defaultSteps: 25,
  },
  {
    name: 'upscale',
    route: '/upscale',
    cap: AiCapability.Upscale,
    defaultModel: 'stabilityai/stable-diffusion-x4-upscaler',
    input: 'multipart',
    fileField: 'image',
    fields: { prompt: { type: 'string' }, model_id: { type: 'string' }, num_inference_steps: STEPS, safety_check: { type: 'bool' }, seed: SEED },
    required: ['prompt'],
    output: 'images',
    maxFileBytes: 20 * MiB,
    maxOutputBytes: 64 * MiB,
    timeoutMs: 5 * 60_000,
    defaultSteps: 75,
  },
  {
    name: 'audio-to-text',
    route: '/audio-to-text',
    cap: AiCapability.AudioToText,
    defaultModel: 'openai/whisper-large-v3',
    input: 'multipart',
    fileField: 'audio',
    fields: { model_id: { type: 'string' }, return_timestamps: { type: 'string' } },
    required: [],
    output: 'transcript',
    maxFileBytes: 50 * MiB,
    maxOutputBytes: 8 * MiB,
    timeoutMs: 5 * 60_000,
  },
  {
    name: 'segment-anything-2',
    route: '/segment-anything-2',
    cap: AiCapability.SegmentAnything2,
    defaultModel: 'facebook/sam2-hiera-large',
    input: 'multipart',
    fileField: 'image',
    fields: {
      model_id: { type: 'string' },
      point_coords: { type: 'string' },
      point_labels: { type: 'string' },
      box: { type: 'string' },
      mask_input: { type: 'string' },
      multimask_output: { type: 'bool' },
      return_logits: { type: 'bool' },
      normalize_coords: { type: 'bool' },
    },
    required: [],
    output: 'masks',
    maxFileBytes: 20 * MiB,
    maxOutputBytes: 64 * MiB,
    timeoutMs: 5 * 60_000,
  },
  {
    name: 'llm',
    route: '/llm',
    cap: AiCapability.LLM,
    defaultModel: 'meta-llama/llama-3.1-8B-Instruct',
    input: 'json',
    fields: {
      model: { type: 'string' },
      max_tokens: { type: 'int', min: 1, max: 131072 },
      stream: { type: 'bool' },
      temperature: { type: 'float', min: 0, max: 2 },
      top_p: { type: 'float', min: 0, max: 1 },
      top_k: { type: 'int', min: -1, max: 100000 },
    },
    required: [],
    output: 'llm',
    maxFileBytes: 0,
    maxOutputBytes: 8 * MiB,
    timeoutMs: 5 * 60_000,
  },
  {
    name: 'image-to-text',
    route: '/image-to-text',
    cap: AiCapability.ImageToText,
    defaultModel: 'Salesforce/blip-image-captioning-large',
    input: 'multipart',
    fileField: 'image',
    fields: { prompt: { type: 'string' }, model_id: { type: 'string' } },
    required: [],
    output: 'caption',
    maxFileBytes: 20 * MiB,
    maxOutputBytes: 1 * MiB,
    timeoutMs: 5 * 60_000,
  },
  {
    name: 'text-to-speech',
    route: '/text-to-speech',
    cap: AiCapability.TextToSpeech,
    defaultModel: 'parler-tts/parler-tts-large-v1',
    input: 'json',
    fields: { text: { type: 'string' }, model_id: { type: 'string' }, description: { type: 'string' } },
    required: ['text'],
    output: 'speech',
    maxFileBytes: 0,
    maxOutputBytes: 64 * MiB,
    timeoutMs: 5 * 60_000,
  },
];

export const PIPELINE_BY_ROUTE: ReadonlyMap<string, PipelineSpec> = new Map(PIPELINES.map((p) => [p.route, p]));
export const PIPELINE_BY_NAME: ReadonlyMap<string, PipelineSpec> = new Map(PIPELINES.map((p) => [p.name, p]));

/** The largest JSON request body. */
export const MAX_JSON_BODY_BYTES = 4 * MiB;
/** The longest text field (prompts, TTS text, SAM2 coordinates). */
export const MAX_TEXT_FIELD_BYTES = 64 * 1024;
/** Model ids are names, not documents. */
export const MAX_MODEL_ID_LENGTH = 200;
