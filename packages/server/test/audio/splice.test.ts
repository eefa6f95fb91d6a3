import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeWav } from '../../src/audio/codecs/wav.js';
import { applyGain, fadeInOver, loudnessMatchGain, planSeams, rms, seamsAt, splice, spliceInto } from '../../src/audio/mixing/splice.js';
import { planArrangement } from '../../src/audio/synthesis/arrangement.js';
import { renderWindow } from '../../src/audio/synthesis/synth.js';
import { buildWav, tones } from './wav-fixtures.js';

describe('planSeams', () => {
  it('puts the fades outside the range and clamps them to the range and the song', () => {
    expect(planSeams(1000, 100, 300, 50)).toEqual({ start: 100, end: 300, fadeIn: 50, fadeOut: 50, from: 50, to: 350 });
    expect(planSeams(1000, 100, 120, 50)).toMatchObject({ fadeIn: 20, fadeOut: 20 });
    expect(planSeams(1000, 10, 990, 50)).toMatchObject({ fadeIn: 10, fadeOut: 10, from: 0, to: 1000 });
    expect(planSeams(1000, 0, 1000, 50)).toMatchObject({ fadeIn: 0, fadeOut: 0 });
    expect(() => planSeams(1000, 500, 500, 50)).toThrow(RangeError);
    expect(() => planSeams(1000, 900, 1100, 50)).toThrow(RangeError);
  });
});

describe('seamsAt', () => {
  it('takes fades that end before the range and begin after it, and refuses fades that reach into it', () => {
    expect(seamsAt(1000, 100, 300, { in: [20, 80], out: [320, 400] })).toEqual({ start: 100, end: 300, fadeIn: 60, fadeOut: 80, from: 20, to: 400 });
    expect(seamsAt(1000, 100, 300, { in: [50, 100], out: [300, 350] })).toEqual(planSeams(1000, 100, 300, 50));
    expect(() => seamsAt(1000, 100, 300, { in: [50, 101], out: [300, 350] })).toThrow(RangeError);
    expect(() => seamsAt(1000, 100, 300, { in: [50, 100], out: [299, 350] })).toThrow(RangeError);
    expect(() => seamsAt(1000, 100, 300, { in: [50, 100], out: [300, 1001] })).toThrow(RangeError);
  });

  it('plays the new material alone between a placed fade and the range, and crossfades with equal power inside the fades', () => {
    const s = seamsAt(1000, 400, 600, { in: [250, 350], out: [680, 800] }, { in: 'equal-power', out: 'equal-power' });
    const ones = [new Float32Array(1000).fill(1)];
    const faded = splice(ones, [new Float32Array(s.to - s.from)], s)[0]!;
    const fresh = splice([new Float32Array(1000)], [new Float32Array(s.to - s.from).fill(1)], s)[0]!;
    for (let i = 0; i < 1000; i++) expect(faded[i]! ** 2 + fresh[i]! ** 2).toBeCloseTo(1, 5);
    for (let i = 350; i < 680; i++) expect(fresh[i]).toBe(1);
    expect(faded[249]).toBe(1);
    expect(faded[250]!).toBeGreaterThan(0.99);
    expect(faded[349]!).toBeLessThan(0.02);
    expect(faded[680]!).toBeLessThan(0.02);
    expect(faded[799]!).toBeGreaterThan(0.99);
    expect(faded[800]).toBe(1);
  });
});

describe('splice', () => {
  const source = decodeWav(buildWav({ sampleRate: 8000, channels: tones(4, 8000, 2), bits: 16 }));
  const total = source.channels[0]!.length;
  const seams = planSeams(total, 8000, 16_000, 4000);
  const section = tones((seams.to - seams.from) / 8000, 8000, 2, 0.3).map((c) => c.map((v) => -v));

  it('keeps the length and leaves everything outside the fades bit-identical', () => {
    const out = splice(source.channels, section, seams);
    for (let c = 0; c < 2; c++) {
      const before = source.channels[c]!;
      const after = out[c]!;
      expect(after.length).toBe(total);
      expect(Buffer.from(after.buffer, 0, seams.from * 4).equals(Buffer.from(before.buffer, 0, seams.from * 4))).toBe(true);
      expect(Buffer.from(after.buffer, seams.to * 4).equals(Buffer.from(before.buffer, seams.to * 4))).toBe(true);
      // Inside the range, only new material.
      for (let i = seams.start; i < seams.end; i += 97) expect(after[i]).toBe(section[c]![i - seams.from]);
    }
  });

  it('leaves everything outside [start − fade, end + fade] bit-identical for any song, range and fade', () => {
    const song = fc.integer({ min: 2, max: 400 }).chain((frames) =>
      fc.record({
        channels: fc.array(fc.float32Array({ minLength: frames, maxLength: frames }), { minLength: 1, maxLength: 2 }),
        start: fc.integer({ min: 0, max: frames - 1 }),
        length: fc.integer({ min: 1, max: frames }),
        fade: fc.integer({ min: 0, max: 200 }),
      }),
    );
    fc.assert(
      fc.property(song, ({ channels, start, length, fade }) => {
        const total = channels[0]!.length;
        const seams = planSeams(total, start, Math.min(total, start + length), fade);
        const fresh = channels.map(() => new Float32Array(seams.to - seams.from).fill(0.25));
        const out = splice(channels, fresh, seams);
        return out.every((channel, c) => {
          const bytes = (a: Float32Array, from: number, to: number) => Buffer.from(a.buffer, a.byteOffset + from * 4, (to - from) * 4);
          const original = channels[c]!;
          return (
            channel.length === total &&
            bytes(channel, 0, seams.from).equals(bytes(original, 0, seams.from)) &&
            bytes(channel, seams.to, total).equals(bytes(original, seams.to, total))
          );
        });
      }),
      { numRuns: 300 },
    );
  });

  it('crossfades with equal power: the two gains square-sum to one', () => {
    const ones = [new Float32Array(1000).fill(1)];
    const s = planSeams(1000, 400, 600, 100);
    const faded = splice(ones, [new Float32Array(s.to - s.from)], s)[0]!;
    const fresh = splice([new Float32Array(1000)], [new Float32Array(s.to - s.from).fill(1)], s)[0]!;
    for (let i = s.from; i < s.to; i++) expect(faded[i]! ** 2 + fresh[i]! ** 2).toBeCloseTo(1, 5);
    expect(faded[s.from]!).toBeGreaterThan(0.99);
    expect(faded[s.start - 1]!).toBeLessThan(0.02);
    expect(faded[s.end]!).toBeLessThan(0.02);
    expect(faded[s.to - 1]!).toBeGreaterThan(0.99);
  });

  it('does not modify the source', () => {
    const copy = source.channels.map((c) => c.slice());
    splice(source.channels, section, seams);
    expect(source.channels).toEqual(copy);
  });

  it('refuses a section of the wrong shape', () => {
    expect(() => splice(source.channels, [section[0]!], seams)).toThrow(/channels/);
    expect(() =>
      splice(
        source.channels,
        section.map((c) => c.subarray(1)),
        seams,
      ),
    ).toThrow(/frames long/);
  });
});

