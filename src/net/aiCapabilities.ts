// AI capabilities on the wire: the capability ids of the batch pipelines, the Capabilities message a
// gateway sends for one (capability, model) job, and what an orchestrator says about a model.
import type { Capabilities } from '../wire/lpRpc.ts';
import { capabilityBitstring } from './capabilities.ts';

/** AI capability ids (plain uint32 on the wire; go-livepeer core/capabilities.go). Never renumber. */
export const AiCapability = {
  TextToImage: 27,
  ImageToImage: 28,
  ImageToVideo: 29,
  Upscale: 30,
  AudioToText: 31,
  SegmentAnything2: 32,
  LLM: 33,
  ImageToText: 34,
  LiveVideoToVideo: 35,
  TextToSpeech: 36,
} as const;

/** Pipeline name as operators write it (`-maxPricePerCapability`, `/status`) → capability id. */
export const AI_PIPELINE_CAPABILITY: Readonly<Record<string, number>> = {
  'text-to-image': AiCapability.TextToImage,
  'image-to-image': AiCapability.ImageToImage,
  'image-to-video': AiCapability.ImageToVideo,
  upscale: AiCapability.Upscale,
  'audio-to-text': AiCapability.AudioToText,
  'segment-anything-2': AiCapability.SegmentAnything2,
  llm: AiCapability.LLM,
  'image-to-text': AiCapability.ImageToText,
  'live-video-to-video': AiCapability.LiveVideoToVideo,
  'text-to-speech': AiCapability.TextToSpeech,
};

/**
 * The capabilities every go-livepeer node advertises by default (ids 0–12, 14 and 26). An AI job asks
 * for them plus its own id, and AI-only orchestrators advertise them too.
 */
export const DEFAULT_NODE_CAPABILITIES: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 26];

export interface AiJobCapabilityOptions {
  /** the gateway's version string */
  version: string;
  /** -orchMinLivepeerVersion */
  minVersion?: string;
  /** -aiMinRunnerVersion for this (pipeline, model), or "" */
  runnerVersion?: string;
}

/**
 * OrchestratorRequest.capabilities (and SegData.capabilities) for one (capability, model): the default
 * bits plus the job's, a capacity of 1 for each, and the model as a cold constraint. The orchestrator
 * prices only capabilities that are keys of `capacities` and carry models, so both must be there.
 */
export function aiJobCapabilities(cap: number, modelId: string, opts: AiJobCapabilityOptions): Capabilities {
  const ids = [...DEFAULT_NODE_CAPABILITIES, cap];
  return {
    bitstring: capabilityBitstring(ids),
    capacities: Object.fromEntries(ids.map((id) => [id, 1])),
    version: opts.version,
    constraints: {
      ...(opts.minVersion ? { minVersion: opts.minVersion } : {}),
      PerCapability: { [cap]: { models: { [modelId]: { warm: false, runnerVersion: opts.runnerVersion ?? '' } } } },
    },
  };
}

/** What an orchestrator reports about one model it serves. */
export interface ModelOffer {
  warm: boolean;
  capacity: number;
  capacityInUse: number;
  runnerVersion: string;
}

/** The orchestrator's offer for (cap, model), or undefined when it does not list the model. */
export function modelOffer(caps: Capabilities | undefined, cap: number, modelId: string): ModelOffer | undefined {
  const per = caps?.constraints?.PerCapability as Record<string, unknown> | undefined;
  const entry = per?.[String(cap)];
  if (!entry || typeof entry !== 'object') return undefined;
  const models = (entry as { models?: unknown }).models;
  if (!models || typeof models !== 'object') return undefined;
  if (!Object.hasOwn(models, modelId)) return undefined;
  const m = (models as Record<string, unknown>)[modelId];
  if (!m || typeof m !== 'object') return { warm: false, capacity: 0, capacityInUse: 0, runnerVersion: '' };
  const o = m as { warm?: unknown; capacity?: unknown; capacityInUse?: unknown; runnerVersion?: unknown };
  return {
    warm: o.warm === true,
    capacity: typeof o.capacity === 'number' ? o.capacity : 0,
    capacityInUse: typeof o.capacityInUse === 'number' ? o.capacityInUse : 0,
    runnerVersion: typeof o.runnerVersion === 'string' ? o.runnerVersion : '',
  };
}
