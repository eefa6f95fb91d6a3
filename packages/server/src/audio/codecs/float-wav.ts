import { type DecodedAudio, decodeAudio } from './decode.js';
import { encodeWav } from './wav.js';

/** A WAV made from other audio, and what it was made from. */
export interface FloatWav {
  wav: Uint8Array;
  sampleRate: number;
  channels: number;
  frames: number;
  /** The format of the audio it was made from. */
  from: DecodedAudio['format'];
}

/**
 * The decoded samples of an MP3 or WAV as a 32-bit float WAV. Float, because it is the one
 * encoding that keeps every sample as it was: a float master comes out bit for bit, a 16- or
 * 24-bit WAV exactly (each of its values is a float32), and an MP3 as its decoder gives it, the
 * encoder's delay and padding already removed (codecs/mp3.ts), unclipped. An unreadable input is
 * an AudioFormatError saying why.
 */
export async function toFloatWav(bytes: Uint8Array): Promise<FloatWav> {
  const decoded = await decodeAudio(bytes);
  const wav = encodeWav(decoded, { encoding: 'float32' });
  return { wav, sampleRate: decoded.sampleRate, channels: decoded.channels.length, frames: decoded.channels[0]!.length, from: decoded.format };
}
