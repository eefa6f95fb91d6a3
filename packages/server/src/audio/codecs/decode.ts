import type { ChannelAllocator, Pcm } from '../pcm.js';
import { AudioFormatError } from './errors.js';
import { decodeMp3 } from './mp3.js';
import { type AudioFormat, probeAudio } from './probe.js';
import { decodeWav } from './wav.js';

export interface DecodedAudio extends Pcm {
  format: AudioFormat;
  /** An MP3's average bitrate in kbps (null for WAV), so an edit can be re-encoded at no lower a rate. */
  bitrateKbps: number | null;
}

/**
 * Decodes MP3 or WAV bytes, the format told by the content, into channels from `allocate`
 * (plain arrays by default). Anything else is an AudioFormatError saying why.
 */
export async function decodeAudio(bytes: Uint8Array, allocate?: ChannelAllocator): Promise<DecodedAudio> {
  const { format } = probeAudio(bytes);
  const decoded = format === 'wav' ? { ...decodeWav(bytes, allocate), bitrateKbps: null } : await decodeMp3(bytes, allocate);
  if (decoded.channels.length === 0) throw new AudioFormatError('the audio has no channels');
  return { sampleRate: decoded.sampleRate, channels: decoded.channels, format, bitrateKbps: decoded.bitrateKbps };
}
