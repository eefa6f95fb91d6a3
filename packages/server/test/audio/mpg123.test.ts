import { MPEGDecoder } from 'mpg123-decoder';
import { describe, expect, it } from 'vitest';
import { encodeMp3 } from '../../src/audio/codecs/mp3.js';
import { readMp3Layout } from '../../src/audio/codecs/mp3-frames.js';
import { decodeMpeg } from '../../src/audio/codecs/mpg123.js';
import { tones } from './wav-fixtures.js';

/** All that the package's public decoder puts out for `bytes`, decoded in one fresh instance. */
async function publicDecode(bytes: Uint8Array): Promise<Float32Array[]> {
  const decoder = new MPEGDecoder({ enableGapless: false });
  await decoder.ready;
  try {
    return decoder.decode(bytes).channelData;
  } finally {
    decoder.free();
  }
}

/** All that `decodeMpeg` puts out for `bytes`, joined. */
async function rawDecode(bytes: Uint8Array): Promise<Float32Array[]> {
  const pieces: [Float32Array, Float32Array][] = [];
  const total = await decodeMpeg(bytes, (left, right) => pieces.push([left.slice(), right.slice()]));
  const out = [new Float32Array(total), new Float32Array(total)];
  let at = 0;
  for (const [left, right] of pieces) {
    out[0]!.set(left, at);
    out[1]!.set(right, at);
    at += left.length;
  }
  return out;
}

describe('mpg123 driven directly (codecs/mpg123.ts)', () => {
  it('puts out exactly what the package’s public decoder does, stream after stream in one instance', async () => {
    const stereo = await encodeMp3({ sampleRate: 44_100, channels: tones(7.3, 44_100, 2) });
    const mono = await encodeMp3({ sampleRate: 32_000, channels: tones(2.1, 32_000, 1) });
    for (const bytes of [stereo, mono, stereo.subarray(0, 40_000), stereo]) {
      const expected = await publicDecode(bytes);
      const decoded = await rawDecode(bytes);
      expect(decoded[0]!.length).toBe(expected[0]!.length);
      expect(decoded[0]!.length).toBeGreaterThan(0);
      // Bit for bit: each stream starts from a fresh decoder's state although the instance is reused.
      expect(Buffer.from(decoded[0]!.buffer).equals(Buffer.from(expected[0]!.buffer))).toBe(true);
      expect(Buffer.from(decoded[1]!.buffer).equals(Buffer.from(expected[1]!.buffer))).toBe(true);
    }
  });

  it('decodes streams started together one after the other, each whole', async () => {
    const bytes = await encodeMp3({ sampleRate: 44_100, channels: tones(3, 44_100, 2) });
    const [a, b] = await Promise.all([rawDecode(bytes), rawDecode(bytes)]);
    expect(Buffer.from(a[0]!.buffer).equals(Buffer.from(b[0]!.buffer))).toBe(true);
  });

  it('gets through damaged frames without hanging, as the public decoder does', async () => {
    const bytes = await encodeMp3({ sampleRate: 44_100, channels: tones(4, 44_100, 2) });
    const layout = readMp3Layout(bytes)!;
    const damaged = bytes.slice();
    // Noise over a stretch of frames in the middle.
    for (let i = layout.firstFrame + 20_000; i < layout.firstFrame + 26_000; i++) damaged[i] = (i * 7919) & 0xff;
    const expected = await publicDecode(damaged);
    const decoded = await rawDecode(damaged);
    expect(decoded[0]!.length).toBe(expected[0]!.length);
  });
});
