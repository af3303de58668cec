// AAC as FLV carries it (an AudioSpecificConfig, then raw frames) turned into what MPEG-TS carries: each
// frame behind a 7-byte ADTS header built from the config. ADTS can only say AAC Main/LC/SSR/LTP, a
// sampling-frequency index and a channel configuration; a config outside that is not muxed in-process.
import { FlvMediaError, UnsupportedCodecError } from './flvMedia.ts';

export interface AacConfig {
  /** ADTS profile: audio object type − 1 (0..3). */
  profile: number;
  frequencyIndex: number;
  channelConfig: number;
  /** Hz, from the frequency index */
  sampleRate: number;
}

const SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
const AOT_SBR = 5;
const AOT_PS = 29;
export const ADTS_HEADER = 7;
/** The ADTS frame length field is 13 bits, header included. */
const MAX_ADTS_FRAME = 8191;
/** Samples per AAC frame (the 960-sample variant does not occur in FLV). */
export const AAC_FRAME_SAMPLES = 1024;

class Bits {
  #pos = 0;
  constructor(private readonly buf: Buffer) {}
  read(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.#pos >> 3;
      if (byte >= this.buf.length) throw new FlvMediaError('AAC sequence header (AudioSpecificConfig) cut short');
      v = v * 2 + ((this.buf[byte]! >> (7 - (this.#pos & 7))) & 1);
      this.#pos++;
    }
    return v;
  }
  objectType(): number {
    const t = this.read(5);
    return t === 31 ? 32 + this.read(6) : t;
  }
  frequency(): number {
    const i = this.read(4);
    if (i === 15) this.read(24); // an explicit rate: ADTS cannot carry it (checked by the caller)
    return i;
  }
}

/** Read an AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1) into what the ADTS header needs. */
export function readAacConfig(asc: Buffer): AacConfig {
  const bits = new Bits(asc);
  let objectType = bits.objectType();
  const frequencyIndex = bits.frequency();
  const channelConfig = bits.read(4);
  // HE-AAC signalled explicitly: the core AAC object type follows the extension's rate; ADTS carries the core
  if (objectType === AOT_SBR || objectType === AOT_PS) {
    bits.frequency();
    objectType = bits.objectType();
  }
  if (objectType < 1 || objectType > 4) throw new UnsupportedCodecError(`AAC audio object type ${objectType} cannot be carried in ADTS`);
  if (frequencyIndex >= SAMPLE_RATES.length) throw new UnsupportedCodecError(`AAC sampling frequency index ${frequencyIndex} cannot be carried in ADTS`);
  if (channelConfig < 1 || channelConfig > 7) throw new UnsupportedCodecError(`AAC channel configuration ${channelConfig} cannot be carried in ADTS`);
  return { profile: objectType - 1, frequencyIndex, channelConfig, sampleRate: SAMPLE_RATES[frequencyIndex]! };
}

/** Write the ADTS header for a raw frame of `frameBytes` at `at` (7 bytes). */
export function writeAdtsHeader(out: Buffer, at: number, config: AacConfig, frameBytes: number): void {
  const len = frameBytes + ADTS_HEADER;
  if (len > MAX_ADTS_FRAME) throw new FlvMediaError(`AAC frame of ${frameBytes} bytes is larger than ADTS can carry`);
  out[at] = 0xff;
  out[at + 1] = 0xf1; // MPEG-4, layer 0, no CRC
  out[at + 2] = (config.profile << 6) | (config.frequencyIndex << 2) | (config.channelConfig >> 2);
  out[at + 3] = ((config.channelConfig & 3) << 6) | (len >> 11);
  out[at + 4] = (len >> 3) & 0xff;
  out[at + 5] = ((len & 7) << 5) | 0x1f; // buffer fullness 0x7ff: variable rate
  out[at + 6] = 0xfc;
}

/** MPEG audio layer III: samples per frame and sample rate from the first frame header; undefined if none is there. */
export function mp3FrameInfo(frame: Buffer): { samples: number; sampleRate: number } | undefined {
  if (frame.length < 4 || frame[0] !== 0xff || (frame[1]! & 0xe0) !== 0xe0) return undefined;
  const version = (frame[1]! >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
  const layer = (frame[1]! >> 1) & 3; // 1: layer III, 2: II, 3: I
  const rateIndex = (frame[2]! >> 2) & 3;
  if (version === 1 || layer === 0 || rateIndex === 3) return undefined;
  const base = [44100, 48000, 32000][rateIndex]!;
  const sampleRate = version === 3 ? base : version === 2 ? base / 2 : base / 4;
  const samples = layer === 3 ? 384 : layer === 2 || version === 3 ? 1152 : 576;
  return { samples, sampleRate };
}
