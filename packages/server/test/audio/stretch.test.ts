import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { floatWavChannels, inFloatWavLayout } from '../../src/audio/codecs/wav.js';
import { resample } from '../../src/audio/mixing/resample.js';
import { pitchShift, rationalNear, stretchAndShift, timeStretch } from '../../src/audio/mixing/stretch.js';

const RATE = 44_100;

function sine(seconds: number, hz: number, amplitude = 0.5, rate = RATE): Float32Array {
  const out = new Float32Array(Math.round(seconds * rate));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * hz * i) / rate);
  return out;
}

/** Frequency from the upward zero crossings of [from, to), each placed by linear interpolation. */
function zeroCrossingHz(signal: Float32Array, from: number, to: number, rate = RATE): number {
  const crossings: number[] = [];
  for (let i = from + 1; i < to; i++) {
    const a = signal[i - 1]!;
    const b = signal[i]!;
    if (a < 0 && b >= 0) crossings.push(i - 1 + a / (a - b));
  }
  return ((crossings.length - 1) * rate) / (crossings[crossings.length - 1]! - crossings[0]!);
}

/**
 * Share of the signal's energy within ±2 % of the given frequencies (a DFT over [from, to)
 * with a Hann window): how much of a stretched tone is still the tone rather than the
 * sidebands that badly joined frames would add.
 */
function energyNear(signal: Float32Array, from: number, to: number, frequencies: readonly number[], rate = RATE): number {
  const n = to - from;
  let inside = 0;
  let total = 0;
  for (let k = 1; k < n / 2 && (k * rate) / n < 2000; k++) {
    let re = 0;
    let im = 0;
    for (let i = 0; i < n; i++) {
      const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
      const v = signal[from + i]! * w;
      re += v * Math.cos((2 * Math.PI * k * i) / n);
      im -= v * Math.sin((2 * Math.PI * k * i) / n);
    }
    const power = re * re + im * im;
    total += power;
    const hz = (k * rate) / n;
    if (frequencies.some((f) => Math.abs(hz - f) <= 0.02 * f)) inside += power;
  }
  return inside / total;
}

/** Onsets of a click train: the first sample of each burst whose magnitude passes `threshold`, 50 ms apart at least. */
function clickOnsets(signal: Float32Array, threshold: number, rate = RATE): number[] {
  const onsets: number[] = [];
  let last = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < signal.length; i++) {
    if (Math.abs(signal[i]!) >= threshold && i - last > 0.05 * rate) {
      onsets.push(i / rate);
      last = i;
    } else if (Math.abs(signal[i]!) >= threshold) last = i;
  }
  return onsets;
}

describe('time-stretch (WSOLA)', () => {
  it('stretches a 440 Hz tone ×1.25 to exactly 1.25 × its length, still at 440 Hz and still a clean tone', () => {
    const tone = sine(2, 440);
    const [out] = timeStretch([tone], RATE, 1.25);
    expect(out!.length).toBe(Math.round(tone.length * 1.25));
    const hz = zeroCrossingHz(out!, RATE / 4, out!.length - RATE / 4);
    expect(Math.abs(hz / 440 - 1)).toBeLessThan(0.01);
    expect(energyNear(out!, RATE, RATE + 8192, [440])).toBeGreaterThan(0.98);
    // No dips where frames join: the level holds within ±1 dB over every 10 ms.
    const block = RATE / 100;
    for (let from = block; from + block < out!.length - block; from += block) {
      let sum = 0;
      for (let i = from; i < from + block; i++) sum += out![i]! ** 2;
      const db = 10 * Math.log10(sum / block / 0.125);
      expect(Math.abs(db)).toBeLessThan(1);
    }
  });

  it('keeps a chord a chord when shortening (×0.8)', () => {
    const chord = sine(2, 261.63, 0.25);
    const third = sine(2, 329.63, 0.25);
    const fifth = sine(2, 392, 0.25);
    for (let i = 0; i < chord.length; i++) chord[i]! += third[i]! + fifth[i]!;
    const [out] = timeStretch([chord], RATE, 0.8);
    expect(out!.length).toBe(Math.round(chord.length * 0.8));
    expect(energyNear(out!, RATE / 2, RATE / 2 + 8192, [261.63, 329.63, 392])).toBeGreaterThan(0.95);
  });

  // WSOLA keeps time unstretched inside a run of continued frames, so an event can be off its
  // scaled time by up to about (ratio − 1) × a frame plus the search tolerance; measured: ≤ 11.3 ms.
  it('moves the onsets of a click train to the scaled times (±15 ms), each once', () => {
    const train = new Float32Array(3 * RATE);
    const times = [0.25, 0.7, 1.13, 1.6, 2.05, 2.5];
    for (const t of times) {
      const at = Math.round(t * RATE);
      for (let i = 0; i < 88; i++) train[at + i] = 0.5 * Math.exp(-i / 20) * (Math.sin(i * 0.43) + Math.sin(i * 0.021));
    }
    for (const ratio of [1.25, 0.8]) {
      const [out] = timeStretch([train, train], RATE, ratio);
      const found = clickOnsets(out!, 0.15);
      expect(found.length).toBe(times.length);
      for (const [i, t] of times.entries()) expect(Math.abs(found[i]! - t * ratio)).toBeLessThan(0.015);
    }
  });

  it('is the identity at ratio 1 and handles stereo consistently', () => {
    const left = sine(0.5, 300);
    const right = sine(0.5, 500);
    const [l1, r1] = timeStretch([left, right], RATE, 1);
    expect(Array.from(l1!)).toEqual(Array.from(left));
    const [l2, r2] = timeStretch([left, right], RATE, 1.1);
    expect(l2!.length).toBe(r2!.length);
    expect(Math.abs(zeroCrossingHz(r2!, 2000, r2!.length - 2000) / 500 - 1)).toBeLessThan(0.01);
    expect(r1!.length).toBe(right.length);
  });
});

