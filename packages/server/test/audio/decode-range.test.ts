import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyseMusic } from '../../src/audio/analysis/index.js';
import { decodeAudio, decodeAudioRange, describeAudio } from '../../src/audio/codecs/decode.js';
import { encodeMp3 } from '../../src/audio/codecs/mp3.js';
import { encodeWav } from '../../src/audio/codecs/wav.js';
import { planArrangement } from '../../src/audio/synthesis/arrangement.js';
import { renderSong } from '../../src/audio/synthesis/synth.js';
import { buildWav, tones } from './wav-fixtures.js';

const RATE = 44_100;
const sameBits = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/**
 * An edit that decodes only part of its source (extend decodes the seconds around its join, then
 * the beginning straight into the new song) must read exactly what decoding the whole file gives.
 */
describe('decoding part of a source', () => {
  const files: Record<string, Uint8Array> = {};
  beforeAll(async () => {
    const song = tones(9.7, RATE, 2, 0.6);
    files.mp3 = await encodeMp3({ sampleRate: RATE, channels: song });
    files.monoMp3 = await encodeMp3({ sampleRate: 32_000, channels: tones(3.3, 32_000, 1) });
    files.wav16 = encodeWav({ sampleRate: RATE, channels: song });
    files.wavFloat = encodeWav({ sampleRate: RATE, channels: song }, { encoding: 'float32' });
    files.wav24 = buildWav({ channels: tones(2.5, RATE, 2, 0.4), bits: 24 });
  });

  it('gives frames [from, to) bit for bit as the whole decode has them, for MP3 and WAV of every kind', async () => {
    for (const [name, bytes] of Object.entries(files)) {
      const whole = await decodeAudio(bytes);
      const frames = whole.channels[0]!.length;
      const described = describeAudio(bytes);
      expect({ name, ...described }).toMatchObject({ name, sampleRate: whole.sampleRate, channels: whole.channels.length, frames, format: whole.format });
      expect(described.bitrateKbps).toBe(whole.bitrateKbps);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: frames }), fc.integer({ min: 0, max: frames }), async (a, b) => {
          const [from, to] = a <= b ? [a, b] : [b, a];
          const into = whole.channels.map(() => new Float32Array(to - from));
          const held = await decodeAudioRange(bytes, from, to, into);
          expect(held).toBe(to - from);
          for (const [c, channel] of into.entries()) expect(sameBits(channel, whole.channels[c]!.subarray(from, to))).toBe(true);
        }),
        { numRuns: 15 },
      );
    }
  });

  it('says how much of a range past the end of a truncated file it could fill, and leaves the rest alone', async () => {
    const whole = await decodeAudio(files.wav16!);
    const frames = whole.channels[0]!.length;
    const cut = files.wav16!.subarray(0, files.wav16!.length - 4 * 1000); // 1000 stereo 16-bit frames fewer
    const into = [new Float32Array(3000).fill(7), new Float32Array(3000).fill(7)];
    const held = await decodeAudioRange(cut, frames - 3000, frames, into);
    expect(held).toBe(2000);
    expect(sameBits(into[0]!.subarray(0, 2000), whole.channels[0]!.subarray(frames - 3000, frames - 1000))).toBe(true);
    expect(into[0]!.subarray(2000).every((v) => v === 7)).toBe(true);
  });

  it('analyses an excerpt as the same window of the whole song, times in the song’s seconds', () => {
    const plan = planArrangement({ seed: 'excerpt', texts: ['funk'], form: 'song', durationS: 40 });
    const channels = renderSong(plan, RATE, 2, 40);
    const [from, to] = [Math.round(12.3 * RATE), Math.round(35.1 * RATE)];
    const whole = analyseMusic({ sampleRate: RATE, channels }, { fromS: from / RATE, toS: to / RATE });
    const excerpt = analyseMusic({ sampleRate: RATE, channels: channels.map((c) => c.slice(from, to)) }, undefined, { startS: from / RATE });
    expect(whole.tempo?.beats.length).toBeGreaterThan(8);
    expect(excerpt).toEqual(whole);
  });
});
