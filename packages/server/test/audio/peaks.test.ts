import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { waveformPeaks } from '../../src/audio/analysis/peaks.js';

const channel = (values: number[]) => Float32Array.from(values);
const samples = fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 0, maxLength: 400 });

describe('waveformPeaks (timestamped lyrics’ waveformData)', () => {
  it('gives one value per stretch, each 0–1, the loudest stretch 1 (property)', () => {
    fc.assert(
      fc.property(samples, samples, fc.integer({ min: 1, max: 50 }), (left, right, points) => {
        const length = Math.min(left.length, right.length);
        const peaks = waveformPeaks([channel(left.slice(0, length)), channel(right.slice(0, length))], points);
        expect(peaks).toHaveLength(Math.min(points, length));
        for (const peak of peaks) expect(peak >= 0 && peak <= 1).toBe(true);
        const loud = left.slice(0, length).some((v) => Math.abs(v) > 0) || right.slice(0, length).some((v) => Math.abs(v) > 0);
        if (peaks.length > 0) expect(Math.max(...peaks)).toBe(loud ? 1 : 0);
      }),
      { numRuns: 300 },
    );
  });

  it('reads the loudest sample of each stretch, in either channel, as a share of the whole', () => {
    expect(waveformPeaks([channel([0, 0.5, 0, 0, -0.25, 0, 0, 0])], 4)).toEqual([1, 0, 0.5, 0]);
    expect(waveformPeaks([channel([0.1, 0, 0, 0]), channel([0, 0, 0, -0.4])], 2)).toEqual([0.25, 1]);
    expect(waveformPeaks([channel([0, 0, 0])], 3)).toEqual([0, 0, 0]);
    expect(waveformPeaks([], 10)).toEqual([]);
  });

  it('does not change with the level of the audio (property)', () => {
    fc.assert(
      // Samples far from the float32 floor: halving a subnormal would round it away, and the level with it.
      fc.property(
        samples.map((values) => values.map((v) => (Math.abs(v) < 1e-30 ? 0 : v))),
        fc.constantFrom(0.5, 0.25, 0.125),
        (values, gain) => {
          const peaks = waveformPeaks([channel(values)], 20);
          const quieter = waveformPeaks([channel(values.map((v) => v * gain))], 20);
          // Halving a normal float is exact, so the shares are equal to the last digit.
          expect(quieter).toEqual(peaks);
        },
      ),
      { numRuns: 200 },
    );
  });
});