describe('pitch-shift', () => {
  it('moves 440 Hz up 3 semitones to 523.3 Hz at the same length', () => {
    const tone = sine(1.5, 440);
    const [out] = pitchShift([tone], RATE, 3);
    expect(out!.length).toBe(tone.length);
    const hz = zeroCrossingHz(out!, RATE / 4, out!.length - RATE / 4);
    expect(Math.abs(hz / 523.25 - 1)).toBeLessThan(0.01);
    expect(energyNear(out!, RATE / 2, RATE / 2 + 8192, [523.25])).toBeGreaterThan(0.97);
  });

  it('shifts down and stretches in one pass', () => {
    const tone = sine(1.5, 440);
    const [out] = stretchAndShift([tone], RATE, { ratio: 1.1, semitones: -5 });
    expect(out!.length).toBe(Math.round(tone.length * 1.1));
    const hz = zeroCrossingHz(out!, RATE / 4, out!.length - RATE / 4);
    expect(Math.abs(hz / (440 * 2 ** (-5 / 12)) - 1)).toBeLessThan(0.01);
  });

  it('approximates the pitch factor by a small fraction, well within a cent', () => {
    for (let s = -6; s <= 6; s++) {
      const x = 2 ** (s / 12);
      const { p, q } = rationalNear(x);
      expect(q).toBeLessThanOrEqual(1024);
      expect(Math.abs(1200 * Math.log2(p / q / x))).toBeLessThan(0.05);
    }
  });
});

describe('stretch and shift, channel by channel into the caller’s arrays', () => {
  it('equals stretching both channels, resampling both and cutting or padding to length, bit for bit', () => {
    const cases = fc.record({
      seconds: fc.double({ min: 0.05, max: 0.6, noNaN: true }),
      ratio: fc.double({ min: 0.8, max: 1.3, noNaN: true }),
      semitones: fc.integer({ min: -6, max: 5 }),
      seed: fc.integer({ min: 1, max: 1000 }),
    });
    fc.assert(
      fc.property(cases, ({ seconds, ratio, semitones, seed }) => {
        const channels = [0, 1].map((c) => sine(seconds, 180 + 37 * c + seed / 10, 0.4).map((v, i) => v + 0.1 * Math.sin(i * seed * 0.001)));
        const length = Math.round(channels[0]!.length * ratio);
        const { p, q } = rationalNear(2 ** (semitones / 12));
        const reference =
          semitones === 0
            ? timeStretch(channels, RATE, ratio)
            : resample(timeStretch(channels, RATE, (ratio * p) / q), p, q).map((channel) => {
                const out = new Float32Array(length);
                out.set(channel.subarray(0, Math.min(length, channel.length)));
                return out;
              });
        const made = stretchAndShift(channels, RATE, { ratio, semitones }, floatWavChannels);
        expect(inFloatWavLayout(made)).toBe(true);
        return made.every((channel, c) => channel.length === length && channel.every((v, i) => Object.is(v, reference[c]![i])));
      }),
      { numRuns: 25 },
    );
  });
});
