import fs from 'node:fs';
import type { RenderedTrack, ReplaceSectionInput } from '../../src/engine/types.js';

/** A 16-bit PCM WAV of a sine tone: a test fixture that needs no codec of ours. */
export function sineWav(seconds: number, sampleRate = 44_100, channels = 2, frequency = 440): Buffer {
  const frames = Math.round(seconds * sampleRate);
  const dataBytes = frames * channels * 2;
  const buffer = Buffer.alloc(44 + dataBytes);
  buffer.write('RIFF', 0, 'ascii');
  buffer.writeUInt32LE(36 + dataBytes, 4);
  buffer.write('WAVE', 8, 'ascii');
  buffer.write('fmt ', 12, 'ascii');
  buffer.writeUInt32LE(16, 16);
  buffer.writeUInt16LE(1, 20);
  buffer.writeUInt16LE(channels, 22);
  buffer.writeUInt32LE(sampleRate, 24);
  buffer.writeUInt32LE(sampleRate * channels * 2, 28);
  buffer.writeUInt16LE(channels * 2, 32);
  buffer.writeUInt16LE(16, 34);
  buffer.write('data', 36, 'ascii');
  buffer.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < frames; i++) {
    const sample = Math.round(Math.sin((2 * Math.PI * frequency * i) / sampleRate) * 0.3 * 32767);
    for (let c = 0; c < channels; c++) buffer.writeInt16LE(sample, 44 + (i * channels + c) * 2);
  }
  return buffer;
}

/** A track's master as bytes, wherever the engine left it: in memory, or in a scratch file (read, then removed). */
export function masterBytes(track: RenderedTrack): Uint8Array {
  if (track.master) return track.master;
  if (!track.masterFile) throw new Error('the engine returned no master');
  const bytes = new Uint8Array(fs.readFileSync(track.masterFile.path));
  fs.rmSync(track.masterFile.path);
  return bytes;
}

/** A replace-section request of the engine's, the same words each time: only the source, the range and the seed vary. */
export const replaceRequest = (bytes: Uint8Array, startS: number, endS: number, seed: string, name = 'song'): ReplaceSectionInput => ({
  source: { bytes, name },
  startS,
  endS,
  prompt: 'a new bridge',
  tags: 'jazz piano',
  negativeTags: '',
  title: 'Edited',
  seed,
});