describe('loudness match', () => {
  it('brings the section to the context level, within ±12 dB and below the ceiling', () => {
    const quiet = [new Float32Array(1000).fill(0.1)];
    expect(loudnessMatchGain(quiet, 0.2)).toBeCloseTo(2, 6);
    const spiky = new Float32Array(1000).fill(0.1);
    spiky[500] = 0.9;
    expect(loudnessMatchGain([spiky], 0.3)).toBeCloseTo(0.98 / 0.9, 6); // the ceiling wins: matching must not clip
    expect(loudnessMatchGain([new Float32Array(1000).fill(0.01)], 10)).toBeCloseTo(10 ** (12 / 20), 6);
    expect(loudnessMatchGain(quiet, 0)).toBeCloseTo(10 ** (-12 / 20), 6);
    expect(loudnessMatchGain([new Float32Array(10)], 0.3)).toBe(1);
    applyGain(quiet, 2);
    expect(rms(quiet)).toBeCloseTo(0.2, 6);
  });
});

/**
 * Extend renders its new music straight into the song it extends and fades it in over the old
 * audio kept aside; the result must be what rendering it apart and splicing it in gives, to the bit.
 */
describe('new music made in the song’s own memory', () => {
  it('fadeInOver gives spliceInto’s fade-in to the bit, for both shapes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 50 }), fc.constantFrom('linear', 'equal-power'), (fade, seed, shape) => {
        const total = fade + 300;
        const source = tones(total / 8000, 8000, 2, 0.7).map((c) => c.map((v, i) => v * Math.cos(i * seed * 0.01)));
        const fresh = [0, 1].map((c) => Float32Array.from({ length: total - 100 }, (_, i) => Math.sin(i * 0.05 * (c + seed))));
        const spliced = source.map((c) => Float32Array.from(c));
        spliceInto(spliced, fresh, seamsAt(total, 100 + fade, total, { in: [100, 100 + fade], out: [total, total] }, { in: shape }));
        const incoming = fresh.map((c) => c.slice(0, fade));
        fadeInOver(
          incoming,
          source.map((c) => c.slice(100, 100 + fade)),
          shape,
        );
        return incoming.every((c, k) => c.every((v, i) => Object.is(v, spliced[k]![100 + i])));
      }),
      { numRuns: 40 },
    );
  });

  it('renderWindow into the caller’s channels writes what it returns on its own', () => {
    const plan = planArrangement({ seed: 'into', texts: ['rock'], form: 'song', durationS: 12 });
    const window = { sampleRate: 16_000, channels: 2, startFrame: 16_000 * 3, frames: 16_000 * 5 };
    const apart = renderWindow(plan, window);
    const song = [new Float32Array(16_000 * 9), new Float32Array(16_000 * 9)];
    const into = song.map((c) => c.subarray(16_000, 16_000 + window.frames));
    const out = renderWindow(plan, window, into);
    expect(out[0]).toBe(into[0]);
    expect(out[1]).toBe(into[1]);
    expect(into).toEqual(apart);
    expect(song[0]!.subarray(0, 16_000).every((v) => v === 0)).toBe(true);
    // A mono window is mixed down into the caller's channel too.
    const monoWindow = { ...window, channels: 1 };
    const monoSong = new Float32Array(16_000 * 9);
    const monoInto = monoSong.subarray(16_000, 16_000 + window.frames);
    expect(renderWindow(plan, monoWindow, [monoInto])[0]).toBe(monoInto);
    expect(monoInto).toEqual(renderWindow(plan, monoWindow)[0]);
  });
});
