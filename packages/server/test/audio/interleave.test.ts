import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interleaveStereoInPlace } from '../../src/audio/codecs/interleave.js';

/** Left run then right run, with values that tell every sample apart. */
function planar(frames: number): Float32Array {
  const data = new Float32Array(2 * frames);
  for (let i = 0; i < frames; i++) {
    data[i] = i + 1;
    data[frames + i] = -(i + 1);
  }
  return data;
}

function expectInterleaved(data: Float32Array, frames: number): void {
  for (let i = 0; i < frames; i++) {
    if (data[2 * i] !== i + 1 || data[2 * i + 1] !== -(i + 1)) {
      expect.fail(`frame ${i} of ${frames} holds ${data[2 * i]}, ${data[2 * i + 1]}`);
    }
  }
}

describe('interleaving planar stereo in place', () => {
  // Around the scratch size (65 536 frames) and its multiples, odd and even, where the halving and the odd-length step meet.
  for (const frames of [0, 1, 2, 3, 7, 65_535, 65_536, 65_537, 131_071, 131_073, 262_145, 1_000_003]) {
    it(`interleaves ${frames} frames`, () => {
      const data = planar(frames);
      interleaveStereoInPlace(data, frames);
      expectInterleaved(data, frames);
    });
  }

  it('interleaves any length', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600_000 }), (frames) => {
        const data = planar(frames);
        interleaveStereoInPlace(data, frames);
        expectInterleaved(data, frames);
      }),
      { numRuns: 25 },
    );
  });

  it('refuses an array that is not two runs of the frames', () => {
    expect(() => interleaveStereoInPlace(new Float32Array(5), 2)).toThrow(RangeError);
  });
});
