import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gatedLoudness, integratedLoudness, kWeightingFilters, measureLoudness, truePeakDbtp } from '../../../src/audio/analysis/loudness.js';

/** A stereo sine whose peak is `dbfs` (the EBU Tech 3341 test signals are specified by peak level). */
function sine(sampleRate: number, seconds: number, dbfs: number, hz = 1000, phase = 0): Float32Array {
  const amplitude = 10 ** (dbfs / 20);
  return Float32Array.from({ length: Math.round(seconds * sampleRate) }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / sampleRate + phase));
}

const concat = (...parts: Float32Array[]) => {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};

describe('K-weighting', () => {
  it('reproduces the BS.1770 coefficients at 48 kHz', () => {
    const [shelf, highPass] = kWeightingFilters(48_000);
    expect(shelf.b0).toBeCloseTo(1.53512485958697, 10);
    expect(shelf.b1).toBeCloseTo(-2.69169618940638, 10);
    expect(shelf.b2).toBeCloseTo(1.19839281085285, 10);
    expect(shelf.a1).toBeCloseTo(-1.69065929318241, 10);
    expect(shelf.a2).toBeCloseTo(0.73248077421585, 10);
    expect(highPass.a1).toBeCloseTo(-1.99004745483398, 10);
    expect(highPass.a2).toBeCloseTo(0.99007225036621, 10);
  });
});

describe('loudness (EBU Tech 3341 cases)', () => {
  for (const rate of [48_000, 44_100]) {
    it(`1 kHz stereo sine at −23 and −33 dBFS reads −23 and −33 LUFS at ${rate} Hz`, () => {
      for (const level of [-23, -33]) {
        const tone = sine(rate, 20, level);
        const result = measureLoudness([tone, tone], rate);
        expect(result.integratedLufs).toBeCloseTo(level, 1);
        expect(Math.abs(result.integratedLufs - level)).toBeLessThan(0.1);
        // A steady tone: every momentary and short-term value equals the integrated one.
        for (const m of result.momentaryLufs) expect(Math.abs(m - level)).toBeLessThan(0.1);
        for (const s of result.shortTermLufs) expect(Math.abs(s - level)).toBeLessThan(0.1);
        expect(result.shortTermLufs.length).toBe(20 * 10 - 29);
      }
    });
  }

  it('the relative gate ignores quiet passages 13 LU down (case 3)', () => {
    const rate = 48_000;
    const tone = concat(sine(rate, 10, -36), sine(rate, 60, -23), sine(rate, 10, -36));
    expect(Math.abs(integratedLoudness([tone, tone], rate) - -23)).toBeLessThan(0.1);
  });

  it('the absolute gate ignores near-silence (case 4)', () => {
    const rate = 48_000;
    const tone = concat(sine(rate, 10, -72), sine(rate, 10, -36), sine(rate, 60, -23), sine(rate, 10, -36), sine(rate, 10, -72));
    expect(Math.abs(integratedLoudness([tone, tone], rate) - -23)).toBeLessThan(0.1);
  });

  it('gates a block exactly as the standard says', () => {
    // Blocks 15 LU apart: the quiet one lies more than 10 LU under the loudness of both together (−22.9 LUFS), so it is dropped;
    // 12 LU apart it is not (−22.7 − 10 < −32).
    const loud = 10 ** ((-20 + 0.691) / 10);
    const quiet = 10 ** ((-35 + 0.691) / 10);
    const lessQuiet = 10 ** ((-32 + 0.691) / 10);
    expect(gatedLoudness([loud, quiet]).lufs).toBeCloseTo(-20, 6);
    expect(gatedLoudness([loud, quiet]).blocksKept).toBe(1);
    expect(gatedLoudness([loud, lessQuiet]).blocksKept).toBe(2);
    expect(gatedLoudness([0, 0]).lufs).toBe(Number.NEGATIVE_INFINITY);
  });

  it('reads silence as −Infinity with no confidence, and measures a window only', () => {
    const rate = 8000;
    const silent = new Float32Array(rate * 5);
    const result = measureLoudness([silent], rate);
    expect(result.integratedLufs).toBe(Number.NEGATIVE_INFINITY);
    expect(result.confidence).toBe(0);
    const tone = concat(new Float32Array(rate * 5), sine(rate, 5, -20, 500));
    expect(integratedLoudness([tone], rate, 0, rate * 5)).toBe(Number.NEGATIVE_INFINITY);
    expect(integratedLoudness([tone], rate, rate * 5, rate * 10)).toBeGreaterThan(-30);
  });

  it('a gain of g dB shifts the integrated loudness by g dB', () => {
    const rate = 8000;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 }), fc.double({ min: -20, max: 20, noNaN: true }), (seed, gainDb) => {
        // Noise bursts at several levels, all well above the absolute gate even after the gain.
        let state = seed;
        const random = () => {
          state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
          return state / 2 ** 32 - 0.5;
        };
        const signal = Float32Array.from({ length: rate * 4 }, (_, i) => random() * 10 ** (-(10 + (20 * ((Math.floor(i / rate) * 7) % 3)) / 2) / 20));
        const scaled = signal.map((v) => v * 10 ** (gainDb / 20));
        const before = integratedLoudness([signal], rate);
        const after = integratedLoudness([scaled], rate);
        expect(after - before).toBeCloseTo(gainDb, 3);
      }),
      { numRuns: 30 },
    );
  });
});

describe('true peak', () => {
  it('finds the peak between samples that sample peaks miss', () => {
    const rate = 48_000;
    // A sine at a quarter of the rate, sampled 45° off its crests: every sample is at 0.707 of the peak.
    const tone = sine(rate, 1, -6, rate / 4, Math.PI / 4);
    const samplePeak = 20 * Math.log10(Math.max(...tone.map(Math.abs)));
    expect(samplePeak).toBeCloseTo(-9.01, 1);
    expect(Math.abs(truePeakDbtp([tone], rate) - -6)).toBeLessThan(0.3);
    expect(measureLoudness([tone], rate, { truePeak: true }).truePeakDbtp).toBeCloseTo(truePeakDbtp([tone], rate), 9);
    expect(measureLoudness([tone], rate).truePeakDbtp).toBeNull();
  });

  it('agrees with the sample peak for low frequencies', () => {
    const tone = sine(44_100, 0.5, -3, 100);
    expect(Math.abs(truePeakDbtp([tone], 44_100) - -3)).toBeLessThan(0.05);
  });
});
