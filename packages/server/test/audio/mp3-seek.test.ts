import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeAudio } from '../../src/audio/codecs/decode.js';
import { encodeMp3 } from '../../src/audio/codecs/mp3.js';
import { type Mp3Layout, readMp3Layout } from '../../src/audio/codecs/mp3-frames.js';
import { decodeMp3Window, streamMp3Rest } from '../../src/audio/codecs/mp3-seek.js';
import { tones } from './wav-fixtures.js';

const RATE = 44_100;
const sameBits = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/**
 * An edit that holds only a window of its MP3 source decodes the song up to the window's end
 * once, and the rest from a few frames before the window's end: both must give exactly what
 * decoding the whole file gives.
 */
describe('decoding an MP3 around a window', () => {
  let bytes: Uint8Array;
  let layout: Mp3Layout;
  let whole: Float32Array[];
  beforeAll(async () => {
    bytes = await encodeMp3({ sampleRate: RATE, channels: tones(12.3, RATE, 2, 0.6) }, { bitrate: 192 });
    layout = readMp3Layout(bytes)!;
    whole = (await decodeAudio(bytes)).channels;
  });
  const total = () => whole[0]!.length;

  it('hands over what comes before the window in order, and fills the window, as the whole decode has them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: total() }), fc.integer({ min: 0, max: total() }), async (a, b) => {
        const [w0, w1] = a <= b ? [a, b] : [b, a];
        const song = whole.map(() => new Float32Array(total()));
        const before = whole.map(() => new Float32Array(w0));
        let next = 0;
        const handed = await decodeMp3Window(bytes, layout, w0, w1, song, (piece, at, n) => {
          expect(at).toBe(next);
          for (const [c, data] of piece.entries()) before[c]!.set(data.subarray(0, n), at);
          next = at + n;
        });
        expect(handed).toBe(w0);
        for (const [c, channel] of whole.entries()) {
          expect(sameBits(before[c]!, channel.subarray(0, w0))).toBe(true);
          expect(sameBits(song[c]!.subarray(w0, w1), channel.subarray(w0, w1))).toBe(true);
        }
      }),
      { numRuns: 12 },
    );
  });

  it('decodes the rest from a few frames before it, checked against samples already known, bit for bit', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 20_000, max: total() }), async (from) => {
        const rest = whole.map(() => new Float32Array(total() - from));
        let next = from;
        const result = await streamMp3Rest(bytes, layout, from, { channels: whole, from: from - 10_000 }, (piece, at) => {
          expect(at).toBe(next);
          for (const [c, data] of piece.entries()) rest[c]!.set(data, at - from);
          next = at + piece[0]!.length;
        });
        expect(result).toEqual({ frames: total() - from, decodedFrom: 'pre-roll' });
        for (const [c, channel] of whole.entries()) expect(sameBits(rest[c]!, channel.subarray(from))).toBe(true);
      }),
      { numRuns: 12 },
    );
  });

  it('decodes from the start instead where the known samples disagree, or there are none to check', async () => {
    const from = 300_000;
    const wrong = whole.map((channel) => Float32Array.from(channel, (v) => v + 1e-3));
    for (const known of [
      { channels: wrong, from: from - 10_000 },
      { channels: whole, from },
    ]) {
      const rest = whole.map(() => new Float32Array(total() - from));
      const result = await streamMp3Rest(bytes, layout, from, known, (piece, at) => {
        for (const [c, data] of piece.entries()) rest[c]!.set(data, at - from);
      });
      expect(result).toEqual({ frames: total() - from, decodedFrom: 'start' });
      for (const [c, channel] of whole.entries()) expect(sameBits(rest[c]!, channel.subarray(from))).toBe(true);
    }
  });
});
