import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AudioFormatError } from '../../src/audio/codecs/errors.js';
import { toFloatWav } from '../../src/audio/codecs/float-wav.js';
import { encodeMp3 } from '../../src/audio/codecs/mp3.js';
import { decodeAudio, decodeWav, encodeWav, FloatWavFileWriter, readWavLayout } from '../../src/audio/index.js';

const frames = fc.integer({ min: 1, max: 300 });
/** Any float32 value a master can hold, out-of-range and negative zero included (NaN has no place in audio). */
const sample = fc.float({ noNaN: true, noDefaultInfinity: true });
/** One or two channels of the same length. */
const masters = fc
  .tuple(frames, fc.constantFrom(1, 2))
  .chain(([length, count]) => fc.array(fc.array(sample, { minLength: length, maxLength: length }), { minLength: count, maxLength: count }));

describe('toFloatWav (the WAV route’s conversion)', () => {
  it('gives a float master back bit for bit, byte for byte (property)', async () => {
    await fc.assert(
      fc.asyncProperty(masters, fc.constantFrom(44_100, 48_000), async (channels, sampleRate) => {
        const [count, length] = [channels.length, channels[0]!.length];
        const master = encodeWav({ sampleRate, channels: channels.map((values) => Float32Array.from(values)) }, { encoding: 'float32' });
        const out = await toFloatWav(master);
        expect(Buffer.from(out.wav).equals(Buffer.from(master))).toBe(true);
        expect(out).toMatchObject({ sampleRate, channels: count, frames: length, from: 'wav' });
      }),
      { numRuns: 60 },
    );
  });

  it('keeps every value of a 16-bit WAV (each is a float32), as 32-bit float', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: 1, maxLength: 500 }), async (ints) => {
        const pcm16 = encodeWav({ sampleRate: 22_050, channels: [Float32Array.from(ints, (v) => v / 32768)] });
        const out = await toFloatWav(pcm16);
        expect(readWavLayout(out.wav)).toMatchObject({ float: true, bitsPerSample: 32, channels: 1, frames: ints.length });
        expect(decodeWav(out.wav).channels[0]).toEqual(decodeWav(pcm16).channels[0]);
      }),
      { numRuns: 60 },
    );
  });

  it('decodes an MP3 without its encoder delay and padding: the same length as what was encoded', async () => {
    const sampleRate = 44_100;
    const tone = Float32Array.from({ length: sampleRate }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / sampleRate));
    const mp3 = await encodeMp3({ sampleRate, channels: [tone, tone] });
    const out = await toFloatWav(mp3);
    expect(out).toMatchObject({ from: 'mp3', frames: tone.length, channels: 2, sampleRate });
    expect(decodeWav(out.wav).channels[0]).toEqual((await decodeAudio(mp3)).channels[0]);
  });

  it('refuses what is not audio with an AudioFormatError saying why', async () => {
    await expect(toFloatWav(new TextEncoder().encode('not audio at all'))).rejects.toBeInstanceOf(AudioFormatError);
    await expect(toFloatWav(Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00', 'latin1'))).rejects.toThrow('WAV fmt chunk is truncated');
  });
});

describe('FloatWavFileWriter (a master written as it is made)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reprise-wav-'));
  const channels = [Float32Array.from({ length: 150_001 }, (_, i) => Math.sin(i / 7) * 1.5), Float32Array.from({ length: 150_001 }, (_, i) => -i / 150_001)];

  it('writes, piece by piece, the bytes encodeWav writes for the whole song', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 80_000 }), { maxLength: 6 }), (cuts) => {
        const file = path.join(dir, 'song.wav');
        const writer = new FloatWavFileWriter(file, { sampleRate: 48_000, count: 2, frames: 150_001 });
        let at = 0;
        for (const cut of [...cuts, 150_001]) {
          const to = Math.min(150_001, at + cut);
          writer.append(channels, at, to);
          at = to;
        }
        const written = writer.finish();
        const expected = encodeWav({ sampleRate: 48_000, channels }, { encoding: 'float32' });
        expect(written.bytes).toBe(expected.byteLength);
        expect(Buffer.from(fs.readFileSync(file)).equals(Buffer.from(expected))).toBe(true);
        fs.rmSync(file);
      }),
      { numRuns: 15 },
    );
  });

  it('refuses more frames than declared, and a file closed short; discarding leaves nothing', () => {
    const file = path.join(dir, 'short.wav');
    const writer = new FloatWavFileWriter(file, { sampleRate: 44_100, count: 1, frames: 10 });
    expect(() => writer.append([new Float32Array(11)])).toThrow(RangeError);
    writer.append([new Float32Array(9)]);
    expect(() => writer.finish()).toThrow(/closed after 9/);
    expect(fs.existsSync(file)).toBe(false);
    const other = new FloatWavFileWriter(path.join(dir, 'gone.wav'), { sampleRate: 44_100, count: 2, frames: 10 });
    other.discard();
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
