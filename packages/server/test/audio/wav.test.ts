import { describe, expect, it } from 'vitest';
import { AudioFormatError } from '../../src/audio/codecs/errors.js';
import { decodeWav, encodeFloatWavInPlace, encodeWav, floatWavChannels } from '../../src/audio/codecs/wav.js';
import { buildWav, quantise, tones } from './wav-fixtures.js';

describe('WAV', () => {
  const cases = [
    { bits: 16, float: false, extensible: false },
    { bits: 24, float: false, extensible: false },
    { bits: 32, float: false, extensible: false },
    { bits: 8, float: false, extensible: false },
    { bits: 32, float: true, extensible: false },
    { bits: 16, float: false, extensible: true },
    { bits: 24, float: false, extensible: true },
    { bits: 32, float: true, extensible: true },
  ] as const;

  for (const { bits, float, extensible } of cases) {
    for (const count of [1, 2]) {
      it(`decodes ${bits}-bit ${float ? 'float' : 'PCM'}${extensible ? ' (extensible)' : ''}, ${count === 1 ? 'mono' : 'stereo'}`, () => {
        const channels = tones(0.05, 48_000, count);
        const pcm = decodeWav(buildWav({ sampleRate: 48_000, channels, bits, float, extensible, junkChunk: true }));
        expect(pcm.sampleRate).toBe(48_000);
        expect(pcm.channels).toHaveLength(count);
        for (let c = 0; c < count; c++) {
          const expected = channels[c]!;
          const got = pcm.channels[c]!;
          expect(got.length).toBe(expected.length);
          const scale = 2 ** (bits - 1);
          for (let i = 0; i < expected.length; i += 7) {
            const want = float ? Math.fround(expected[i]!) : quantise(expected[i]!, bits) / scale;
            expect(got[i]).toBeCloseTo(want, 6);
          }
        }
      });
    }
  }

  it('round-trips 16-bit PCM bit-exactly through encodeWav', () => {
    const original = buildWav({ channels: tones(0.2, 44_100, 2), bits: 16 });
    const encoded = encodeWav(decodeWav(original));
    expect(Buffer.from(encoded).equals(Buffer.from(original))).toBe(true);
  });

  it('clamps out-of-range floats when writing 16-bit', () => {
    const pcm = decodeWav(encodeWav({ sampleRate: 8000, channels: [Float32Array.from([2, -2, 0.5])] }));
    expect(Array.from(pcm.channels[0]!)).toEqual([32767 / 32768, -1, 0.5]);
  });

  it('reads a streamed file whose data size is unknown, and a truncated one', () => {
    const bytes = buildWav({ channels: tones(0.1, 8000, 1), bits: 16 });
    const streamed = bytes.slice();
    new DataView(streamed.buffer).setUint32(40, 0xffffffff, true);
    expect(decodeWav(streamed).channels[0]!.length).toBe(800);
    expect(decodeWav(bytes.subarray(0, 44 + 201)).channels[0]!.length).toBe(100);
  });

  const refusals: [string, () => Uint8Array, RegExp][] = [
    ['ADPCM', () => buildWav({ channels: tones(0.01, 8000, 1), bits: 16, formatTag: 2 }), /ADPCM is not supported/],
    ['MP3 in WAV', () => buildWav({ channels: tones(0.01, 8000, 1), bits: 16, formatTag: 0x55 }), /MP3 is not supported/],
    ['3 channels', () => buildWav({ channels: tones(0.01, 8000, 3), bits: 16 }), /3 channels/],
    ['64-bit float', () => buildWav({ channels: tones(0.01, 8000, 1), bits: 32, float: true }).map((b, i) => (i === 34 ? 64 : b)), /64 bits/],
    ['no data chunk', () => buildWav({ channels: tones(0.01, 8000, 1), bits: 16 }).subarray(0, 36), /no data chunk/],
    ['no fmt chunk', () => Uint8Array.from([...'RIFF\0\0\0\0WAVEdata\0\0\0\0'].map((c) => c.charCodeAt(0))), /data chunk comes before its fmt/],
  ];
  for (const [name, bytes, message] of refusals) {
    it(`refuses ${name} with a reason`, () => {
      expect(() => decodeWav(bytes())).toThrow(AudioFormatError);
      expect(() => decodeWav(bytes())).toThrow(message);
    });
  }
});

describe('the float master written in the song’s own memory', () => {
  const song = (count: number, frames: number, rate = 44_100) => {
    const channels = floatWavChannels(count, frames);
    const source = tones(frames / rate, rate, count);
    for (const [c, channel] of channels.entries()) channel.set(source[c]!.subarray(0, frames));
    // Unclipped values too: the master keeps them as they are.
    if (frames > 0) channels[0]![0] = 1.75;
    return { sampleRate: rate, channels };
  };

  for (const [count, frames] of [
    [2, 200_001],
    [1, 70_000],
    [2, 1],
  ] as const) {
    it(`is byte for byte encodeWav's float32 file (${count === 1 ? 'mono' : 'stereo'}, ${frames} frames), in the same buffer`, () => {
      const pcm = song(count, frames);
      const expected = encodeWav(pcm, { encoding: 'float32' });
      const buffer = pcm.channels[0]!.buffer;
      const master = encodeFloatWavInPlace(pcm);
      expect(master.buffer).toBe(buffer);
      expect(Buffer.from(master).equals(Buffer.from(expected))).toBe(true);
      const decoded = decodeWav(master);
      expect(decoded.channels[0]![0]).toBe(1.75);
    });
  }

  it('copies channels laid out otherwise, and leaves them alone', () => {
    const pcm = song(2, 5000);
    // A view of the first 4000 frames is not the layout (the buffer holds more than the file).
    const cut = { sampleRate: pcm.sampleRate, channels: pcm.channels.map((c) => c.subarray(0, 4000)) };
    const before = cut.channels.map((c) => Float32Array.from(c));
    const master = encodeFloatWavInPlace(cut);
    expect(master.buffer).not.toBe(pcm.channels[0]!.buffer);
    expect(Buffer.from(master).equals(Buffer.from(encodeWav(cut, { encoding: 'float32' })))).toBe(true);
    expect(cut.channels).toEqual(before);
    const plain = { sampleRate: 8000, channels: tones(0.1, 8000, 2) };
    expect(Buffer.from(encodeFloatWavInPlace(plain)).equals(Buffer.from(encodeWav(plain, { encoding: 'float32' })))).toBe(true);
  });

  it('decodes into the channels it is given', () => {
    const bytes = buildWav({ channels: tones(0.05, 8000, 2), bits: 16 });
    const decoded = decodeWav(bytes, floatWavChannels);
    expect(Buffer.from(encodeFloatWavInPlace(decoded)).equals(Buffer.from(encodeWav(decodeWav(bytes), { encoding: 'float32' })))).toBe(true);
  });
});
