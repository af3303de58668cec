// What an AI job is paid for, in the pipeline's units (docs/ai.md, payment), exactly as the
// orchestrator debits them: text-to-image H×W×n, image-to-image input H×W×n, image-to-video H×W×25,
// upscale / segment-anything-2 / image-to-text input H×W, audio-to-text whole seconds × 1000,
// llm max_tokens, text-to-speech 1000 × characters.
import { imageSize } from 'image-size';
import { probeBuffer } from '../media/probe.ts';
import { badRequest } from './errors.ts';
import type { AiRequest } from './request.ts';

/** image-to-video is priced for this many frames. */
export const I2V_FRAMES = 25n;
export const I2V_DEFAULT_HEIGHT = 576;
export const I2V_DEFAULT_WIDTH = 1024;
/** Units per second of audio. */
export const A2T_UNITS_PER_SECOND = 1000n;
/** Units per character (Unicode code point) of text to speak. */
export const TTS_UNITS_PER_CHARACTER = 1000n;
/** The longest audio accepted for transcription. */
export const MAX_AUDIO_SECONDS = 4 * 3600;

/** Width and height of a PNG, JPEG or GIF, read from its header (the formats go-livepeer decodes). */
export function inputImageSize(data: Buffer): { width: number; height: number } {
  let size: ReturnType<typeof imageSize>;
  try {
    size = imageSize(data);
  } catch {
    throw badRequest('the image is not a PNG, JPEG or GIF');
  }
  if (!['png', 'jpg', 'gif'].includes(size.type ?? '')) throw badRequest(`image format ${size.type ?? 'unknown'} is not supported (PNG, JPEG or GIF)`);
  if (!size.width || !size.height) throw badRequest('the image has no size');
  return { width: size.width, height: size.height };
}

/** Whole seconds of audio (rounded up), probed with ffprobe. */
export async function audioSeconds(data: Buffer): Promise<number> {
  let ms: number;
  try {
    ms = (await probeBuffer(data, 15_000)).durationMs;
  } catch {
    throw badRequest('the audio file cannot be read');
  }
  const seconds = Math.ceil(ms / 1000);
  if (seconds <= 0) throw badRequest('the audio has a duration of 0 s');
  if (seconds > MAX_AUDIO_SECONDS) throw badRequest(`the audio is longer than ${MAX_AUDIO_SECONDS} s`);
  return seconds;
}

const num = (v: unknown, fallback: number): bigint => BigInt(typeof v === 'number' ? v : fallback);

export interface JobUnits {
  units: bigint;
  /** inference steps of image pipelines (latency score) */
  steps?: number;
  /** audio-to-text: the probed duration, sent as metadata */
  audioSeconds?: number;
}

export async function jobUnits(r: AiRequest): Promise<JobUnits> {
  const f = r.fields;
  const steps = typeof f.num_inference_steps === 'number' ? f.num_inference_steps : r.pipeline.defaultSteps;
  const withSteps = (units: bigint): JobUnits => (steps !== undefined ? { units, steps } : { units });
  switch (r.pipeline.name) {
    case 'text-to-image':
      return withSteps(num(f.height, 512) * num(f.width, 512) * num(f.num_images_per_prompt, 1));
    case 'image-to-image': {
      const { width, height } = inputImageSize(r.file!.data);
      return withSteps(BigInt(height) * BigInt(width) * num(f.num_images_per_prompt, 1));
    }
    case 'image-to-video':
      inputImageSize(r.file!.data);
      return withSteps(num(f.height, I2V_DEFAULT_HEIGHT) * num(f.width, I2V_DEFAULT_WIDTH) * I2V_FRAMES);
    case 'upscale':
    case 'segment-anything-2':
    case 'image-to-text': {
      const { width, height } = inputImageSize(r.file!.data);
      return withSteps(BigInt(height) * BigInt(width));
    }
    case 'audio-to-text': {
      const seconds = await audioSeconds(r.file!.data);
      return { units: BigInt(seconds) * A2T_UNITS_PER_SECOND, audioSeconds: seconds };
    }
    case 'llm':
      return { units: num(f.max_tokens, 256) };
    case 'text-to-speech':
      return { units: BigInt([...String(f.text ?? '')].length) * TTS_UNITS_PER_CHARACTER };
    default:
      throw badRequest(`unknown pipeline ${r.pipeline.name}`);
  }
}
