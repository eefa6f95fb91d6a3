import { AudioFormatError } from './errors.js';
import { decodeMp3 } from './mp3.js';
import type { Pcm } from './pcm.js';
import { type AudioFormat, probeAudio } from './probe.js';
import { decodeWav } from './wav.js';

/** Decodes MP3 or WAV bytes, the format told by the content. */
export async function decodeAudio(bytes: Uint8Array): Promise<Pcm & { format: AudioFormat }> {
  const { format } = probeAudio(bytes);
  const pcm = format === 'wav' ? decodeWav(bytes) : await decodeMp3(bytes);
  if (pcm.channels.length === 0) throw new AudioFormatError('the audio has no channels');
  return { ...pcm, format };
}
